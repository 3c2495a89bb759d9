// The rollout runner acts only on what it saved as leader: a step's state
// is saved (fenced on leadership, here a store that refuses like a deposed
// leader's etcd) before anything is delivered; a step saved without its
// deliveries is completed by the next one from the saved state; and once
// its term ends the runner takes no step at all.
#include <memory>
#include <string>
#include <vector>

#include "common/context.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rollout/runner/fleet_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::rollout::testing::RolloutFleet;
using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::SizeIs;

class LeadershipFenceTest : public ::testing::Test {
 protected:
  // web/1 everywhere, web/2's canary healthy and its bake over: the next
  // step starts the 50% wave.
  void SetUp() override {
    f_.AddVersion();
    ASSERT_OK(f_.runner->OnVersionStored("web", 1));
    f_.parts.hub->Flush();
    f_.AckAll("web/1");
    f_.AddVersion();
    ASSERT_OK(f_.runner->OnVersionStored("web", 2));
    f_.parts.hub->Flush();
    const std::vector<int> received = f_.Received("web/2");
    ASSERT_THAT(received, SizeIs(1));
    canary_ = received[0];
    f_.Ack(canary_);
    f_.Step();
    ASSERT_EQ(f_.Active().phase, "baking");
    f_.clock.Advance(absl::Minutes(5));
  }
  std::string Desired(int i) {
    std::optional<store::TargetStateRecord> s =
        f_.parts.store.TargetState(RolloutFleet::AgentId(i), "www");
    return s.has_value() ? s->desired_version_id : "(none)";
  }

  RolloutFleet f_;
  int canary_ = -1;
};

TEST_F(LeadershipFenceTest, AStepWhoseSaveIsRefusedDeliversNothing) {
  f_.parts.store.RefuseRolloutSaves(true);
  EXPECT_THAT(f_.runner->StepAll(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  f_.parts.hub->Flush();
  // Nobody but the canary was sent web/2 or told to serve it.
  EXPECT_THAT(f_.Received("web/2"), ElementsAre(canary_));
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    EXPECT_EQ(Desired(i), i == canary_ ? "web/2" : "web/1") << "agent " << i;
  }
  EXPECT_EQ(f_.Active().phase, "baking");
}

TEST_F(LeadershipFenceTest, ADeliveryWhoseDesiredVersionIsRefusedIsNotSent) {
  f_.parts.store.RefuseDesiredVersions(true);
  f_.Step();  // the 50% wave starts and is saved; its deliveries are refused
  EXPECT_EQ(f_.Active().phase, "delivering");
  EXPECT_THAT(f_.Received("web/2"), ElementsAre(canary_));
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    if (i == canary_) continue;
    EXPECT_EQ(Desired(i), "web/1") << "agent " << i;
  }
}

// Saved, then lost before its deliveries (a crash, a deposition): the next
// step — here a new leader's runner, rebuilt from the store — sends what the
// saved state calls for, once.
TEST_F(LeadershipFenceTest,
       AStepSavedWithoutItsDeliveriesIsCompletedByTheNext) {
  f_.parts.store.RefuseDesiredVersions(true);
  f_.Step();
  ASSERT_THAT(f_.Received("web/2"), ElementsAre(canary_));
  f_.parts.store.RefuseDesiredVersions(false);
  f_.Restart();
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    f_.Connect(i, i == canary_ ? "web/2" : "web/1");
  }
  f_.Step();
  const std::vector<int> moved = f_.Received("web/2");
  EXPECT_THAT(moved, SizeIs(5));  // the 50% wave, less the canary
  int told = 0;
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    if (Desired(i) == "web/2") ++told;
  }
  EXPECT_EQ(told, 6);
  // Sent once: another step sends nothing more.
  f_.Step();
  for (int i : moved) EXPECT_EQ(f_.BundleCount(i), 1) << "agent " << i;
}

TEST_F(LeadershipFenceTest, AnEndedTermTakesNoStep) {
  auto term = std::make_shared<Cancellation>();
  f_.runner = std::make_unique<RolloutRunner>(
      f_.parts.store, *f_.parts.hub, f_.parts.certificates,
      f_.parts.assignments, f_.clock, RolloutRunnerOptions{.term = term});
  term->Cancel();
  const store::RolloutRecord before = f_.Active();
  EXPECT_OK(f_.runner->StepAll());
  f_.parts.hub->Flush();
  EXPECT_THAT(f_.Received("web/2"), ElementsAre(canary_));
  const store::RolloutRecord after = f_.Active();
  EXPECT_EQ(after.revision, before.revision);
  EXPECT_EQ(after.phase, "baking");
}

}  // namespace
}  // namespace certfleet::rollout
