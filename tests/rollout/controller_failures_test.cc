// The rollout controller when hosts fail, against a simulated fleet of 12
// agents in 3 pools: a rejected canary, a halt in a later wave, the health
// timeout, a host failing after it was healthy (the bake starts over),
// failures below the threshold, and a first rollout with nothing to revert
// to.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "coordinator/rollout/controller.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rollout/sim_fleet.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::rollout::testing::AgentsDelivered;
using ::certfleet::rollout::testing::Drive;
using ::certfleet::rollout::testing::OfKind;
using ::certfleet::rollout::testing::SimFleet;
using ::certfleet::rollout::testing::StartRollout;
using ::certfleet::rollout::testing::T0;
using ::certfleet::rollout::testing::TestPolicy;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = RolloutEvent::Kind;
using Delivery = SimFleet::Delivery;

TEST(RolloutFailureTest, FailingCanaryHaltsRevertsAndTouchesNoOtherHost) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-a0").behaviour = SimFleet::Behaviour::kRejects;
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Hours(2), absl::Minutes(1),
        events);

  EXPECT_THAT(fleet.log(), ElementsAre(Delivery{t0, "agt-a0", "web/3", false},
                                       Delivery{t0 + absl::Minutes(1), "agt-a0",
                                                "web/2", true}));
  const auto failed = OfKind(events, Kind::kHostFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].message,
            std::string("agt-a0/web failed: delivery of web/3 rejected: ") +
                SimFleet::kRejection +
                "; sending it back to web/2 (failure 1, the rollout halts at "
                "1)");
  const auto halted = OfKind(events, Kind::kHalted);
  ASSERT_EQ(halted.size(), 1u);
  EXPECT_THAT(halted[0].message,
              HasSubstr("rollout of web to web/3 halted: 1 host failed, "
                        "reaching the failure threshold of 1: agt-a0/web "
                        "(delivery of web/3 rejected"));
  EXPECT_THAT(halted[0].message, HasSubstr("Reverting 1 host to web/2: "
                                           "agt-a0/web"));
  EXPECT_EQ(c.state().phase, Phase::kRolledBack);
  EXPECT_EQ(c.state().finished_at, t0 + absl::Minutes(2));
  EXPECT_EQ(OfKind(events, Kind::kWaveStarted).size(), 1u);
  for (const auto& [agent, version] : fleet.Installed()) {
    EXPECT_EQ(version, "web/2") << agent;
  }
}

TEST(RolloutFailureTest, HaltInALaterWaveRevertsEveryHostItMoved) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-b1").behaviour = SimFleet::Behaviour::kRejects;
  RolloutPolicy policy = TestPolicy();
  policy.waves = {Quantity::Count(1), Quantity::Percent(50),
                  Quantity::Percent(100)};
  policy.max_unavailable = Quantity::Percent(50);
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, policy, fleet, t0, t0 + absl::Hours(2), absl::Minutes(1), events);

  const std::set<std::string> moved = {"agt-a0", "agt-a1", "agt-b0",
                                       "agt-b1", "agt-c0", "agt-c1"};
  EXPECT_EQ(AgentsDelivered(fleet.log(), "web/3"), moved);
  EXPECT_EQ(AgentsDelivered(fleet.log(), "web/2"), moved);
  for (const Delivery& d : fleet.log()) {
    EXPECT_EQ(d.revert, d.version == "web/2");
  }
  EXPECT_EQ(c.state().phase, Phase::kRolledBack);
  EXPECT_EQ(c.state().halt_reason,
            std::string("1 host failed, reaching the failure threshold of 1: "
                        "agt-b1/web (delivery of web/3 rejected: ") +
                SimFleet::kRejection + ")");
  for (const auto& [agent, version] : fleet.Installed()) {
    EXPECT_EQ(version, "web/2") << agent;
  }
}

TEST(RolloutFailureTest, HealthTimeoutCountsAsFailure) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-a0").behaviour = SimFleet::Behaviour::kUnhealthy;
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Minutes(10), absl::Minutes(1),
        events);
  // Unhealthy for 9 minutes: still waiting.
  EXPECT_EQ(c.state().phase, Phase::kDelivering);
  EXPECT_TRUE(OfKind(events, Kind::kHostFailed).empty());

  Drive(c, TestPolicy(), fleet, t0 + absl::Minutes(10), t0 + absl::Hours(1),
        absl::Minutes(1), events);
  const auto failed = OfKind(events, Kind::kHostFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].at, t0 + absl::Minutes(10));
  EXPECT_THAT(failed[0].message,
              HasSubstr("agt-a0/web failed: not healthy on web/3 within 10m "
                        "of its delivery (serves web/3, unhealthy)"));
  EXPECT_EQ(c.state().phase, Phase::kRolledBack);
  EXPECT_EQ(fleet.log().size(), 2u);
  EXPECT_EQ(fleet.Installed().at("agt-a0"), "web/2");
}

