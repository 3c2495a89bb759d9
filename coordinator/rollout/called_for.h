// What a stored rollout state calls for: the version each of its targets
// should be told to serve. The runner saves a step's state (fenced on its
// leadership) before it delivers, so a crash or a deposition between the
// two leaves a state whose deliveries never went out; the next leader
// compares this with what the store says each target should serve and
// sends the difference. Every delivery thus follows the stored state, never
// a decision that was not saved.
//
//   for (const DeliverAction& d : CalledFor(record_state)) {
//     if (desired_of(d.agent_id, d.target) != d.version_id) Deliver(d);
//   }
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_CALLED_FOR_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_CALLED_FOR_H_

#include <vector>

#include "coordinator/rollout/rollout_events.h"
#include "coordinator/rollout/rollout_state.h"

namespace certfleet::rollout {

// One action per target the state has moved: to_version for those
// delivered to (changing, healthy) and, once complete, for skipped ones
// (not removed); from_version, as a revert, for those sent back (reverting,
// reverted, and skipped hosts a halt reverted). Queued, waiting, unchanged,
// failed and removed targets are left where they are: nothing.
std::vector<DeliverAction> CalledFor(const RolloutState& state);

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_CALLED_FOR_H_
