// RolloutRunner::Skip: an operator stops the active rollout of a
// certificate waiting for one agent (`certfleetctl rollout skip`), saved
// like the other operator actions and stepped at once so the wave it held
// moves on.
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/rollout/runner/rollout_runner.h"

namespace certfleet::rollout {

absl::StatusOr<store::RolloutRecord> RolloutRunner::Skip(
    const std::string& certificate, const std::string& agent_id,
    const std::string& actor) {
  RETURN_IF_ERROR(
      ChangeActive(certificate, actor,
                   [&](rollout::RolloutController& c, absl::Time now) {
                     return c.Skip(agent_id, now, actor);
                   })
          .status());
  // A wave the host held moves on now, not at the next tick.
  if (absl::Status s = StepAll(); !s.ok()) {
    CF_LOG_WARN("rollouts: step after skipping %s failed: %s", agent_id,
                s.ToString());
  }
  ASSIGN_OR_RETURN(
      std::vector<store::RolloutRecord> latest,
      store_.ListRollouts({.certificate = certificate, .limit = 1}));
  if (latest.empty()) {
    return absl::InternalError(
        absl::StrCat("the rollout of ", certificate, " vanished"));
  }
  return latest.front();
}

}  // namespace certfleet::rollout
