// The rollout controller's operator-facing behaviour: pause, resume, abort,
// maintenance windows and urgency, rollbacks (expedited, through waves,
// refused), and the persisted state surviving a restart.
#include <map>
#include <string>
#include <vector>

#include "coordinator/rollout/controller.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rollout/sim_fleet.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::rollout::testing::Drive;
using ::certfleet::rollout::testing::OfKind;
using ::certfleet::rollout::testing::SimFleet;
using ::certfleet::rollout::testing::StartRollout;
using ::certfleet::rollout::testing::T0;
using ::certfleet::rollout::testing::TestPolicy;
using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;
using Kind = RolloutEvent::Kind;

// Saturday 2030-01-05 10:00 UTC, outside a Monday–Friday 09:00–16:00 window.
absl::Time Saturday() {
  return absl::FromCivil(absl::CivilSecond(2030, 1, 5, 10, 0, 0),
                         absl::UTCTimeZone());
}

RolloutPolicy WeekdayWindowPolicy() {
  RolloutPolicy p = TestPolicy();
  MaintenanceWindow w;
  w.days = {absl::Weekday::monday, absl::Weekday::tuesday,
            absl::Weekday::wednesday, absl::Weekday::thursday,
            absl::Weekday::friday};
  w.start_minute = 9 * 60;
  w.end_minute = 16 * 60;
  p.windows = {w};
  return p;
}

absl::Time At(int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(2030, 1, day, hour, minute, 0),
                         absl::UTCTimeZone());
}

RolloutRequest Rollback(absl::Time now) {
  RolloutRequest r;
  r.certificate = "web";
  r.kind = RolloutKind::kRollback;
  r.from_version = "web/3";
  r.to.id = "web/2";
  r.to.not_before = now - absl::Hours(24 * 30);
  r.to.not_after = now + absl::Hours(24 * 60);
  r.requested_by = "alice";
  return r;
}

size_t DeliveriesBetween(const SimFleet& fleet, absl::Time from,
                         absl::Time to) {
  size_t n = 0;
  for (const SimFleet::Delivery& d : fleet.log()) {
    if (d.at >= from && d.at < to) ++n;
  }
  return n;
}