TEST(RolloutFailureTest, FailureBelowThresholdRevertsThatHostAndGoesOn) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-b0").behaviour = SimFleet::Behaviour::kRejects;
  RolloutPolicy policy = TestPolicy();
  policy.failure_threshold = Quantity::Count(2);
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, policy, fleet, t0, t0 + absl::Hours(2), absl::Minutes(1), events);

  ASSERT_EQ(c.state().phase, Phase::kComplete);
  const auto failed = OfKind(events, Kind::kHostFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_THAT(failed[0].message, HasSubstr("(failure 1, the rollout halts "
                                           "at 2)"));
  EXPECT_THAT(OfKind(events, Kind::kWaveHealthy)[1].message,
              HasSubstr("wave 2/4 healthy: 1 host on web/3, 1 failed"));
  EXPECT_EQ(OfKind(events, Kind::kComplete)[0].message,
            "rollout of web to web/3 complete: 11 hosts moved, 0 already "
            "served it, 1 failed");
  std::map<std::string, std::string> expected;
  for (const auto& [agent, version] : fleet.Installed()) {
    expected[agent] = agent == "agt-b0" ? "web/2" : "web/3";
  }
  EXPECT_EQ(fleet.Installed(), expected);
  EXPECT_TRUE(OfKind(events, Kind::kHalted).empty());
}

TEST(RolloutFailureTest, FirstRolloutHaltsWithoutAVersionToRevertTo) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "");
  fleet.host("agt-a0").behaviour = SimFleet::Behaviour::kRejects;
  RolloutRequest request;
  request.certificate = "web";
  request.to.id = "web/1";
  ASSERT_OK_AND_ASSIGN(RolloutController c,
                       RolloutController::Start(request, t0));
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Hours(1), absl::Minutes(1),
        events);

  // Halted for good: nothing to send the canary back to, nobody else moved.
  EXPECT_EQ(c.state().phase, Phase::kHalted);
  EXPECT_THAT(fleet.log(), ElementsAre(Delivery{t0, "agt-a0", "web/1", false}));
  EXPECT_EQ(c.state().hosts[0].state, HostState::kFailed);
  ASSERT_EQ(OfKind(events, Kind::kHalted).size(), 1u);
  EXPECT_THAT(OfKind(events, Kind::kHalted)[0].message,
              HasSubstr("There is no previous version to revert to; 0 hosts "
                        "stay on web/1"));
  EXPECT_THAT(OfKind(events, Kind::kHostFailed)[0].message,
              HasSubstr("there is no previous version to send it back to"));
}

TEST(RolloutFailureTest, HostUnhealthyDuringBakeFailsAndTheBakeStartsOver) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  RolloutPolicy policy = TestPolicy();
  policy.bake_time = absl::Minutes(30);
  policy.failure_threshold = Quantity::Count(2);
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  // Canary healthy at +1m; baking until +31m.
  Drive(c, policy, fleet, t0, t0 + absl::Minutes(10), absl::Minutes(1), events);
  ASSERT_EQ(c.state().phase, Phase::kBaking);
  SimFleet::Host& canary = fleet.host("agt-a0");
  canary.snap.healthy = false;
  canary.snap.last_report_at = t0 + absl::Minutes(10);
  Drive(c, policy, fleet, t0 + absl::Minutes(10), t0 + absl::Hours(3),
        absl::Minutes(1), events);

  const auto failed = OfKind(events, Kind::kHostFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].at, t0 + absl::Minutes(10));
  EXPECT_EQ(failed[0].message,
            "agt-a0/web failed: no longer healthy on web/3 (healthy since "
            "2030-01-07T10:01:00Z; now serves web/3, unhealthy); sending it "
            "back to web/2 (failure 1, the rollout halts at 2)");
  const auto restarted = OfKind(events, Kind::kBakeRestarted);
  ASSERT_EQ(restarted.size(), 1u);
  EXPECT_EQ(restarted[0].message,
            "a host failed while wave 1/4 baked: the bake starts over, until "
            "2030-01-07T10:40:00Z");
  // Wave 2 starts 30 minutes after the failure, not after the first bake.
  EXPECT_EQ(OfKind(events, Kind::kWaveStarted)[1].at, t0 + absl::Minutes(40));
  EXPECT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(fleet.Installed().at("agt-a0"), "web/2");
}

}  // namespace
}  // namespace certfleet::rollout
