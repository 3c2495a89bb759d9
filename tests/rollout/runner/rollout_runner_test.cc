// RolloutRunner with the real AgentHub: 12 fake agents in 3 pools, an
// in-memory store and a manual fake clock. Steps are driven by the test
// (StepAll) except where the runner's own thread is under test.
#include "coordinator/rollout/runner/rollout_runner.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/rollout/runner/fleet_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::rollout::testing::RolloutFleet;
using ::certfleet::testing::WaitFor;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<int> AllAgents() {
  std::vector<int> all;
  for (int i = 0; i < RolloutFleet::kAgents; ++i) all.push_back(i);
  return all;
}

class RolloutRunnerTest : public ::testing::Test {
 protected:
  // web/1 stored, delivered directly and installed everywhere.
  void ServeFirstVersion() {
    f_.AddVersion();
    ASSERT_OK(f_.runner->OnVersionStored("web", 1));
    f_.parts.hub->Flush();
    ASSERT_EQ(f_.Received("web/1"), AllAgents());
    f_.AckAll("web/1");
  }
  // web/2 stored: the rollout starts and its canary gets the bundle.
  int StartSecondVersion() {
    f_.AddVersion();
    EXPECT_OK(f_.runner->OnVersionStored("web", 2));
    f_.parts.hub->Flush();
    const std::vector<int> canary = f_.Received("web/2");
    EXPECT_THAT(canary, SizeIs(1));
    return canary.empty() ? -1 : canary[0];
  }
  // Whether the last rollout.host_failed audit record names host `i`'s
  // agent and `reason`.
  bool LastHostFailureNames(int i, absl::string_view reason) {
    absl::StatusOr<std::vector<store::AuditRecord>> records =
        f_.parts.store.ListAudit({});
    EXPECT_OK(records.status());
    if (!records.ok()) return false;
    bool named = false;
    for (const store::AuditRecord& a : *records) {
      if (a.action == "rollout.host_failed") {
        named = absl::StrContains(a.detail, reason) &&
                absl::StrContains(a.detail, RolloutFleet::AgentId(i));
      }
    }
    return named;
  }
  std::optional<store::TargetStateRecord> State(int i) {
    return f_.parts.store.TargetState(RolloutFleet::AgentId(i), "www");
  }

  RolloutFleet f_;
};

TEST_F(RolloutRunnerTest, FirstVersionIsDeliveredToEveryAgentDirectly) {
  f_.AddVersion();
  ASSERT_OK(f_.runner->OnVersionStored("web", 1));
  f_.parts.hub->Flush();
  EXPECT_EQ(f_.Received("web/1"), AllAgents());
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    EXPECT_EQ(f_.BundleCount(i), 1) << "agent " << i;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<store::RolloutRecord> rollouts,
                       f_.parts.store.ListRollouts({}));
  EXPECT_THAT(rollouts, IsEmpty());
  EXPECT_THAT(f_.AuditActions(), IsEmpty());
}

// web/2 stored while web/1 is still on its way to everyone (sent, nobody
// confirmed yet): rolled out from web/1, not sent to everyone as if first.
TEST_F(RolloutRunnerTest, VersionStoredWhileTheFirstIsInFlightIsRolledOut) {
  f_.AddVersion();
  ASSERT_OK(f_.runner->OnVersionStored("web", 1));
  f_.parts.hub->Flush();
  ASSERT_EQ(f_.Received("web/1"), AllAgents());
  const int canary = StartSecondVersion();
  ASSERT_GE(canary, 0);
  store::RolloutRecord r = f_.Active();
  EXPECT_EQ(r.from_version, "web/1");
  EXPECT_EQ(r.to_version, "web/2");
}

// Between the issuance storing web/2 and the runner hearing of it, an
// agent (re)connecting with nothing installed is sent what the fleet
// serves, not the new version — also when the hub is fresh from a restart
// and knows nothing but the store.
TEST_F(RolloutRunnerTest,
       AgentJoiningBeforeTheRunnerHearsOfAVersionGetsTheServedOne) {
  ServeFirstVersion();
  f_.Restart();
  f_.AddVersion();  // web/2 stored; OnVersionStored not called yet
  f_.Connect(4, "");
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    if (i != 4) f_.Connect(i, "web/1");
  }
  EXPECT_EQ(f_.LastBundle(4), "web/1");
  EXPECT_THAT(f_.Received("web/2"), IsEmpty());
}

