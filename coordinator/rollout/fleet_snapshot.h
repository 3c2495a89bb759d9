// What the rollout controller is told about the fleet at each step: every
// target of the certificate as the coordinator last heard from it. The
// coordinator builds it from its target states and agent sessions; the
// controller never asks for more.
//
//   FleetSnapshot fleet;
//   fleet.hosts.push_back({.agent_id = "agt-0a1b2c3d4e5f", .target = "web",
//                          .pool = "eu", .online = true, .stale = false,
//                          .installed_version_id = "web/2", .healthy = true,
//                          .last_report_at = now});
//   fleet.earliest_served_not_after = earliest_not_after_of_served_versions;
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_FLEET_SNAPSHOT_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_FLEET_SNAPSHOT_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace certfleet::rollout {

// One target of one agent.
struct HostSnapshot {
  std::string agent_id;
  std::string target;  // target name in the agent's configuration
  // The agent's value for the policy's pool_label; "" when the agent has no
  // such label (all such hosts form one pool) or pool_label is "".
  std::string pool;
  bool online = false;  // the agent holds a session with the coordinator
  // Not connected for longer than agents.stale_after: the rollout no longer
  // waits for it (it gets the rollout's version when it comes back).
  bool stale = false;
  // Disabled by an operator: it can receive nothing; not waited for.
  bool disabled = false;
  // Removed by an operator: it leaves the rollout at once.
  bool removed = false;
  std::string installed_version_id;  // "<certificate>/<n>"; "" = none
  // The version last sent to it ("" = none): differs from the installed one
  // while a delivery is in flight.
  std::string desired_version_id;
  bool healthy = false;  // as last reported
  // The last failed delivery ("" after a success) and the version it was
  // for: a rejection counts against a rollout only when it is for the
  // rollout's version and was reported after the delivery.
  std::string last_error;
  std::string last_error_version_id;
  absl::Time last_report_at = absl::InfinitePast();
};

struct FleetSnapshot {
  // Every target of the certificate, in any order; (agent_id, target) is
  // unique.
  std::vector<HostSnapshot> hosts;
  // The earliest not_after among the versions the hosts serve right now
  // (InfiniteFuture when unknown): when it is within the policy's
  // urgent_within, maintenance windows are ignored.
  absl::Time earliest_served_not_after = absl::InfiniteFuture();
};

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_FLEET_SNAPSHOT_H_
