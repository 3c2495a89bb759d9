// The hub's store writes, written behind its thread (hub_writer.h): a
// bundle still waits for its desired version to be stored while the hub
// serves everyone else; a report not yet written is not lost when its agent
// reconnects; Flush is a barrier that waits for what was posted before it,
// not for a queue that never empties.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "coordinator/delivery/agent_hub.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/delivery/hub_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::delivery::testing {
namespace {

using ::certfleet::testing::WaitFor;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Decide, store, then act: the bundle goes once the store took its desired
// version — and the hub does not wait for the store meanwhile.
TEST_F(AgentHubTest, ABundleWaitsForItsDesiredVersionNotTheHub) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
  c_.store.Hold(RecordingStore::Held::kDesiredVersionWrites);
  c_.hub->OnMessage(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_OK(WaitFor("the desired-version write held", [&] {
    return c_.store.waiting(RecordingStore::Held::kDesiredVersionWrites) == 1;
  }));
  // Another agent attaches and is welcomed while the write hangs.
  auto db = std::make_shared<FakeChannel>();
  c_.hub->Attach(kDbAgent, kTestIdentitySerial, db);
  ASSERT_OK(WaitFor("db welcomed", [&] { return !db->sent().empty(); }));
  EXPECT_TRUE(db->sent()[0].has_welcome());
  EXPECT_THAT(web->bundles(), IsEmpty());

  c_.store.Release(RecordingStore::Held::kDesiredVersionWrites);
  c_.hub->Flush();
  ASSERT_THAT(web->bundles(), SizeIs(1));
  EXPECT_EQ(web->bundles()[0].version_id(), "web/1");
  EXPECT_EQ(State(kWebAgent, "www")->desired_version_id, "web/1");
}

TEST_F(AgentHubTest, ADesiredVersionTheStoreRefusesIsNotSent) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
  c_.store.RefuseDesiredVersions(true);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  EXPECT_THAT(web->bundles(), IsEmpty());
  EXPECT_EQ(State(kWebAgent, "www")->desired_version_id, "");
}

// The previous stream's failure report still waits to be written when the
// agent is back: what the new stream reports is added to it, not to the
// older stored record (which would lose the failure a rollout reads).
TEST_F(AgentHubTest, AReportNotYetWrittenSurvivesAReconnect) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> first = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(first->bundles(), SizeIs(1));
  c_.store.HoldTargetStateWrites();
  c_.hub->OnMessage(kWebAgent,
                    Result(first->bundles()[0], false, "reload", "exit 1"));
  ASSERT_OK(WaitFor("a held target-state write",
                    [&] { return c_.store.held_writes() == 1; }));
  c_.hub->Detach(kWebAgent, first.get());
  auto second = std::make_shared<FakeChannel>();
  c_.hub->Attach(kWebAgent, kTestIdentitySerial, second);
  c_.hub->OnMessage(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_OK(WaitFor("the second agent sent something",
                    [&] { return !second->sent().empty(); }));

  c_.store.ReleaseTargetStateWrites();
  c_.hub->Flush();
  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->last_error, "reload: exit 1");
  EXPECT_EQ(s->last_error_version_id, "web/1");
  EXPECT_EQ(s->desired_version_id, "web/1");
}

// A report wakes a rollout (the report listener) once its write was tried:
// the rollout reads reports from the store, and a wake-up before the write
// would step on the old state, then sleep a whole interval.
TEST_F(AgentHubTest, AReportWakesRolloutsOnceItIsStored) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(web->bundles(), SizeIs(1));
  std::atomic<int> told{0};
  absl::Mutex mu;
  std::string stored_when_told;  // guarded by mu
  c_.hub->SetReportListener([&] {
    std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
    absl::MutexLock lock(&mu);
    stored_when_told = s.has_value() ? s->last_error : "(none)";
    ++told;
  });
  c_.hub->Flush();
  c_.store.HoldTargetStateWrites();
  c_.hub->OnMessage(kWebAgent,
                    Result(web->bundles()[0], false, "reload", "exit 1"));
  ASSERT_OK(WaitFor("a held target-state write",
                    [&] { return c_.store.held_writes() == 1; }));
  // The hub has handled the result (it handles tasks in order): it queued
  // the report, but the listener waits for the write.
  auto db = std::make_shared<FakeChannel>();
  c_.hub->Attach(kDbAgent, kTestIdentitySerial, db);
  ASSERT_OK(WaitFor("db welcomed", [&] { return !db->sent().empty(); }));
  EXPECT_EQ(told.load(), 0);

  c_.store.ReleaseTargetStateWrites();
  ASSERT_OK(WaitFor("the listener told", [&] { return told.load() == 1; }));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(stored_when_told, "reload: exit 1");
}

// Under steady agent traffic the hub's queue is never empty; Flush waits
// for what was posted before it (and the writes that work queued), not
// for a moment of quiet. Here every message's write takes 20 ms and one
// arrives every 2 ms.
TEST_F(AgentHubTest, FlushWaitsForWhatCameBeforeItNotForQuiet) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(web->bundles(), SizeIs(1));
  Send(kWebAgent, Result(web->bundles()[0], true));
  c_.store.SlowWrites(absl::Milliseconds(20));
  std::atomic<bool> stop{false};
  const absl::Time end = absl::Now() + absl::Seconds(5);
  std::thread traffic([&] {
    for (int i = 0; !stop && absl::Now() < end; ++i) {
      c_.hub->OnMessage(kWebAgent,
                        Health("www", true, "probe " + std::to_string(i)));
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  absl::SleepFor(absl::Milliseconds(200));
  AddVersion("1a02");
  c_.hub->NotifyVersion("web");
  const absl::Time flushed = absl::Now();
  c_.hub->Flush();
  const absl::Duration took = absl::Now() - flushed;
  // Sent by the time Flush returns: its desired version was written first.
  const std::vector<std::string> sent = web->versions_sent();
  stop = true;
  traffic.join();
  c_.store.SlowWrites(absl::ZeroDuration());
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_THAT(sent, ::testing::ElementsAre("web/1", "web/2"));
}

}  // namespace
}  // namespace certfleet::delivery::testing
