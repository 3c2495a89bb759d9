// The hosts a rollout does not wait for: stale (not connected for
// agents.stale_after), disabled, removed, or skipped by an operator. None
// counts as failed, none keeps a wave or the rollout from finishing, and a
// skipped host is sent the version the rollout reached, for when it comes
// back.
#include <string>
#include <vector>

#include "coordinator/rollout/controller.h"
#include "coordinator/rollout/skipped_hosts.h"
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
using ::certfleet::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = RolloutEvent::Kind;
using Delivery = SimFleet::Delivery;

// A canary, then everyone.
RolloutPolicy TwoWaves() {
  RolloutPolicy policy = TestPolicy();
  policy.waves = {Quantity::Count(1), Quantity::Percent(100)};
  return policy;
}

const HostRecord& Host(const RolloutController& c, const std::string& agent) {
  for (const HostRecord& h : c.state().hosts) {
    if (h.agent_id == agent) return h;
  }
  ADD_FAILURE() << agent << " is not in the rollout";
  static const HostRecord kNone;
  return kNone;
}

// A host stopped for good holds the last wave while it is merely offline;
// once stale it is skipped, the rollout completes without it (no failure),
// and it is sent the new version, which it applies when it comes back.
TEST(RolloutSkipTest, AStaleHostIsNotWaitedForAndGetsTheVersionWhenBack) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0 - absl::Hours(3), "web/2");
  fleet.SetOnline("agt-a0", false, t0);
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TwoWaves(), fleet, t0, t0 + absl::Hours(1), absl::Minutes(1),
        events);
  ASSERT_EQ(c.state().phase, Phase::kDelivering);
  EXPECT_EQ(Host(c, "agt-a0").state, HostState::kWaiting);

  const absl::Time stale = t0 + absl::Hours(1);
  fleet.host("agt-a0").snap.stale = true;
  Drive(c, TwoWaves(), fleet, stale, stale + absl::Hours(1), absl::Minutes(1),
        events);
  ASSERT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(c.state().finished_at, stale);
  const HostRecord& a0 = Host(c, "agt-a0");
  EXPECT_EQ(a0.state, HostState::kSkipped);
  EXPECT_EQ(a0.skip_reason, kSkipStale);
  EXPECT_TRUE(a0.stale);
  EXPECT_EQ(a0.skipped_at, stale);
  const auto skipped = OfKind(events, Kind::kHostSkipped);
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].message,
            "agt-a0/web is stale (serves web/2, healthy, stale, offline since "
            "2030-01-07T07:00:00Z): the rollout no longer waits for it; it is "
            "sent what the rollout of web reaches when it comes back");
  EXPECT_TRUE(OfKind(events, Kind::kHostFailed).empty());
  EXPECT_EQ(OfKind(events, Kind::kComplete)[0].message,
            "rollout of web to web/3 complete: 11 hosts moved, 0 already "
            "served it, 0 failed, 1 skipped (sent web/3 for when they come "
            "back)");
  EXPECT_THAT(fleet.log(), Contains(Delivery{stale, "agt-a0", "web/3", false}));
  EXPECT_EQ(fleet.Installed().at("agt-a0"), "web/2");  // still off

  fleet.SetOnline("agt-a0", true, stale + absl::Hours(5));
  fleet.Tick(stale + absl::Hours(5) + absl::Minutes(1));
  EXPECT_EQ(fleet.Installed().at("agt-a0"), "web/3");
}

// A host stale when the rollout starts is skipped at once; back while the
// rollout still runs, it is queued again and moved under the health gate
// like any other host.
TEST(RolloutSkipTest, AStaleHostBackWhileTheRolloutRunsIsQueuedAgain) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.SetOnline("agt-c3", false, t0);
  fleet.host("agt-c3").snap.stale = true;
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Minutes(2), absl::Minutes(1),
        events);
  EXPECT_EQ(Host(c, "agt-c3").state, HostState::kSkipped);
  EXPECT_EQ(Host(c, "agt-c3").wave, -1);

  fleet.host("agt-c3").snap.stale = false;
  fleet.SetOnline("agt-c3", true, t0 + absl::Minutes(2));
  Drive(c, TestPolicy(), fleet, t0 + absl::Minutes(2), t0 + absl::Hours(2),
        absl::Minutes(1), events);
  ASSERT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(Host(c, "agt-c3").state, HostState::kHealthy);
  const auto back = OfKind(events, Kind::kHostReturned);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].message, "agt-c3/web is back (it was stale): queued again");
  EXPECT_EQ(OfKind(events, Kind::kComplete)[0].message,
            "rollout of web to web/3 complete: 12 hosts moved, 0 already "
            "served it, 0 failed");
  for (const auto& [agent, version] : fleet.Installed()) {
    EXPECT_EQ(version, "web/3") << agent;
  }
}

