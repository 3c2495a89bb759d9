// The hosts a rollout does not wait for: a stale host (not connected for
// agents.stale_after), a disabled one, a removed one, or one an operator
// skipped (`certfleetctl rollout skip`). None of them counts as failed and
// none keeps a wave — or the rollout — from finishing. A stale or disabled
// host that comes back while the rollout runs is queued again and moved
// like any other; whatever the rollout reaches, a skipped host is sent when
// it ends (Complete: the new version; halted: back to the previous one if
// the new one had reached it), applied when the host reconnects. Pure
// functions over a RolloutState, like host_tracker.h.
//
//   SyncHosts(state, fleet, now, out);
//   SkipUnreachable(state, fleet, now, out);
//   ...
//   ASSIGN_OR_RETURN(int n, SkipAgent(state, "agt-0a1b2c3d4e5f", "admin:bob",
//                                     now, out));
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_SKIPPED_HOSTS_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_SKIPPED_HOSTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/rollout/fleet_snapshot.h"
#include "coordinator/rollout/rollout_events.h"
#include "coordinator/rollout/rollout_state.h"

namespace certfleet::rollout {

// Marks `host`, whose agent was removed, kSkipped (kSkipRemoved) unless it
// has finished with the rollout (healthy, failed, reverted) or is already
// skipped as removed; a removed host is never queued again.
void SkipRemoved(const RolloutState& state, HostRecord& host, absl::Time now,
                 StepResult& out);

// After SyncHosts: a stale or disabled host that the rollout would wait for
// — queued, waiting or changing while the rollout is active, reverting at
// any time — is skipped, with an event; a host skipped as stale or disabled
// that is neither any more is queued again while the rollout is active.
void SkipUnreachable(RolloutState& state, const FleetSnapshot& fleet,
                     absl::Time now, StepResult& out);

// The operator's skip of every target of `agent_id` that the rollout would
// wait for (queued, waiting, changing, reverting): kSkipped, kSkipOperator,
// skipped_by `by`, one event each. Returns how many were skipped.
// kNotFound when the agent has no target in the rollout;
// kFailedPrecondition naming the targets' states when none is waited for.
absl::StatusOr<int> SkipAgent(RolloutState& state, const std::string& agent_id,
                              const std::string& by, absl::Time now,
                              StepResult& out);

// The rollout completed: every skipped host (except removed ones) is sent
// to_version, applied when it reconnects.
void DeliverToSkipped(const RolloutState& state, StepResult& out);

// The rollout halted: a skipped host that was delivered to_version before
// it was skipped is sent from_version (when there is one).
void RevertSkipped(RolloutState& state, absl::Time now, StepResult& out);

// How many hosts are skipped.
int SkippedCount(const RolloutState& state);

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_SKIPPED_HOSTS_H_