// The coordinator stopped after storing web/2 and before handing it on:
// after the restart web/2 is rolled out (canary first), not sent to all.
TEST_F(RolloutRunnerTest,
       VersionStoredButNeverHandedOnIsRolledOutAfterRestart) {
  ServeFirstVersion();
  f_.AddVersion();
  f_.Restart();
  store::RolloutRecord r = f_.Active();
  EXPECT_EQ(r.from_version, "web/1");
  EXPECT_EQ(r.to_version, "web/2");
  for (int i = 0; i < RolloutFleet::kAgents; ++i) f_.Connect(i, "web/1");
  f_.Step();
  EXPECT_THAT(f_.Received("web/2"), SizeIs(1));
  // Another restart finds the rollout and starts nothing new.
  f_.Restart();
  EXPECT_EQ(f_.Active().id, r.id);
  ASSERT_OK_AND_ASSIGN(std::vector<store::RolloutRecord> all,
                       f_.parts.store.ListRollouts({}));
  EXPECT_THAT(all, SizeIs(1));
}

TEST_F(RolloutRunnerTest, SecondVersionGoesToTheCanaryThenWaveByWave) {
  ServeFirstVersion();
  const int canary = StartSecondVersion();
  ASSERT_GE(canary, 0);
  store::RolloutRecord r = f_.Active();
  EXPECT_EQ(r.from_version, "web/1");
  EXPECT_EQ(r.to_version, "web/2");
  EXPECT_EQ(r.kind, "rollout");
  EXPECT_EQ(r.phase, "delivering");
  EXPECT_THAT(r.id, ::testing::MatchesRegex("ro-[0-9a-f]{12}"));
  // The others are held where they are, in the store too.
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    if (i == canary) continue;
    EXPECT_EQ(State(i)->desired_version_id, "web/1") << "agent " << i;
  }
  EXPECT_EQ(State(canary)->desired_version_id, "web/2");

  // Steps before the canary answers, and a reconnect, move nobody else.
  f_.Step();
  f_.Disconnect(0 == canary ? 1 : 0);
  f_.Connect(0 == canary ? 1 : 0, "web/1");
  f_.Step();
  EXPECT_THAT(f_.Received("web/2"), ElementsAre(canary));

  f_.Ack(canary);  // installed and healthy
  f_.Step();
  EXPECT_EQ(f_.Active().phase, "baking");
  f_.clock.Advance(absl::Minutes(4));
  f_.Step();
  EXPECT_THAT(f_.Received("web/2"), ElementsAre(canary));

  f_.clock.Advance(absl::Minutes(1));  // the bake is over: 50% of 12
  f_.Step();
  const std::vector<int> second = f_.Received("web/2");
  EXPECT_THAT(second, SizeIs(6));
  EXPECT_THAT(second, Contains(canary));
  // Spread across the pools: 2 from each.
  int per_pool[3] = {0, 0, 0};
  for (int i : second) ++per_pool[i % 3];
  EXPECT_THAT(per_pool, ElementsAre(2, 2, 2));

  f_.AckAll("web/2");
  f_.Step();
  f_.clock.Advance(absl::Minutes(5));
  f_.Step();
  EXPECT_EQ(f_.Received("web/2"), AllAgents());
  f_.AckAll("web/2");
  f_.Step();
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> done,
                       f_.parts.store.GetRollout(r.id));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->phase, "complete");
  EXPECT_TRUE(done->finished);

  // Complete on the newest version: a new target gets it directly.
  f_.parts.PutAgent(RolloutFleet::AgentId(12), {{"role", "web"}});
  f_.Connect(12, "");
  EXPECT_EQ(f_.LastBundle(12), "web/2");

  const std::vector<std::string> audit = f_.AuditActions();
  EXPECT_THAT(audit, ElementsAre("rollout.created", "rollout.started",
                                 "rollout.wave_started", "rollout.wave_healthy",
                                 "rollout.bake_started", "rollout.wave_started",
                                 "rollout.wave_healthy", "rollout.bake_started",
                                 "rollout.wave_started", "rollout.wave_healthy",
                                 "rollout.complete"));
  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> records,
                       f_.parts.store.ListAudit({.certificate = "web"}));
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().actor, "coordinator");
  EXPECT_EQ(records.back().detail, r.id + ": web/1 -> web/2");
  EXPECT_EQ(records.back().result, "ok");
}