TEST(RolloutOperationsTest, PauseStopsDeliveriesAndResumeContinues) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  RolloutController c = StartRollout(t0);
  EXPECT_THAT(c.Resume(t0, "alice"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not paused (it is pending)")));
  std::vector<RolloutEvent> events;
  // Wave 2 (agt-b0, agt-c0) is delivered at +6m.
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Minutes(7), absl::Minutes(1),
        events);
  ASSERT_EQ(fleet.log().size(), 3u);

  const absl::Time paused_at = t0 + absl::Minutes(6);
  ASSERT_OK_AND_ASSIGN(StepResult paused, c.Pause(paused_at, "alice"));
  EXPECT_TRUE(paused.state_changed);
  ASSERT_EQ(paused.events.size(), 1u);
  EXPECT_EQ(paused.events[0].message,
            "the rollout of web to web/3 was paused by alice in wave 2 "
            "(delivering); 2 hosts changing still watched (failures still "
            "halt it)");
  EXPECT_THAT(c.Pause(paused_at, "bob"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is already paused (since "
                                 "2030-01-07T10:06:00Z)")));

  Drive(c, TestPolicy(), fleet, t0 + absl::Minutes(7), t0 + absl::Minutes(40),
        absl::Minutes(1), events);
  EXPECT_EQ(c.state().phase, Phase::kPaused);
  EXPECT_EQ(fleet.log().size(), 3u);  // nothing delivered while paused
  // …but the hosts in flight were still judged.
  for (const HostRecord& h : c.state().hosts) {
    if (h.agent_id == "agt-b0" || h.agent_id == "agt-c0") {
      EXPECT_EQ(h.state, HostState::kHealthy) << h.agent_id;
    }
  }

  const absl::Time resumed_at = t0 + absl::Minutes(40);
  ASSERT_OK_AND_ASSIGN(StepResult resumed, c.Resume(resumed_at, "alice"));
  EXPECT_EQ(resumed.events[0].message,
            "the rollout of web to web/3 was resumed by alice in wave 2 "
            "(delivering)");
  Drive(c, TestPolicy(), fleet, resumed_at, resumed_at + absl::Hours(1),
        absl::Minutes(1), events);
  ASSERT_EQ(c.state().phase, Phase::kComplete);
  // Wave 2 is found healthy at resume, bakes 5 minutes, then wave 3.
  EXPECT_EQ(OfKind(events, Kind::kWaveStarted)[2].at,
            resumed_at + absl::Minutes(5));
  EXPECT_THAT(c.Resume(resumed_at, "alice"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is complete (since ")));
}

TEST(RolloutOperationsTest, FailureWhilePausedStillHaltsAndReverts) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-b0").behaviour = SimFleet::Behaviour::kRejects;
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Minutes(7), absl::Minutes(1),
        events);
  ASSERT_OK(c.Pause(t0 + absl::Minutes(6), "alice").status());
  Drive(c, TestPolicy(), fleet, t0 + absl::Minutes(7), t0 + absl::Minutes(30),
        absl::Minutes(1), events);

  EXPECT_EQ(c.state().phase, Phase::kRolledBack);
  ASSERT_EQ(OfKind(events, Kind::kHalted).size(), 1u);
  EXPECT_THAT(OfKind(events, Kind::kHalted)[0].message,
              HasSubstr("Reverting 3 hosts to web/2: agt-a0/web, agt-b0/web, "
                        "agt-c0/web"));
  for (const auto& [agent, version] : fleet.Installed()) {
    EXPECT_EQ(version, "web/2") << agent;
  }
  EXPECT_THAT(c.Pause(t0 + absl::Minutes(30), "alice"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is rolled_back")));
}

TEST(RolloutOperationsTest, AbortStopsForGoodAndRevertsNothing) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Minutes(7), absl::Minutes(1),
        events);

  const absl::Time aborted_at = t0 + absl::Minutes(6);
  ASSERT_OK_AND_ASSIGN(StepResult aborted, c.Abort(aborted_at, "alice"));
  EXPECT_EQ(aborted.events[0].kind, Kind::kAborted);
  EXPECT_EQ(aborted.events[0].message,
            "the rollout of web to web/3 was aborted by alice in wave 2 "
            "(delivering): 1 on web/3, 2 changing, 0 failed, 9 not moved; "
            "nothing is reverted (to go back: certfleetctl rollback web)");
  EXPECT_TRUE(aborted.deliveries.empty());
  EXPECT_EQ(c.state().phase, Phase::kAborted);
  EXPECT_EQ(c.state().finished_at, aborted_at);

  fleet.Tick(t0 + absl::Minutes(7));
  const StepResult after =
      c.Step(TestPolicy(), fleet.Snapshot(), t0 + absl::Minutes(7));
  EXPECT_TRUE(after.deliveries.empty());
  EXPECT_TRUE(after.events.empty());
  EXPECT_FALSE(after.state_changed);
  EXPECT_EQ(fleet.log().size(), 3u);
  EXPECT_THAT(c.Abort(aborted_at, "bob"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is aborted (since 2030-01-07T10:06:00Z); "
                                 "there is nothing to abort")));
}

TEST(RolloutOperationsTest, WindowDefersTheRolloutThenItProceeds) {
  SimFleet fleet(Saturday(), "web/2");
  RolloutPolicy policy = WeekdayWindowPolicy();
  policy.waves = {Quantity::Count(1), Quantity::Percent(100)};
  policy.bake_time = absl::Hours(7);  // the canary's bake ends after 16:00
  RolloutController c = StartRollout(Saturday());
  std::vector<RolloutEvent> events;
  Drive(c, policy, fleet, Saturday(), At(7, 17), absl::Minutes(30), events);

  // Nothing before Monday 09:00, then only the canary on Monday.
  EXPECT_EQ(DeliveriesBetween(fleet, Saturday(), At(7, 9)), 0u);
  ASSERT_EQ(fleet.log().size(), 1u);
  EXPECT_EQ(fleet.log()[0].at, At(7, 9));
  const auto waiting = OfKind(events, Kind::kWaitingForWindow);
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[0].at, Saturday());
  EXPECT_EQ(waiting[0].message,
            "outside the maintenance windows: the rollout of web to web/3 "
            "waits until 2030-01-07T09:00:00Z");
  EXPECT_EQ(waiting[1].at, At(7, 16, 30));  // bake over, window closed
  EXPECT_THAT(waiting[1].message, HasSubstr("until 2030-01-08T09:00:00Z"));
  EXPECT_EQ(OfKind(events, Kind::kWindowOpen)[0].at, At(7, 9));
  EXPECT_TRUE(c.state().waiting_for_window);
  EXPECT_EQ(c.state().window_opens_at, At(8, 9));
  EXPECT_EQ(c.state().phase, Phase::kBaking);

  Drive(c, policy, fleet, At(7, 17), At(8, 16), absl::Minutes(30), events);
  EXPECT_EQ(DeliveriesBetween(fleet, At(7, 9, 1), At(8, 9)), 0u);
  EXPECT_EQ(OfKind(events, Kind::kWaveStarted)[1].at, At(8, 9));
  EXPECT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_FALSE(c.state().waiting_for_window);
}

