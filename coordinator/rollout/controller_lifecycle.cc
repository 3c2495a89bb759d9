// RolloutController's lifecycle: starting a rollout (and refusing versions
// that cannot be served), restoring one, and the operator's pause, resume,
// abort and skip. The step logic is in controller.cc; same class.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/rfc3339.h"
#include "common/status_macros.h"
#include "coordinator/rollout/controller.h"
#include "coordinator/rollout/host_tracker.h"
#include "coordinator/rollout/skipped_hosts.h"

namespace certfleet::rollout {
namespace {

std::string Where(const RolloutState& s) {
  const Phase phase = s.phase == Phase::kPaused ? s.paused_from : s.phase;
  if (s.wave < 0) return std::string(PhaseName(phase));
  return absl::StrCat("wave ", s.wave + 1, " (", PhaseName(phase), ")");
}

std::string By(absl::string_view by) {
  return by.empty() ? std::string() : absl::StrCat(" by ", by);
}

absl::Status NotWhileFinished(const RolloutState& s, absl::string_view verb) {
  return absl::FailedPreconditionError(absl::StrCat(
      "the ", RolloutKindName(s.kind), " of ", s.certificate, " to ",
      s.to_version, " is ", PhaseName(s.phase), " (since ",
      FormatRfc3339(s.finished_at), "); there is nothing to ", verb));
}

}  // namespace

absl::Status CheckDeployable(const VersionInfo& version,
                             absl::string_view certificate, RolloutKind kind,
                             absl::Time now) {
  const std::string refused = absl::StrCat(
      "cannot ", kind == RolloutKind::kRollback ? "roll back " : "roll out ",
      certificate, kind == RolloutKind::kRollback ? " to " : " version ",
      version.id, ": it ");
  const std::string advice = absl::StrCat(
      "; choose a version that is still valid (certfleetctl versions ",
      certificate, ")");
  if (version.revoked_at != absl::InfinitePast() && version.revoked_at <= now) {
    return absl::FailedPreconditionError(absl::StrCat(
        refused, "was revoked at ", FormatRfc3339(version.revoked_at),
        version.revocation_reason.empty()
            ? std::string()
            : absl::StrCat(" (", version.revocation_reason, ")"),
        advice));
  }
  if (version.not_after <= now) {
    return absl::FailedPreconditionError(absl::StrCat(
        refused, "expired at ", FormatRfc3339(version.not_after), advice));
  }
  if (version.not_before > now) {
    return absl::FailedPreconditionError(
        absl::StrCat(refused, "is not valid before ",
                     FormatRfc3339(version.not_before), advice));
  }
  return absl::OkStatus();
}

absl::StatusOr<RolloutController> RolloutController::Start(
    const RolloutRequest& request, absl::Time now) {
  if (request.certificate.empty()) {
    return absl::InvalidArgumentError("rollout request: certificate is empty");
  }
  if (request.to.id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rollout request for ", request.certificate,
                     ": the version to move to is empty"));
  }
  RETURN_IF_ERROR(
      CheckDeployable(request.to, request.certificate, request.kind, now));
  RolloutState s;
  s.certificate = request.certificate;
  s.kind = request.kind;
  s.from_version = request.from_version;
  s.to_version = request.to.id;
  s.expedite = request.expedite;
  s.requested_by = request.requested_by;
  s.created_at = now;
  s.updated_at = now;
  return RolloutController(std::move(s));
}

absl::StatusOr<RolloutController> RolloutController::Restore(
    absl::string_view json) {
  ASSIGN_OR_RETURN(RolloutState state, RolloutStateFromJson(json));
  return RolloutController(std::move(state));
}

