// A simulated fleet for rollout controller tests: 12 agents in 3 pools
// ("a", "b", "c"; agents agt-a0 … agt-c3, one target "web" each), each
// applying a delivered version after a delay and then reporting it healthy,
// rejected or unhealthy as the test chose. Plus a driver that steps a
// controller against it on a fixed tick.
//
//   SimFleet fleet(t0, "web/2");
//   fleet.host("agt-a0").behaviour = SimFleet::Behaviour::kRejects;
//   absl::Time end = Drive(controller, policy, fleet, t0, t0 + absl::Hours(1),
//                          absl::Minutes(1), events);
#ifndef CERTFLEET_TESTS_ROLLOUT_SIM_FLEET_H_
#define CERTFLEET_TESTS_ROLLOUT_SIM_FLEET_H_

#include <functional>
#include <iosfwd>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "coordinator/rollout/controller.h"

namespace certfleet::rollout::testing {

class SimFleet {
 public:
  enum class Behaviour {
    kHealthy,    // installs, reports healthy
    kRejects,    // reports the delivery failed; keeps what it served
    kUnhealthy,  // installs, reports unhealthy
    kSilent,     // never reports
  };

  struct Host {
    HostSnapshot snap;
    // Applies to new versions; reverts always install healthy.
    Behaviour behaviour = Behaviour::kHealthy;
    absl::Duration install_delay = absl::Minutes(1);
    std::string desired;  // last version delivered
    bool desired_is_revert = false;
    absl::Time applies_at = absl::InfiniteFuture();
  };

  // One delivery, as the fleet received it.
  struct Delivery {
    absl::Time at;
    std::string agent_id;
    std::string version;
    bool revert = false;
    bool operator==(const Delivery&) const = default;
  };

  static constexpr const char* kRejection =
      "nginx -t: [emerg] cannot load certificate key";

  // 12 online hosts serving `served`, healthy, last reported at `now`.
  SimFleet(absl::Time now, const std::string& served);

  Host& host(const std::string& agent_id);
  void AddHost(const std::string& agent_id, const std::string& pool,
               const std::string& served, absl::Time now);
  void SetOnline(const std::string& agent_id, bool online, absl::Time now);

  // Records the deliveries; each applies install_delay later (when online).
  void Deliver(const std::vector<DeliverAction>& actions, absl::Time now);
  // Applies the deliveries due by `now`.
  void Tick(absl::Time now);

  FleetSnapshot Snapshot() const;
  // Per pool: hosts delivered `version` that are not yet healthy on it.
  std::map<std::string, int> ChangingPerPool(const std::string& version) const;
  // agent id → installed version.
  std::map<std::string, std::string> Installed() const;

  const std::vector<Delivery>& log() const { return log_; }
  absl::Time earliest_served_not_after = absl::InfiniteFuture();

 private:
  std::map<std::string, Host> hosts_;  // by agent id
  std::vector<Delivery> log_;
};

// Steps `controller` every `tick` from `from` while the time is before
// `until` and the rollout is not finished: fleet.Tick, Step, fleet.Deliver,
// then `check` (if any). Appends the events; returns the time of the last
// step.
absl::Time Drive(RolloutController& controller, const RolloutPolicy& policy,
                 SimFleet& fleet, absl::Time from, absl::Time until,
                 absl::Duration tick, std::vector<RolloutEvent>& events,
                 const std::function<void(absl::Time)>& check = {});

// Waves [1, 25%, 50%, 100%], max_unavailable 25% (1 host of a pool of 4),
// bake 5m, health timeout 10m, failure threshold 1, no windows.
RolloutPolicy TestPolicy();

// The agents that were delivered `version`.
std::set<std::string> AgentsDelivered(
    const std::vector<SimFleet::Delivery>& log, const std::string& version);

// Monday 2030-01-07 10:00:00 UTC: where the scenarios start.
absl::Time T0();

// A rollout of certificate "web" from web/2 to web/3 (valid, not revoked),
// requested by "scheduler", started at `now`; aborts the test on error.
RolloutController StartRollout(absl::Time now);

// The events of one kind, in order.
std::vector<RolloutEvent> OfKind(const std::vector<RolloutEvent>& events,
                                 RolloutEvent::Kind kind);

}  // namespace certfleet::rollout::testing

namespace certfleet::rollout {
// gtest printers, so failures show readable values.
void PrintTo(const RolloutEvent& e, std::ostream* os);
void PrintTo(const DeliverAction& d, std::ostream* os);
void PrintTo(const RolloutState& s, std::ostream* os);  // as its JSON
}  // namespace certfleet::rollout

#endif  // CERTFLEET_TESTS_ROLLOUT_SIM_FLEET_H_