TEST(RolloutOperationsTest, UrgentRolloutIgnoresTheWindow) {
  SimFleet fleet(Saturday(), "web/2");
  fleet.earliest_served_not_after = Saturday() + absl::Hours(48);
  RolloutController c = StartRollout(Saturday());
  std::vector<RolloutEvent> events;
  Drive(c, WeekdayWindowPolicy(), fleet, Saturday(), At(6, 10),
        absl::Minutes(1), events);

  EXPECT_EQ(c.state().phase, Phase::kComplete);
  ASSERT_FALSE(fleet.log().empty());
  EXPECT_EQ(fleet.log()[0].at, Saturday());
  EXPECT_TRUE(OfKind(events, Kind::kWaitingForWindow).empty());
  ASSERT_EQ(OfKind(events, Kind::kUrgent).size(), 1u);
  EXPECT_EQ(OfKind(events, Kind::kUrgent)[0].message,
            "urgent: a served version of web expires at "
            "2030-01-07T10:00:00Z (within 168h); maintenance windows are "
            "ignored");
  EXPECT_TRUE(c.state().urgent);
}

TEST(RolloutOperationsTest, ExpeditedRollbackMovesEveryoneAtOnce) {
  SimFleet fleet(Saturday(), "web/3");
  RolloutRequest request = Rollback(Saturday());
  request.expedite = true;
  ASSERT_OK_AND_ASSIGN(RolloutController c,
                       RolloutController::Start(request, Saturday()));
  std::vector<RolloutEvent> events;
  // Windows closed and a 25% per-pool limit: an expedited rollback ignores
  // both.
  Drive(c, WeekdayWindowPolicy(), fleet, Saturday(),
        Saturday() + absl::Hours(1), absl::Minutes(1), events);

  ASSERT_EQ(fleet.log().size(), 12u);
  for (const SimFleet::Delivery& d : fleet.log()) {
    EXPECT_EQ(d.at, Saturday());
    EXPECT_EQ(d.version, "web/2");
    EXPECT_FALSE(d.revert);
  }
  EXPECT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(c.state().finished_at, Saturday() + absl::Minutes(1));
  EXPECT_EQ(OfKind(events, Kind::kStarted)[0].message,
            "rollback of web to web/2 from web/3 started by alice: 12 hosts "
            "in 3 pools (0 already serve web/2); waves 100% (expedited: all "
            "at once, no bake)");
  EXPECT_TRUE(OfKind(events, Kind::kBakeStarted).empty());
  EXPECT_EQ(OfKind(events, Kind::kComplete)[0].message,
            "rollback of web to web/2 complete: 12 hosts moved, 0 already "
            "served it, 0 failed");
  for (const auto& [agent, version] : fleet.Installed()) {
    EXPECT_EQ(version, "web/2") << agent;
  }
}

TEST(RolloutOperationsTest, RollbackThroughWavesGoesCanaryFirst) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/3");
  ASSERT_OK_AND_ASSIGN(RolloutController c,
                       RolloutController::Start(Rollback(t0), t0));
  std::vector<RolloutEvent> events;
  Drive(c, TestPolicy(), fleet, t0, t0 + absl::Hours(1), absl::Minutes(1),
        events);

  EXPECT_EQ(DeliveriesBetween(fleet, t0, t0 + absl::Minutes(6)), 1u);
  EXPECT_EQ(fleet.log()[0].agent_id, "agt-a0");
  EXPECT_EQ(fleet.log()[0].version, "web/2");
  EXPECT_EQ(OfKind(events, Kind::kWaveStarted).size(), 4u);
  EXPECT_EQ(OfKind(events, Kind::kBakeStarted).size(), 3u);
  EXPECT_EQ(c.state().phase, Phase::kComplete);
  EXPECT_EQ(c.state().finished_at, t0 + absl::Minutes(20));
  for (const auto& [agent, version] : fleet.Installed()) {
    EXPECT_EQ(version, "web/2") << agent;
  }
}

