#include "coordinator/rollout/rollout_events.h"

namespace certfleet::rollout {

absl::string_view EventKindName(RolloutEvent::Kind kind) {
  using Kind = RolloutEvent::Kind;
  switch (kind) {
    case Kind::kStarted:
      return "started";
    case Kind::kWaveStarted:
      return "wave_started";
    case Kind::kWaveHealthy:
      return "wave_healthy";
    case Kind::kBakeStarted:
      return "bake_started";
    case Kind::kBakeRestarted:
      return "bake_restarted";
    case Kind::kHostFailed:
      return "host_failed";
    case Kind::kHalted:
      return "halted";
    case Kind::kRevertRejected:
      return "revert_rejected";
    case Kind::kRolledBack:
      return "rolled_back";
    case Kind::kComplete:
      return "complete";
    case Kind::kWaitingForWindow:
      return "waiting_for_window";
    case Kind::kWindowOpen:
      return "window_open";
    case Kind::kUrgent:
      return "urgent";
    case Kind::kOfflineHosts:
      return "offline_hosts";
    case Kind::kHostJoined:
      return "host_joined";
    case Kind::kHostLeft:
      return "host_left";
    case Kind::kHostSkipped:
      return "host_skipped";
    case Kind::kHostReturned:
      return "host_returned";
    case Kind::kPaused:
      return "paused";
    case Kind::kResumed:
      return "resumed";
    case Kind::kAborted:
      return "aborted";
  }
  return "?";
}

}  // namespace certfleet::rollout
