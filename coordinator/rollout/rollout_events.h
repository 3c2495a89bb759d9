// What one step of the rollout controller asks the coordinator to do
// (deliveries) and tells the operator (events, for `rollout status --watch`
// and the audit log). Plain values: the controller computes them, the
// caller carries them out.
//
//   for (const DeliverAction& d : result.deliveries) {
//     RETURN_IF_ERROR(hub.SetDesired(d.agent_id, d.target, d.version_id));
//   }
//   for (const RolloutEvent& e : result.events) audit.Record(e);
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_ROLLOUT_EVENTS_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_ROLLOUT_EVENTS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::rollout {

// Make `target` of `agent_id` serve `version_id` ("<certificate>/<n>").
// Idempotent: delivering a version a target already has changes nothing,
// so a step repeated after a crash is harmless.
struct DeliverAction {
  std::string agent_id;
  std::string target;
  std::string version_id;
  // Back to the rollout's from_version, after a failure or a halt (these go
  // out at once: not limited by max_unavailable, windows or offline agents,
  // which receive the version when they reconnect).
  bool revert = false;

  bool operator==(const DeliverAction&) const = default;
};

// Something an operator should see; each happens once, when the state
// changes (a rollout waiting for a window says so once, not every step).
struct RolloutEvent {
  enum class Kind {
    kStarted,           // the first wave began
    kWaveStarted,       // hosts chosen for wave k
    kWaveHealthy,       // every host of wave k healthy (or failed, below
                        // the threshold)
    kBakeStarted,       // watching wave k for bake_time
    kBakeRestarted,     // a failure during the bake: it starts over
    kHostFailed,        // rejected, unhealthy past health_timeout, or
                        // unhealthy after being healthy
    kHalted,            // failure threshold reached; reverting
    kRevertRejected,    // an agent rejected the revert
    kRolledBack,        // every revert confirmed
    kComplete,          // every host healthy on the new version
    kWaitingForWindow,  // outside the maintenance windows, until a time
    kWindowOpen,        // a window opened; moving again
    kUrgent,            // the served version expires soon: windows ignored
    kOfflineHosts,      // the wave waits for offline hosts (named)
    kHostJoined,        // a new target of the certificate
    kHostLeft,          // a target that was not delivered to went away, or
                        // its agent was removed
    kHostSkipped,       // no longer waited for: stale, disabled, removed, or
                        // skipped by an operator
    kHostReturned,      // a stale or disabled host is back: queued again
    kPaused,
    kResumed,
    kAborted,
  };

  Kind kind = Kind::kStarted;
  absl::Time at = absl::InfinitePast();
  int wave = -1;  // 0-based; -1 when not about a wave
  // One line for people, naming the certificate's hosts and versions.
  std::string message;

  bool operator==(const RolloutEvent&) const = default;
};

// The outcome of one controller step (or operator action). The caller
// carries out `deliveries`, then persists the state when `state_changed`,
// then records `events`.
struct StepResult {
  std::vector<DeliverAction> deliveries;
  std::vector<RolloutEvent> events;
  bool state_changed = false;
};

// "started", "wave_started", "wave_healthy", … (snake_case of the kind).
absl::string_view EventKindName(RolloutEvent::Kind kind);

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_ROLLOUT_EVENTS_H_