TEST_F(RolloutRunnerTest, RejectedCanaryHaltsAndIsSentBack) {
  ServeFirstVersion();
  const int canary = StartSecondVersion();
  ASSERT_GE(canary, 0);
  const std::string id = f_.Active().id;
  f_.Reject(canary, "exit 1: nginx: [emerg] cannot load certificate");
  f_.Step();

  // The canary gets web/1 again (a revert is re-sent even though the hub
  // believes it serves web/1: the agent rolled back on its own).
  EXPECT_EQ(f_.LastBundle(canary), "web/1");
  EXPECT_EQ(f_.BundleCount(canary), 3);  // web/1, web/2, web/1
  EXPECT_EQ(State(canary)->desired_version_id, "web/1");
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> halted,
                       f_.parts.store.GetRollout(id));
  EXPECT_EQ(halted->phase, "halted");

  f_.Ack(canary);
  f_.Step();
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> back,
                       f_.parts.store.GetRollout(id));
  EXPECT_EQ(back->phase, "rolled_back");
  EXPECT_TRUE(back->finished);

  // Nobody else ever got web/2, not even later or on reconnecting.
  f_.clock.Advance(absl::Hours(1));
  f_.Step();
  f_.Disconnect(canary);
  f_.Connect(canary, "web/1");
  EXPECT_THAT(f_.Received("web/2"), IsEmpty());  // canary: new stream
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    if (i == canary) continue;
    EXPECT_EQ(f_.BundleCount(i), 1) << "agent " << i;
  }
  // A new target gets the version the fleet serves, not the refused one.
  f_.parts.PutAgent(RolloutFleet::AgentId(12), {{"role", "web"}});
  f_.Connect(12, "");
  EXPECT_EQ(f_.LastBundle(12), "web/1");

  const std::vector<std::string> audit = f_.AuditActions();
  EXPECT_THAT(audit, Contains("rollout.host_failed"));
  EXPECT_THAT(audit, Contains("rollout.halted"));
  EXPECT_EQ(audit.back(), "rollout.rolled_back");
  EXPECT_TRUE(LastHostFailureNames(canary, "cannot load certificate"));
}

// The canary's agent dies while installing web/2; its crash recovery rolls
// it back and reports that in its next inventory: the rollout counts it as
// the canary's failure of web/2, as it counts a rejected delivery, and
// web/2 is not sent to it again.
TEST_F(RolloutRunnerTest, CanaryRolledBackByCrashRecoveryIsAFailure) {
  ServeFirstVersion();
  const int canary = StartSecondVersion();
  ASSERT_GE(canary, 0);
  const std::string id = f_.Active().id;
  f_.Disconnect(canary);
  f_.clock.Advance(absl::Seconds(30));
  f_.Connect(canary, "web/1", /*rolled_back=*/"web/2");
  EXPECT_EQ(State(canary)->last_error_version_id, "web/2");
  f_.Step();

  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> halted,
                       f_.parts.store.GetRollout(id));
  EXPECT_EQ(halted->phase, "halted");
  EXPECT_THAT(f_.AuditActions(), Contains("rollout.host_failed"));
  EXPECT_TRUE(LastHostFailureNames(canary, "interrupted"));
  // Its new stream never gets web/2, not on the next reconnect either.
  f_.Disconnect(canary);
  f_.Connect(canary, "web/1", "web/2");
  f_.Step();
  EXPECT_THAT(f_.Received("web/2"), IsEmpty());
}

