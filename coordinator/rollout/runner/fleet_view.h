// What the rollout controller sees of one certificate's fleet, read from the
// store (target states, agent labels and statuses, versions) and the hub
// (who is connected, who is stale), and which version that fleet serves
// most.
//
//   ASSIGN_OR_RETURN(rollout::FleetSnapshot fleet,
//                    BuildFleetSnapshot(store, assignments, "web", policy,
//                                       {.connected = hub.ConnectedAgents(),
//                                        .staleness = &staleness,
//                                        .now = clock.Now()}));
//   std::string from = MostServedVersion(fleet, "web", /*below=*/3);
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_RUNNER_FLEET_VIEW_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_RUNNER_FLEET_VIEW_H_

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/delivery/staleness.h"
#include "coordinator/rollout/controller.h"
#include "coordinator/rollout/fleet_snapshot.h"
#include "coordinator/rollout/policy.h"
#include "coordinator/store/store.h"

namespace certfleet::rollout {

// What the controller needs to know of a stored version.
rollout::VersionInfo VersionInfoOf(const store::VersionRecord& v);

// Who is connected now, and how the others are judged stale.
struct AgentPresence {
  std::set<std::string> connected;
  // Null: nobody is stale.
  const delivery::Staleness* staleness = nullptr;
  absl::Time now = absl::InfinitePast();
};

// Every stored target state of an enrolled agent that `certificate` is
// assigned to (by the agent's labels and the target's name), with its pool
// (the agent's value of policy.pool_label), whether the agent is connected,
// stale, disabled or removed, and what it last reported (updated_at as
// last_report_at). earliest_served_not_after is the earliest not_after of
// the certificate's versions the hosts (but removed ones) serve. The
// store's errors, annotated.
absl::StatusOr<rollout::FleetSnapshot> BuildFleetSnapshot(
    store::Store& store, const delivery::Assignments& assignments,
    const std::string& certificate, const rollout::RolloutPolicy& policy,
    const AgentPresence& presence);

// The version of `certificate` served by the most hosts (removed ones do
// not count) among those numbered below `below` (ties: the newer); when no
// host serves one, the one most being delivered (sent, not yet confirmed);
// "" when there is neither.
std::string MostServedVersion(const rollout::FleetSnapshot& fleet,
                              const std::string& certificate, int64_t below);

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_RUNNER_FLEET_VIEW_H_
