// Rollouts across a real fleet (rollout_lab.h): 12 certfleet-agent
// processes in pools p0, p1, p2, 6 of them behind real nginx, the
// coordinator's agent side and rollout runner in this process. Each test
// starts a fresh lab serving version 1 and rolls out version 2:
// - waves respect max_unavailable per pool, judged from the reload times
//   the hosts logged;
// - a canary whose nginx configuration is broken halts the rollout and no
//   other host changes;
// - a rollback restores version 1 everywhere;
// - a coordinator restarted mid-rollout resumes it, reloading nobody twice;
// - pause holds the fleet past the bake, resume completes it;
// - a maintenance window defers the rollout until it opens; an urgent
//   rollout (the served version expiring soon) ignores it.
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/fleet_rollout/rollout_lab.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::fleet_rollout {
namespace {

using rollout::Quantity;
using rollout::RolloutState;

constexpr absl::Duration kRolloutTimeout = absl::Seconds(90);

// Canary, half, everyone; one host of a pool at a time; a bake of 1 s.
rollout::RolloutPolicy Careful() {
  rollout::RolloutPolicy p;
  p.waves = {Quantity::Count(1), Quantity::Percent(50), Quantity::Percent(100)};
  p.pool_label = "pool";
  p.max_unavailable = Quantity::Count(1);
  p.bake_time = absl::Seconds(1);
  p.health_timeout = absl::Seconds(30);
  p.failure_threshold = Quantity::Count(1);
  p.urgent_within = absl::Hours(24);
  return p;
}

// A daily window opening two hours from `now` (UTC), an hour long.
rollout::MaintenanceWindow WindowInTwoHours(absl::Time now) {
  const absl::CivilMinute m = absl::ToCivilMinute(now, absl::UTCTimeZone());
  const int start = (m.hour() * 60 + m.minute() + 120) % 1440;
  rollout::MaintenanceWindow w;
  w.start_minute = start;
  w.end_minute = (start + 60) % 1440 == 0 ? 1440 : (start + 60) % 1440;
  return w;
}

class FleetRolloutTest : public ::testing::Test {
 protected:
  void StartLab(rollout::RolloutPolicy policy) {
    ASSERT_OK_AND_ASSIGN(lab_, RolloutLab::Start(std::move(policy)));
    ASSERT_OK_AND_ASSIGN(v1_serial_, lab_->Served(0));
  }

  // Every host's reload since `since`, for messages.
  std::string ReloadsSince(absl::Time since) const {
    return Describe(Since(lab_->Reloads(), since));
  }

  std::unique_ptr<RolloutLab> lab_;
  std::string v1_serial_;
};

TEST_F(FleetRolloutTest, WavesRespectMaxUnavailablePerPool) {
  ASSERT_NO_FATAL_FAILURE(StartLab(Careful()));
  const absl::Time t0 = absl::Now();
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK(lab_->WaitAllServe(v2.serial, absl::Seconds(10)));

  const std::vector<ReloadSpan> spans = Since(lab_->Reloads(), t0);
  ASSERT_EQ(spans.size(), RolloutLab::kAgents) << Describe(spans);
  std::set<int> slots;
  for (const ReloadSpan& s : spans) {
    EXPECT_EQ(s.exit_code, 0) << Describe(spans);
    slots.insert(s.slot);
  }
  EXPECT_EQ(slots.size(), RolloutLab::kAgents) << "a host reloaded twice";
  // The canary alone first, and finished (plus the bake) before the rest.
  EXPECT_EQ(spans[0].slot, lab_->CanarySlot()) << Describe(spans);
  EXPECT_GE(spans[1].begin, spans[0].end + absl::Seconds(1)) << Describe(spans);
  // Never two hosts of one pool changing at once...
  for (const char* pool : {"p0", "p1", "p2"}) {
    EXPECT_EQ(MaxConcurrent(OfPool(spans, pool)), 1) << pool << ":\n"
                                                     << Describe(spans);
  }
  // ...while pools did change side by side (so overlaps are observable).
  const int fleet_wide = MaxConcurrent(spans);
  EXPECT_GE(fleet_wide, 2) << Describe(spans);
  printf("reloads: %zu, most changing at once: %d in the fleet, 1 per pool\n",
         spans.size(), fleet_wide);
  ASSERT_OK_AND_ASSIGN(RolloutState s, lab_->LatestState());
  EXPECT_EQ(s.wave, 2);
}

TEST_F(FleetRolloutTest, BrokenCanaryHaltsAndNoOtherHostChanges) {
  ASSERT_NO_FATAL_FAILURE(StartLab(Careful()));
  const int canary = lab_->CanarySlot();
  ASSERT_NE(lab_->agents()[canary].nginx, nullptr);
  ASSERT_OK(lab_->agents()[canary].nginx->BreakConfig());
  std::vector<std::string> links;
  for (const LabAgent& a : lab_->agents()) {
    links.push_back(lab_->CurrentLink(a.slot));
  }
  const absl::Time t0 = absl::Now();
  ASSERT_OK(lab_->Publish().status());

  ASSERT_OK(lab_->WaitForState(
      [](const RolloutState& s) {
        return s.phase == rollout::Phase::kRolledBack ||
               s.phase == rollout::Phase::kHalted;
      },
      "halted", kRolloutTimeout));
  ASSERT_OK_AND_ASSIGN(RolloutState s, lab_->LatestState());
  EXPECT_NE(s.halt_reason, "");
  // Only the canary was tried, and its reload failed.
  const std::vector<ReloadSpan> spans = Since(lab_->Reloads(), t0);
  ASSERT_FALSE(spans.empty());
  for (const ReloadSpan& r : spans) {
    EXPECT_EQ(r.slot, canary) << Describe(spans);
  }
  EXPECT_NE(spans[0].exit_code, 0) << Describe(spans);
  // Give a wrongly continuing rollout the time to reach someone else.
  absl::SleepFor(absl::Seconds(2));
  for (const LabAgent& a : lab_->agents()) {
    EXPECT_EQ(*lab_->Served(a.slot), v1_serial_) << "slot " << a.slot;
    EXPECT_EQ(lab_->CurrentLink(a.slot), links[a.slot]) << "slot " << a.slot;
  }
  for (const ReloadSpan& r : Since(lab_->Reloads(), t0)) {
    EXPECT_EQ(r.slot, canary) << ReloadsSince(t0);
  }
}

TEST_F(FleetRolloutTest, RollbackRestoresThePreviousVersionEverywhere) {
  ASSERT_NO_FATAL_FAILURE(StartLab(Careful()));
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK(lab_->WaitAllServe(v2.serial, absl::Seconds(10)));

  const absl::Time t0 = absl::Now();
  ASSERT_OK_AND_ASSIGN(
      store::RolloutRecord rollback,
      lab_->runner().Rollback(kCertificate, 0, false, "admin:test"));
  EXPECT_EQ(rollback.kind, "rollback");
  EXPECT_EQ(rollback.to_version, "web/1");
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK(lab_->WaitAllServe(v1_serial_, absl::Seconds(10)));
  // Through the same waves: one reload per host, the canary first.
  const std::vector<ReloadSpan> spans = Since(lab_->Reloads(), t0);
  EXPECT_EQ(spans.size(), RolloutLab::kAgents) << Describe(spans);
  EXPECT_EQ(spans.front().slot, lab_->CanarySlot()) << Describe(spans);
  for (const char* pool : {"p0", "p1", "p2"}) {
    EXPECT_EQ(MaxConcurrent(OfPool(spans, pool)), 1) << Describe(spans);
  }
}

TEST_F(FleetRolloutTest, CoordinatorRestartedMidRolloutResumes) {
  rollout::RolloutPolicy policy = Careful();
  policy.bake_time = absl::Seconds(3);
  ASSERT_NO_FATAL_FAILURE(StartLab(policy));
  const absl::Time t0 = absl::Now();
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  // The canary is healthy and baking: the coordinator goes down.
  ASSERT_OK(lab_->WaitForPhase("baking", kRolloutTimeout));
  ASSERT_OK_AND_ASSIGN(store::RolloutRecord before, lab_->LatestRollout());
  lab_->StopCoordinator();
  absl::SleepFor(absl::Seconds(1));
  ASSERT_OK(lab_->StartCoordinator());

  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK_AND_ASSIGN(store::RolloutRecord after, lab_->LatestRollout());
  EXPECT_EQ(after.id, before.id) << "the same rollout went on";
  ASSERT_OK(lab_->WaitAllServe(v2.serial, absl::Seconds(10)));
  // Nobody was reloaded twice: the canary kept its version over the
  // restart, the others got it once.
  const std::vector<ReloadSpan> spans = Since(lab_->Reloads(), t0);
  EXPECT_EQ(spans.size(), RolloutLab::kAgents) << Describe(spans);
  EXPECT_EQ(spans.front().slot, lab_->CanarySlot()) << Describe(spans);
  for (const char* pool : {"p0", "p1", "p2"}) {
    EXPECT_EQ(MaxConcurrent(OfPool(spans, pool)), 1) << Describe(spans);
  }
}

TEST_F(FleetRolloutTest, PauseHoldsTheFleetAndResumeCompletes) {
  ASSERT_NO_FATAL_FAILURE(StartLab(Careful()));
  const absl::Time t0 = absl::Now();
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  ASSERT_OK(lab_->WaitForPhase("baking", kRolloutTimeout));
  ASSERT_OK(
      lab_->runner()
          .Act(kCertificate, rollout::OperatorAction::kPause, "admin:test")
          .status());
  // Three bakes long: nothing moves.
  absl::SleepFor(absl::Seconds(3));
  ASSERT_OK_AND_ASSIGN(RolloutState paused, lab_->LatestState());
  EXPECT_EQ(paused.phase, rollout::Phase::kPaused);
  const std::vector<ReloadSpan> while_paused = Since(lab_->Reloads(), t0);
  ASSERT_EQ(while_paused.size(), 1u) << Describe(while_paused);
  EXPECT_EQ(while_paused[0].slot, lab_->CanarySlot());

  ASSERT_OK(
      lab_->runner()
          .Act(kCertificate, rollout::OperatorAction::kResume, "admin:test")
          .status());
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK(lab_->WaitAllServe(v2.serial, absl::Seconds(10)));
  EXPECT_EQ(Since(lab_->Reloads(), t0).size(), RolloutLab::kAgents)
      << ReloadsSince(t0);
}

TEST_F(FleetRolloutTest, MaintenanceWindowDefersThenProceeds) {
  rollout::RolloutPolicy policy = Careful();
  policy.windows = {WindowInTwoHours(absl::Now())};
  ASSERT_NO_FATAL_FAILURE(StartLab(policy));
  const absl::Time t0 = absl::Now();
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  ASSERT_OK(lab_->WaitForState(
      [](const RolloutState& s) { return s.waiting_for_window; },
      "waiting for its window", absl::Seconds(10)));
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(Since(lab_->Reloads(), t0).size(), 0u) << ReloadsSince(t0);
  ASSERT_OK_AND_ASSIGN(RolloutState waiting, lab_->LatestState());
  EXPECT_TRUE(waiting.waiting_for_window);
  EXPECT_FALSE(waiting.urgent);
  // The coordinator's clock reaches the window (the agents' stays real:
  // version 2 is valid by both).
  const absl::Duration to_window =
      waiting.window_opens_at - lab_->clock().Now();
  EXPECT_GT(to_window, absl::Minutes(110));
  EXPECT_LE(to_window, absl::Minutes(121));
  lab_->clock().Shift(to_window + absl::Seconds(1));

  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK(lab_->WaitAllServe(v2.serial, absl::Seconds(10)));
  EXPECT_EQ(Since(lab_->Reloads(), t0).size(), RolloutLab::kAgents)
      << ReloadsSince(t0);
}

TEST_F(FleetRolloutTest, UrgentRolloutIgnoresTheWindow) {
  rollout::RolloutPolicy policy = Careful();
  policy.windows = {WindowInTwoHours(absl::Now())};
  // Version 1 expires in 30 days: within urgent_within.
  policy.urgent_within = absl::Hours(24 * 60);
  ASSERT_NO_FATAL_FAILURE(StartLab(policy));
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK(lab_->WaitAllServe(v2.serial, absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(RolloutState s, lab_->LatestState());
  EXPECT_TRUE(s.urgent);
  EXPECT_FALSE(s.waiting_for_window);
}

}  // namespace
}  // namespace certfleet::fleet_rollout
