// RolloutRunner::Rollback: an operator's rollback of a certificate to an
// earlier version, through the same controller and waves as a rollout (or
// all at once when expedited).
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/rollout/runner/fleet_view.h"
#include "coordinator/rollout/runner/rollout_runner.h"
#include "coordinator/store/version_id.h"

namespace certfleet::rollout {

absl::StatusOr<store::RolloutRecord> RolloutRunner::Rollback(
    const std::string& certificate, int64_t to_version, bool expedite,
    const std::string& actor) {
  absl::MutexLock step(&step_mu_);
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(std::optional<store::RolloutRecord> active,
                   store_.ActiveRollout(certificate));

  // From: what the fleet is moving to, or serves most.
  std::string from;
  if (active.has_value()) {
    from = active->to_version;
  } else {
    ASSIGN_OR_RETURN(rollout::FleetSnapshot fleet,
                     BuildFleetSnapshot(store_, assignments_, certificate,
                                        PolicyFor(certificate), Presence()));
    from = MostServedVersion(fleet, certificate,
                             std::numeric_limits<int64_t>::max());
  }
  if (from.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no target serves a version of ", certificate,
                     " yet: there is nothing to roll back"));
  }
  ASSIGN_OR_RETURN(auto from_parts, store::ParseVersionId(from));

  // To: the named version, or the previous one.
  std::optional<store::VersionRecord> to;
  if (to_version > 0) {
    ASSIGN_OR_RETURN(to, store_.GetVersion(certificate, to_version));
    if (!to.has_value()) {
      // Never issued, or pruned by retention once long expired.
      return absl::NotFoundError(absl::StrCat(
          "certificate ", certificate, " has no version ", to_version,
          " (`certfleetctl versions` lists those kept; expired versions are "
          "deleted after retention.expired_versions)"));
    }
  } else if (active.has_value() && !active->from_version.empty()) {
    ASSIGN_OR_RETURN(auto parts, store::ParseVersionId(active->from_version));
    ASSIGN_OR_RETURN(to, store_.GetVersion(certificate, parts.second));
  } else {
    ASSIGN_OR_RETURN(std::vector<store::VersionRecord> versions,
                     store_.ListVersions(certificate));  // newest first
    for (store::VersionRecord& v : versions) {
      if (v.version < from_parts.second) {
        to = std::move(v);
        break;
      }
    }
  }
  if (!to.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", certificate, " has no version before ",
                     from, " to roll back to (name one with --to)"));
  }
  const std::string to_id = store::VersionId(certificate, to->version);
  if (to_id == from) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the fleet already serves ", from, ": there is nothing to roll back"));
  }

  absl::StatusOr<rollout::RolloutController> controller =
      rollout::RolloutController::Start(
          {.certificate = certificate,
           .kind = rollout::RolloutKind::kRollback,
           .from_version = from,
           .to = VersionInfoOf(*to),
           .expedite = expedite,
           .requested_by = actor},
          now);
  if (!controller.ok()) {
    // The fleet stays where it is (an active rollout goes on).
    Audit(certificate, "rollout.refused", absl::StrCat(from, " -> ", to_id),
          std::string(controller.status().message()), now, actor);
    return controller.status();
  }
  if (active.has_value()) {
    RETURN_IF_ERROR(Supersede(*active, absl::StrCat("a rollback to ", to_id)));
    // Deliveries the aborted rollout has in flight are called back: the
    // rollback judges each host by what it reports, and a host still
    // installing the abandoned version would otherwise end up on it.
    ASSIGN_OR_RETURN(rollout::RolloutState aborted,
                     rollout::RolloutStateFromJson(active->state_json));
    std::vector<rollout::DeliverAction> recalls;
    for (const rollout::HostRecord& h : aborted.hosts) {
      if (h.state != rollout::HostState::kChanging ||
          aborted.from_version.empty()) {
        continue;
      }
      recalls.push_back({.agent_id = h.agent_id,
                         .target = h.target,
                         .version_id = aborted.from_version,
                         .revert = true});
    }
    Deliver(recalls);
  }
  // The controller decides for every target from now on.
  Hold(certificate, "");
  return CreateAndStep(*controller, now);
}

}  // namespace certfleet::rollout
