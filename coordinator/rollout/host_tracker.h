// How the rollout controller keeps its per-host records in line with the
// fleet: which targets joined or left, which are online, and what became of
// each delivery (healthy, rejected, timed out, unhealthy later, reverted).
// Pure functions over a RolloutState and a FleetSnapshot.
//
//   SyncHosts(state, fleet, now, out);
//   int failures = ObserveOutcomes(state, fleet, policy, threshold, now, out);
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_HOST_TRACKER_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_HOST_TRACKER_H_

#include <string>

#include "absl/time/time.h"
#include "coordinator/rollout/fleet_snapshot.h"
#include "coordinator/rollout/rollout_events.h"
#include "coordinator/rollout/rollout_state.h"
#include "coordinator/rollout/wave_plan.h"

namespace certfleet::rollout {

// Updates every record's online flag, last report and pool from `fleet`.
// While the rollout is active (not halted or finished): a target new to the
// snapshot joins (kUnchanged when it already serves to_version, else
// kQueued); a target gone from it leaves when nothing was delivered to it
// yet (a delivered one stays, seen as offline). Keeps state.hosts ordered
// by pool, agent id, target. Events for joins and leaves once a wave has
// started.
void SyncHosts(RolloutState& state, const FleetSnapshot& fleet, absl::Time now,
               StepResult& out);

// Judges the deliveries in flight:
// - changing → healthy when it reports to_version and healthy;
// - changing → failed when it reports the delivery of to_version rejected
//   (reported after the delivery), or is not healthy on to_version within
//   health_timeout of the delivery;
// - healthy → failed when, online, it reports unhealthy or another version
//   (while the rollout is delivering, baking or paused);
// - reverting → reverted when it reports from_version; a rejected revert is
//   recorded and reported once.
// A failed host is sent back to from_version at once (RevertHost). Returns
// how many hosts failed in this call. `threshold` only words the events.
int ObserveOutcomes(RolloutState& state, const FleetSnapshot& fleet,
                    const EffectivePolicy& policy, int threshold,
                    absl::Time now, StepResult& out);

// Delivers from_version to `host` again (kReverting) — or, when the rollout
// has no from_version, leaves it where it is and marks it kFailed if it
// failed (kChanging/kHealthy hosts stay as they are).
void RevertHost(const RolloutState& state, HostRecord& host, absl::Time now,
                StepResult& out);

// How a host looks in a message: "serves web/2, unhealthy, offline since
// 2030-01-01T00:00:00Z".
std::string DescribeHost(const HostRecord& host, const FleetSnapshot& fleet);

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_HOST_TRACKER_H_