absl::StatusOr<StepResult> RolloutController::Pause(absl::Time now,
                                                    absl::string_view by) {
  if (IsFinished(state_.phase)) return NotWhileFinished(state_, "pause");
  if (state_.phase == Phase::kPaused) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", RolloutKindName(state_.kind), " of ", state_.certificate,
        " is already paused (since ", FormatRfc3339(state_.paused_at), ")"));
  }
  if (state_.phase == Phase::kHalted) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", RolloutKindName(state_.kind), " of ", state_.certificate,
        " is halted (", state_.halt_reason,
        ") and reverting its hosts; a revert cannot be paused (abort stops "
        "watching it)"));
  }
  StepResult out;
  const int changing = static_cast<int>(std::count_if(
      state_.hosts.begin(), state_.hosts.end(),
      [](const HostRecord& h) { return h.state == HostState::kChanging; }));
  state_.paused_from = state_.phase;
  state_.phase = Phase::kPaused;
  state_.paused_at = now;
  state_.updated_at = now;
  state_.waiting_for_window = false;
  state_.window_opens_at = absl::InfinitePast();
  out.state_changed = true;
  out.events.push_back(
      {RolloutEvent::Kind::kPaused, now, state_.wave,
       absl::StrCat("the ", RolloutKindName(state_.kind), " of ",
                    state_.certificate, " to ", state_.to_version,
                    " was paused", By(by), " in ", Where(state_), "; ",
                    changing, " host", changing == 1 ? "" : "s",
                    " changing still watched (failures still halt it)")});
  return out;
}

absl::StatusOr<StepResult> RolloutController::Resume(absl::Time now,
                                                     absl::string_view by) {
  if (state_.phase != Phase::kPaused) {
    if (IsFinished(state_.phase)) return NotWhileFinished(state_, "resume");
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", RolloutKindName(state_.kind), " of ", state_.certificate,
        " is not paused (it is ", PhaseName(state_.phase), ")"));
  }
  StepResult out;
  state_.phase = state_.paused_from;
  state_.paused_at = absl::InfinitePast();
  state_.updated_at = now;
  out.state_changed = true;
  out.events.push_back(
      {RolloutEvent::Kind::kResumed, now, state_.wave,
       absl::StrCat("the ", RolloutKindName(state_.kind), " of ",
                    state_.certificate, " to ", state_.to_version,
                    " was resumed", By(by), " in ", Where(state_))});
  return out;
}

absl::StatusOr<StepResult> RolloutController::Abort(absl::Time now,
                                                    absl::string_view by) {
  if (IsFinished(state_.phase)) return NotWhileFinished(state_, "abort");
  StepResult out;
  const std::string where = Where(state_);
  int on_new = 0, changing = 0, not_moved = 0, failed = 0;
  for (HostRecord& h : state_.hosts) {
    if (h.state == HostState::kWaiting) {
      h.state = HostState::kQueued;  // never delivered to
      h.wave = -1;
    }
    if (!h.failure.empty()) {
      ++failed;
    } else if (h.state == HostState::kHealthy ||
               h.state == HostState::kUnchanged) {
      ++on_new;
    } else if (h.state == HostState::kChanging) {
      ++changing;
    } else {
      ++not_moved;
    }
  }
  state_.phase = Phase::kAborted;
  state_.finished_at = now;
  state_.updated_at = now;
  state_.waiting_for_window = false;
  state_.window_opens_at = absl::InfinitePast();
  state_.offline_waiting.clear();
  out.state_changed = true;
  out.events.push_back(
      {RolloutEvent::Kind::kAborted, now, state_.wave,
       absl::StrCat("the ", RolloutKindName(state_.kind), " of ",
                    state_.certificate, " to ", state_.to_version,
                    " was aborted", By(by), " in ", where, ": ", on_new, " on ",
                    state_.to_version, ", ", changing, " changing, ", failed,
                    " failed, ", not_moved,
                    " not moved; nothing is reverted (to go back: "
                    "certfleetctl rollback ",
                    state_.certificate, ")")});
  return out;
}

absl::StatusOr<StepResult> RolloutController::Skip(const std::string& agent_id,
                                                   absl::Time now,
                                                   absl::string_view by) {
  if (IsFinished(state_.phase)) return NotWhileFinished(state_, "skip");
  StepResult out;
  ASSIGN_OR_RETURN(int skipped,
                   SkipAgent(state_, agent_id, std::string(by), now, out));
  (void)skipped;
  state_.updated_at = now;
  out.state_changed = true;
  return out;
}

}  // namespace certfleet::rollout