// `rollout skip`: an operator releases a wave from one offline host before
// it is stale.
TEST(RolloutSkipTest, AnOperatorSkipReleasesTheWave) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0 - absl::Hours(3), "web/2");
  fleet.SetOnline("agt-a0", false, t0);
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TwoWaves(), fleet, t0, t0 + absl::Minutes(30), absl::Minutes(1),
        events);
  ASSERT_EQ(c.state().phase, Phase::kDelivering);

  // Nothing to skip on a host that is done, or an agent not in it.
  const absl::Time now = t0 + absl::Minutes(30);
  EXPECT_THAT(c.Skip("agt-a1", now, "admin:bob"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "agent agt-a1: the rollout of web (delivering) waits "
                       "for none of its targets: web is healthy"));
  EXPECT_THAT(c.Skip("agt-zz", now, "admin:bob"),
              StatusIs(absl::StatusCode::kNotFound,
                       "agent agt-zz has no target in the rollout of web to "
                       "web/3"));

  ASSERT_OK_AND_ASSIGN(StepResult r, c.Skip("agt-a0", now, "admin:bob"));
  EXPECT_TRUE(r.state_changed);
  EXPECT_TRUE(r.deliveries.empty());
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kind, Kind::kHostSkipped);
  EXPECT_EQ(r.events[0].message,
            "agt-a0/web was skipped by admin:bob: the rollout no longer waits "
            "for it; it is sent what the rollout of web reaches when it comes "
            "back");
  EXPECT_EQ(Host(c, "agt-a0").skipped_by, "admin:bob");
  // Persisted: a restarted coordinator still does not wait for it.
  ASSERT_OK_AND_ASSIGN(
      RolloutController restored,
      RolloutController::Restore(RolloutStateToJson(c.state())));
  EXPECT_EQ(restored.state(), c.state());

  StepResult next = restored.Step(TwoWaves(), fleet.Snapshot(), now);
  EXPECT_EQ(restored.state().phase, Phase::kComplete);
  EXPECT_THAT(next.deliveries,
              ElementsAre(DeliverAction{"agt-a0", "web", "web/3", false}));
  // Skipped by an operator, a host that comes back is not queued again.
  fleet.SetOnline("agt-a0", true, now);
  EXPECT_THAT(restored.Skip("agt-a0", now, "admin:bob"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("there is nothing to skip")));
}

// A removed agent leaves at once: queued, it is gone from the rollout;
// delivered to, it is skipped (never failed) and sent nothing more.
TEST(RolloutSkipTest, ARemovedAgentLeavesEveryRolloutAtOnce) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-a0").behaviour = SimFleet::Behaviour::kSilent;
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  // The canary agt-a0 installs but never reports; agt-c3 waits its turn.
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Minutes(3), absl::Minutes(1),
        events);
  ASSERT_EQ(Host(c, "agt-a0").state, HostState::kChanging);
  fleet.host("agt-a0").snap.removed = true;
  fleet.host("agt-a0").snap.online = false;
  fleet.host("agt-c3").snap.removed = true;
  fleet.host("agt-c3").snap.online = false;
  Drive(c, TestPolicy(), fleet, t0 + absl::Minutes(3), t0 + absl::Hours(2),
        absl::Minutes(1), events);

  ASSERT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(c.state().hosts.size(), 11u);  // agt-c3 left
  EXPECT_EQ(Host(c, "agt-a0").state, HostState::kSkipped);
  EXPECT_EQ(Host(c, "agt-a0").skip_reason, kSkipRemoved);
  EXPECT_TRUE(OfKind(events, Kind::kHostFailed).empty());
  const auto left = OfKind(events, Kind::kHostLeft);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].message,
            "agt-c3/web: its agent was removed; it leaves the rollout");
  EXPECT_EQ(OfKind(events, Kind::kHostSkipped)[0].message,
            "agt-a0/web: its agent was removed; the rollout no longer waits "
            "for it");
  EXPECT_EQ(AgentsDelivered(fleet.log(), "web/3").count("agt-c3"), 0u);
  // Nothing more goes to a removed agent, not even the version reached.
  size_t to_a0 = 0;
  for (const Delivery& d : fleet.log()) to_a0 += d.agent_id == "agt-a0";
  EXPECT_EQ(to_a0, 1u);
}

