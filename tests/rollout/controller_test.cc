// The rollout controller against a simulated fleet of 12 agents in 3 pools:
// wave sizes and order, the per-pool limit, bake time, offline and joining
// hosts.
#include "coordinator/rollout/controller.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

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

std::map<std::string, int> WaveOf(const RolloutState& s) {
  std::map<std::string, int> out;
  for (const HostRecord& h : s.hosts) out[h.agent_id] = h.wave;
  return out;
}

TEST(RolloutControllerTest, WavesHaveTheirSizesAndGoCanaryFirstAcrossPools) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Hours(2), absl::Minutes(1),
        events);

  ASSERT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(c.state().finished_at, t0 + absl::Minutes(20));
  // 1, then 25% (3) and 50% (6) of 12 in all, then everyone; each wave
  // takes from the pools with the fewest hosts moved so far.
  EXPECT_EQ(WaveOf(c.state()), (std::map<std::string, int>{{"agt-a0", 0},
                                                           {"agt-b0", 1},
                                                           {"agt-c0", 1},
                                                           {"agt-a1", 2},
                                                           {"agt-b1", 2},
                                                           {"agt-c1", 2},
                                                           {"agt-a2", 3},
                                                           {"agt-b2", 3},
                                                           {"agt-c2", 3},
                                                           {"agt-a3", 3},
                                                           {"agt-b3", 3},
                                                           {"agt-c3", 3}}));
  const auto started = OfKind(events, Kind::kWaveStarted);
  ASSERT_EQ(started.size(), 4u);
  EXPECT_EQ(started[0].at, t0);
  EXPECT_EQ(started[0].message,
            "wave 1/4 started: 1 host (agt-a0/web [a]); 1 of 12 by its end");
  EXPECT_EQ(started[1].at, t0 + absl::Minutes(6));  // healthy at 1, baked 5
  EXPECT_EQ(started[1].message,
            "wave 2/4 started: 2 hosts (agt-b0/web [b], agt-c0/web [c]); 3 of "
            "12 by its end");
  EXPECT_EQ(started[2].at, t0 + absl::Minutes(12));
  EXPECT_EQ(started[3].at, t0 + absl::Minutes(18));
  EXPECT_THAT(OfKind(events, Kind::kStarted)[0].message,
              HasSubstr("rollout of web to web/3 from web/2 started by "
                        "scheduler: 12 hosts in 3 pools (0 already serve "
                        "web/3); waves 1, 25%, 50%, 100%"));
  EXPECT_EQ(OfKind(events, Kind::kComplete)[0].message,
            "rollout of web to web/3 complete: 12 hosts moved, 0 already "
            "served it, 0 failed");
  // The last wave delivers one host per pool at a time (limit 1).
  std::vector<std::string> last_wave_first;
  for (const Delivery& d : fleet.log()) {
    if (d.at == t0 + absl::Minutes(18)) last_wave_first.push_back(d.agent_id);
  }
  EXPECT_THAT(last_wave_first, ElementsAre("agt-a2", "agt-b2", "agt-c2"));
  for (const auto& [agent, version] : fleet.Installed()) {
    EXPECT_EQ(version, "web/3") << agent;
  }
}

TEST(RolloutControllerTest, MaxUnavailableOfEachPoolHoldsAtEveryStep) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  // Uneven install times, so hosts turn healthy at different steps.
  const char* agents[] = {"agt-a0", "agt-a1", "agt-a2", "agt-a3",
                          "agt-b0", "agt-b1", "agt-b2", "agt-b3",
                          "agt-c0", "agt-c1", "agt-c2", "agt-c3"};
  for (int i = 0; i < 12; ++i) {
    fleet.host(agents[i]).install_delay = absl::Minutes(1 + (i * 7) % 4);
  }
  RolloutPolicy policy = TestPolicy();
  policy.waves = {Quantity::Percent(100)};
  policy.max_unavailable = Quantity::Count(2);
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  int most = 0;
  int steps = 0;
  Drive(c, policy, fleet, t0, t0 + absl::Hours(1), absl::Minutes(1), events,
        [&](absl::Time now) {
          ++steps;
          for (const auto& [pool, n] : fleet.ChangingPerPool("web/3")) {
            EXPECT_LE(n, 2) << "pool " << pool << " at " << now;
            most = std::max(most, n);
          }
          for (const auto& [pool, n] : ChangingPerPool(c.state())) {
            EXPECT_LE(n, 2) << "pool " << pool << " at " << now;
          }
        });
  EXPECT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(most, 2);  // the limit was used, not just respected
  EXPECT_GT(steps, 3);
  EXPECT_EQ(AgentsDelivered(fleet.log(), "web/3").size(), 12u);
}

TEST(RolloutControllerTest, NextWaveWaitsForTheBakeTime) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  RolloutPolicy policy = TestPolicy();
  policy.waves = {Quantity::Count(1), Quantity::Percent(100)};
  policy.bake_time = absl::Minutes(30);
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, policy, fleet, t0, t0 + absl::Hours(2), absl::Minutes(1), events);

  ASSERT_EQ(c.state().phase, Phase::kComplete);
  const auto bake = OfKind(events, Kind::kBakeStarted);
  ASSERT_EQ(bake.size(), 1u);
  EXPECT_EQ(bake[0].at, t0 + absl::Minutes(1));
  EXPECT_EQ(bake[0].message,
            "baking wave 1/2 for 30m, until 2030-01-07T10:31:00Z");
  // Nothing but the canary until the bake is over.
  ASSERT_GE(fleet.log().size(), 2u);
  EXPECT_EQ(fleet.log()[0], (Delivery{t0, "agt-a0", "web/3", false}));
  EXPECT_EQ(fleet.log()[1].at, t0 + absl::Minutes(31));
  EXPECT_EQ(OfKind(events, Kind::kWaveStarted)[1].at, t0 + absl::Minutes(31));
  // No bake after the last wave.
  EXPECT_EQ(OfKind(events, Kind::kComplete)[0].at,
            OfKind(events, Kind::kWaveHealthy)[1].at);
}