TEST(RolloutOperationsTest, RollbackToAnExpiredOrRevokedVersionIsRefused) {
  const absl::Time now = T0();
  RolloutRequest expired = Rollback(now);
  expired.to.not_after = now - absl::Hours(24);
  EXPECT_THAT(RolloutController::Start(expired, now),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "cannot roll back web to web/2: it expired at "
                       "2030-01-06T10:00:00Z; choose a version that is still "
                       "valid (certfleetctl versions web)"));

  RolloutRequest revoked = Rollback(now);
  revoked.to.revoked_at = now - absl::Hours(2);
  revoked.to.revocation_reason = "keyCompromise";
  EXPECT_THAT(RolloutController::Start(revoked, now),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot roll back web to web/2: it was "
                                 "revoked at 2030-01-07T08:00:00Z "
                                 "(keyCompromise)")));

  RolloutRequest early = Rollback(now);
  early.to.not_before = now + absl::Hours(1);
  EXPECT_THAT(RolloutController::Start(early, now),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("it is not valid before "
                                 "2030-01-07T11:00:00Z")));

  RolloutRequest unnamed = Rollback(now);
  unnamed.to.id = "";
  EXPECT_THAT(RolloutController::Start(unnamed, now),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rollout request for web: the version to "
                                 "move to is empty")));
  // Revoked in the future (scheduled) is still deployable now.
  RolloutRequest later = Rollback(now);
  later.to.revoked_at = now + absl::Hours(1);
  EXPECT_THAT(RolloutController::Start(later, now), IsOk());
}

TEST(RolloutOperationsTest, RestoredFromJsonMidRolloutContinuesIdentically) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  fleet.host("agt-c2").behaviour = SimFleet::Behaviour::kUnhealthy;
  RolloutPolicy policy = TestPolicy();
  policy.failure_threshold = Quantity::Count(2);
  RolloutController original = StartRollout(t0);
  std::vector<RolloutEvent> before;
  // Wave 3 (agt-a1, agt-b1, agt-c1) delivered at +12m, still changing.
  Drive(original, policy, fleet, t0, t0 + absl::Minutes(13), absl::Minutes(1),
        before);
  ASSERT_EQ(original.state().phase, Phase::kDelivering);
  ASSERT_EQ(original.state().wave, 2);

  const std::string json = RolloutStateToJson(original.state());
  EXPECT_THAT(json, HasSubstr("\"phase\":\"delivering\""));
  ASSERT_OK_AND_ASSIGN(RolloutController restored,
                       RolloutController::Restore(json));
  EXPECT_EQ(restored.state(), original.state());
  EXPECT_EQ(RolloutStateToJson(restored.state()), json);

  SimFleet fleet_copy = fleet;
  std::vector<RolloutEvent> after_original;
  std::vector<RolloutEvent> after_restored;
  const absl::Time resume = t0 + absl::Minutes(13);
  Drive(original, policy, fleet, resume, resume + absl::Hours(2),
        absl::Minutes(1), after_original);
  Drive(restored, policy, fleet_copy, resume, resume + absl::Hours(2),
        absl::Minutes(1), after_restored);

  EXPECT_EQ(after_restored, after_original);
  EXPECT_EQ(fleet_copy.log(), fleet.log());
  EXPECT_EQ(restored.state(), original.state());
  // agt-c2 timed out (below the threshold of 2) and went back to web/2.
  EXPECT_EQ(restored.state().phase, Phase::kComplete);
  EXPECT_EQ(OfKind(after_restored, Kind::kHostFailed).size(), 1u);
  EXPECT_EQ(fleet_copy.Installed().at("agt-c2"), "web/2");
}

}  // namespace
}  // namespace certfleet::rollout