// A disabled host is skipped like a stale one, and queued again once it is
// enabled.
TEST(RolloutSkipTest, ADisabledHostIsSkippedUntilEnabled) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-b3").snap.disabled = true;
  fleet.SetOnline("agt-b3", false, t0);
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Minutes(7), absl::Minutes(1),
        events);
  EXPECT_EQ(Host(c, "agt-b3").state, HostState::kSkipped);
  EXPECT_EQ(Host(c, "agt-b3").skip_reason, kSkipDisabled);
  EXPECT_THAT(OfKind(events, Kind::kHostSkipped)[0].message,
              HasSubstr("agt-b3/web is disabled ("));

  fleet.host("agt-b3").snap.disabled = false;
  fleet.SetOnline("agt-b3", true, t0 + absl::Minutes(7));
  Drive(c, TestPolicy(), fleet, t0 + absl::Minutes(7), t0 + absl::Hours(2),
        absl::Minutes(1), events);
  ASSERT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(Host(c, "agt-b3").state, HostState::kHealthy);
  EXPECT_EQ(fleet.Installed().at("agt-b3"), "web/3");
}

// A halted rollout waits for its reverts — but not for a host that has
// gone stale meanwhile: its revert is recorded and it is skipped, and the
// rollout is rolled back.
TEST(RolloutSkipTest, AStaleRevertingHostDoesNotHoldTheRollback) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-a0").behaviour = SimFleet::Behaviour::kUnhealthy;
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  // The canary installs web/3 and stays unhealthy: at its health timeout it
  // fails, the rollout halts and sends it back to web/2.
  const absl::Time failed = t0 + absl::Minutes(10);
  Drive(c, TestPolicy(), fleet, t0, failed + absl::Minutes(1), absl::Minutes(1),
        events);
  ASSERT_EQ(c.state().phase, Phase::kHalted);
  ASSERT_EQ(Host(c, "agt-a0").state, HostState::kReverting);
  // It goes away before the revert applies.
  const absl::Time gone = failed + absl::Minutes(1);
  fleet.SetOnline("agt-a0", false, gone);
  Drive(c, TestPolicy(), fleet, gone, gone + absl::Hours(1), absl::Minutes(1),
        events);
  EXPECT_EQ(c.state().phase, Phase::kHalted);  // waits while only offline
  EXPECT_EQ(Host(c, "agt-a0").state, HostState::kReverting);
  EXPECT_EQ(fleet.Installed().at("agt-a0"), "web/3");

  fleet.host("agt-a0").snap.stale = true;
  Drive(c, TestPolicy(), fleet, gone + absl::Hours(1), gone + absl::Hours(2),
        absl::Minutes(1), events);
  EXPECT_EQ(c.state().phase, Phase::kRolledBack);
  EXPECT_EQ(Host(c, "agt-a0").state, HostState::kSkipped);
  EXPECT_EQ(Host(c, "agt-a0").skip_reason, kSkipStale);
  // Its revert stays recorded: applied when it comes back.
  EXPECT_EQ(fleet.host("agt-a0").desired, "web/2");
  fleet.SetOnline("agt-a0", true, gone + absl::Hours(3));
  fleet.Tick(gone + absl::Hours(3));
  EXPECT_EQ(fleet.Installed().at("agt-a0"), "web/2");
}

// A halt sends a host that was skipped after the new version reached it
// back to the previous version too.
TEST(RolloutSkipTest, AHaltRevertsASkippedHostTheNewVersionReached) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-a0").behaviour = SimFleet::Behaviour::kSilent;
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Minutes(1), absl::Minutes(1),
        events);
  ASSERT_EQ(Host(c, "agt-a0").state, HostState::kChanging);
  ASSERT_OK(c.Skip("agt-a0", t0 + absl::Minutes(1), "admin:bob").status());
  // The next canary is unhealthy: halt.
  fleet.host("agt-b0").behaviour = SimFleet::Behaviour::kUnhealthy;
  fleet.host("agt-c0").behaviour = SimFleet::Behaviour::kUnhealthy;
  Drive(c, TestPolicy(), fleet, t0 + absl::Minutes(1), t0 + absl::Hours(1),
        absl::Minutes(1), events);
  ASSERT_EQ(c.state().phase, Phase::kRolledBack);
  bool reverted = false;
  for (const Delivery& d : fleet.log()) {
    reverted |= d.agent_id == "agt-a0" && d.version == "web/2" && d.revert;
  }
  EXPECT_TRUE(reverted);
}

}  // namespace
}  // namespace certfleet::rollout