TEST(RolloutControllerTest, OfflineHostIsReportedAndWaitedFor) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0 - absl::Hours(3), "web/2");
  fleet.SetOnline("agt-a0", false, t0);
  RolloutPolicy policy = TestPolicy();
  policy.waves = {Quantity::Count(1), Quantity::Percent(100)};
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, policy, fleet, t0, t0 + absl::Hours(3), absl::Minutes(1), events);

  // The canary is an online host; the last wave waits for agt-a0.
  const auto started = OfKind(events, Kind::kWaveStarted);
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0].message,
            "wave 1/2 started: 1 host (agt-a1/web [a]); 1 of 12 by its end");
  EXPECT_THAT(started[1].message, HasSubstr("11 hosts ("));
  EXPECT_THAT(started[1].message, HasSubstr("12 of 12 by its end; 1 offline"));
  const auto offline = OfKind(events, Kind::kOfflineHosts);
  ASSERT_EQ(offline.size(), 1u);  // said once, not at every step
  EXPECT_EQ(offline[0].message,
            "wave 2 waits for 1 offline host: agt-a0/web (serves web/2, "
            "healthy, offline since 2030-01-07T07:00:00Z)");
  EXPECT_EQ(c.state().phase, Phase::kDelivering);
  EXPECT_THAT(c.state().offline_waiting, ElementsAre("agt-a0/web"));
  EXPECT_EQ(AgentsDelivered(fleet.log(), "web/3").count("agt-a0"), 0u);
  EXPECT_TRUE(OfKind(events, Kind::kHostFailed).empty());

  const absl::Time back = t0 + absl::Hours(3);
  fleet.SetOnline("agt-a0", true, back);
  Drive(c, policy, fleet, back, back + absl::Hours(1), absl::Minutes(1),
        events);
  EXPECT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(c.state().finished_at, back + absl::Minutes(1));
  EXPECT_TRUE(c.state().offline_waiting.empty());
  EXPECT_EQ(fleet.Installed().at("agt-a0"), "web/3");
}

TEST(RolloutControllerTest, HostJoiningMidRolloutIsMovedByALaterWave) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  RolloutPolicy policy = TestPolicy();
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, policy, fleet, t0, t0 + absl::Minutes(3), absl::Minutes(1), events);
  fleet.AddHost("agt-d0", "d", "web/2", t0 + absl::Minutes(3));
  fleet.AddHost("agt-d1", "d", "web/3", t0 + absl::Minutes(3));
  Drive(c, policy, fleet, t0 + absl::Minutes(3), t0 + absl::Hours(2),
        absl::Minutes(1), events);

  ASSERT_EQ(c.state().phase, Phase::kComplete);
  const auto joined = OfKind(events, Kind::kHostJoined);
  ASSERT_EQ(joined.size(), 2u);
  EXPECT_EQ(joined[0].message,
            "agt-d0/web (pool \"d\") joined the rollout: queued for the next "
            "wave");
  EXPECT_EQ(joined[1].message,
            "agt-d1/web (pool \"d\") joined the rollout: already serves "
            "web/3");
  // 13 to move: wave 2 covers 25% = 4, and the new pool goes first.
  EXPECT_THAT(OfKind(events, Kind::kWaveStarted)[1].message,
              HasSubstr("3 hosts (agt-b0/web [b], agt-c0/web [c], "
                        "agt-d0/web [d]); 4 of 13 by its end"));
  EXPECT_EQ(AgentsDelivered(fleet.log(), "web/3").count("agt-d1"), 0u);
  EXPECT_EQ(OfKind(events, Kind::kComplete)[0].message,
            "rollout of web to web/3 complete: 13 hosts moved, 1 already "
            "served it, 0 failed");
}

TEST(RolloutControllerTest, WavesPreferOnlineHostsFromAnyPool) {
  RolloutState s;
  for (const char* pool : {"a", "b", "c"}) {
    for (int i = 0; i < 2; ++i) {
      HostRecord h;
      h.agent_id = std::string("agt-") + pool + std::to_string(i);
      h.target = "web";
      h.pool = pool;
      h.online = std::string(pool) != "a";  // pool a is down
      s.hosts.push_back(h);
    }
  }
  s.hosts[3].wave = 0;  // agt-b1 went in an earlier wave
  s.hosts[3].state = HostState::kHealthy;
  // Online first, then the pool with fewer hosts moved (c before b).
  std::vector<std::string> order;
  for (size_t i : ChooseHosts(s, 5)) order.push_back(s.hosts[i].agent_id);
  EXPECT_THAT(order,
              ElementsAre("agt-c0", "agt-b0", "agt-c1", "agt-a0", "agt-a1"));
}

}  // namespace
}  // namespace certfleet::rollout