TEST_F(RolloutRunnerTest, RunnerRebuiltFromTheStoreContinues) {
  ServeFirstVersion();
  const int canary = StartSecondVersion();
  ASSERT_GE(canary, 0);
  f_.Ack(canary);
  f_.Step();
  const store::RolloutRecord before = f_.Active();
  ASSERT_EQ(before.phase, "baking");

  f_.Restart();
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    f_.Connect(i, i == canary ? "web/2" : "web/1");
  }
  f_.Step();
  // Held after the restart: nobody is sent anything yet.
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    EXPECT_EQ(f_.BundleCount(i), 0) << "agent " << i;
  }
  EXPECT_EQ(f_.Active().id, before.id);

  f_.clock.Advance(absl::Minutes(5));
  f_.Step();
  EXPECT_THAT(f_.Received("web/2"), SizeIs(5));  // the rest of 50%
  EXPECT_THAT(f_.Received("web/1"), IsEmpty());
  EXPECT_EQ(f_.Active().phase, "delivering");
  const std::vector<std::string> audit = f_.AuditActions();
  EXPECT_EQ(std::count(audit.begin(), audit.end(), "rollout.started"), 1);
  EXPECT_EQ(audit.back(), "rollout.wave_started");
}

TEST_F(RolloutRunnerTest, NewerVersionSupersedesTheActiveRollout) {
  ServeFirstVersion();
  const int canary = StartSecondVersion();
  ASSERT_GE(canary, 0);
  const std::string old_id = f_.Active().id;

  f_.AddVersion();
  ASSERT_OK(f_.runner->OnVersionStored("web", 3));
  f_.parts.hub->Flush();
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> old,
                       f_.parts.store.GetRollout(old_id));
  EXPECT_EQ(old->phase, "aborted");
  const store::RolloutRecord now = f_.Active();
  EXPECT_NE(now.id, old_id);
  EXPECT_EQ(now.from_version, "web/1");  // what 11 of 12 serve
  EXPECT_EQ(now.to_version, "web/3");
  EXPECT_THAT(f_.Received("web/3"), SizeIs(1));
  EXPECT_THAT(f_.Received("web/2"), ElementsAre(canary));

  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> records,
                       f_.parts.store.ListAudit({}));
  bool why = false;
  for (const store::AuditRecord& a : records) {
    if (a.action == "rollout.aborted") {
      why = absl::StrContains(a.detail,
                              "rollout " + old_id + " superseded by web/3");
    }
  }
  EXPECT_TRUE(why);
}

TEST_F(RolloutRunnerTest, ThreadStepsWhenAnAgentReports) {
  ServeFirstVersion();
  const int canary = StartSecondVersion();
  ASSERT_GE(canary, 0);
  f_.parts.hub->SetReportListener([r = f_.runner.get()] { r->Poke(); });
  f_.runner->Start();
  f_.Ack(canary);  // the report pokes the thread: no StepAll here
  // Asleep again too: a sleep begun after the clock moves would end an
  // interval after the new time, which the test never reaches.
  EXPECT_OK(WaitFor("the rollout to bake after the canary's report", [&] {
    return f_.Active().phase == "baking" && f_.clock.sleepers() == 1;
  }));
  // The interval runs on the fake clock: the bake ends when it moves.
  f_.clock.Advance(absl::Minutes(5));
  EXPECT_OK(WaitFor("web/2 sent to all six agents after the bake",
                    [&] { return f_.Received("web/2").size() == 6; }));
  f_.runner->Stop();
}

TEST_F(RolloutRunnerTest, UnservableVersionIsRefusedAndAudited) {
  ServeFirstVersion();
  f_.AddVersion();
  ASSERT_OK(f_.parts.store.MarkVersionRevoked("web", 2, f_.clock.Now(),
                                              "keyCompromise"));
  EXPECT_THAT(f_.runner->OnVersionStored("web", 2),
              ::certfleet::testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition, HasSubstr("revoked")));
  f_.parts.hub->Flush();
  EXPECT_THAT(f_.Received("web/2"), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> records,
                       f_.parts.store.ListAudit({}));
  ASSERT_THAT(records, SizeIs(1));
  EXPECT_EQ(records[0].action, "rollout.refused");
  EXPECT_THAT(records[0].result, HasSubstr("revoked"));
}

}  // namespace
}  // namespace certfleet::rollout
