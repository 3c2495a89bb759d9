// RolloutRunner::Skip: an operator stops the active rollout of a
// certificate waiting for one agent (`certfleetctl rollout skip`), saved
// like the other operator actions and stepped at once so the wave it held
// moves on.
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/rollouts/rollout_runner.h"

namespace certfleet::rollouts {

absl::StatusOr<store::RolloutRecord> RolloutRunner::Skip(
    const std::string& certificate, const std::string& agent_id,
    const std::string& actor) {
  {
    absl::MutexLock step(&step_mu_);
    bool saved = false;
    for (int attempt = 0; attempt < kSaveAttempts && !saved; ++attempt) {
      ASSIGN_OR_RETURN(std::optional<store::RolloutRecord> active,
                       store_.ActiveRollout(certificate));
      if (!active.has_value()) {
        return absl::FailedPreconditionError(
            absl::StrCat("no rollout of ", certificate, " is in progress"));
      }
      ASSIGN_OR_RETURN(rollout::RolloutController c,
                       rollout::RolloutController::Restore(active->state_json));
      absl::StatusOr<rollout::StepResult> r =
          c.Skip(agent_id, clock_.Now(), actor);
      if (!r.ok()) {
        return Annotate(r.status(), absl::StrCat("rollout ", active->id));
      }
      absl::Status s = Save(*active, c.state());
      if (s.code() == absl::StatusCode::kAborted) continue;  // a step won
      RETURN_IF_ERROR(s);
      AuditEvents(certificate, r->events,
                  absl::StrCat(" (rollout ", active->id, ")"), actor);
      saved = true;
    }
    if (!saved) {
      return absl::AbortedError(
          absl::StrCat("certificate ", certificate,
                       ": its rollout was saved by another writer ",
                       kSaveAttempts, " times in a row; try again"));
    }
  }
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

}  // namespace certfleet::rollouts
