// HubWriter alone, over an in-memory store that counts its batch calls and
// can hang or fail them: a later write of a key replaces one still waiting,
// a batch is one store call per kind, a barrier waits for what was queued
// before it only, retryable failures are written again, a replaced
// decision is told so.
#include "coordinator/delivery/hub_writer.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "coordinator/store/memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::delivery {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;

class CountingStore : public store::InMemoryStore {
 public:
  std::vector<absl::Status> PutTargetStates(
      const std::vector<store::TargetStateRecord>& states) override {
    {
      absl::MutexLock lock(&mu_);
      ++waiting_;
      mu_.Await(absl::Condition(
          +[](bool* held) { return !*held; }, &held_));
      --waiting_;
      std::string batch;
      for (const store::TargetStateRecord& s : states) {
        batch += (batch.empty() ? "" : " ") + s.agent_id + ":" + s.detail;
      }
      log_.push_back("reports " + batch);
      if (failures_ > 0) {
        --failures_;
        return std::vector<absl::Status>(
            states.size(), absl::UnavailableError("store: etcd away"));
      }
    }
    return InMemoryStore::PutTargetStates(states);
  }
  std::vector<absl::Status> PutDesiredVersions(
      const std::vector<store::TargetStateRecord>& desired) override {
    {
      absl::MutexLock lock(&mu_);
      std::string batch;
      for (const store::TargetStateRecord& d : desired) {
        batch += (batch.empty() ? "" : " ") + d.agent_id + ":" +
                 d.desired_version_id;
      }
      log_.push_back("desired " + batch);
    }
    return InMemoryStore::PutDesiredVersions(desired);
  }

  void Hold(bool held) {
    absl::MutexLock lock(&mu_);
    held_ = held;
  }
  int waiting() const {
    absl::MutexLock lock(&mu_);
    return waiting_;
  }
  void FailNext(int n) {
    absl::MutexLock lock(&mu_);
    failures_ = n;
  }
  void Note(const std::string& what) {
    absl::MutexLock lock(&mu_);
    log_.push_back(what);
  }
  std::vector<std::string> log() const {
    absl::MutexLock lock(&mu_);
    return log_;
  }
  std::string Detail(const std::string& agent) {
    absl::StatusOr<std::vector<store::TargetStateRecord>> s =
        ListTargetStates(agent);
    return s.ok() && !s->empty() ? (*s)[0].detail : "(none)";
  }

 private:
  mutable absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
};

store::TargetStateRecord Report(const std::string& agent,
                                const std::string& detail) {
  return {.agent_id = agent, .target = "www", .detail = detail};
}

class HubWriterTest : public ::testing::Test {
 protected:
  // Callbacks run on the writer's thread, in order: enough for these tests.
  HubWriterTest()
      : writer_(std::make_unique<HubWriter>(
            store_, [](std::function<void()> f) { f(); }, nullptr,
            BackoffPolicy{.initial = absl::Milliseconds(1),
                          .max = absl::Milliseconds(5)})) {}

  // Blocks until every write queued so far was tried.
  void Drain() {
    absl::Notification done;
    writer_->Barrier([&] { done.Notify(); });
    done.WaitForNotification();
  }
  // Queues a report and waits until the writer hangs in the store with it.
  void HangOn(const store::TargetStateRecord& report) {
    store_.Hold(true);
    writer_->PutTargetState(report);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (store_.waiting() == 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_EQ(store_.waiting(), 1);
  }

  CountingStore store_;
  std::unique_ptr<HubWriter> writer_;
};

TEST_F(HubWriterTest, ALaterWriteOfAKeyReplacesOneWaitingAndABatchIsOneCall) {
  HangOn(Report("agt-a", "1"));
  writer_->PutTargetState(Report("agt-a", "2"));
  writer_->PutTargetState(Report("agt-b", "1"));
  writer_->PutTargetState(Report("agt-a", "3"));
  EXPECT_EQ(writer_->pending(), 3u);  // one being written, two waiting
  store_.Hold(false);
  Drain();
  EXPECT_THAT(store_.log(),
              ElementsAre("reports agt-a:1", "reports agt-a:3 agt-b:1"));
  EXPECT_EQ(store_.Detail("agt-a"), "3");
  EXPECT_EQ(writer_->pending(), 0u);
}

TEST_F(HubWriterTest, PendingReportsShowWhatTheStoreMayNotHaveYet) {
  HangOn(Report("agt-a", "being written"));
  writer_->PutTargetState(
      {.agent_id = "agt-a", .target = "mail", .detail = "queued"});
  writer_->PutTargetState(Report("agt-b", "another agent"));
  std::vector<store::TargetStateRecord> pending =
      writer_->PendingReports("agt-a");
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].target, "mail");
  EXPECT_EQ(pending[1].detail, "being written");
  writer_->PutTargetState(Report("agt-a", "newer"));
  pending = writer_->PendingReports("agt-a");
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[1].detail, "newer");  // queued beats being written
  store_.Hold(false);
  Drain();
  EXPECT_TRUE(writer_->PendingReports("agt-a").empty());
}

TEST_F(HubWriterTest, ABarrierWaitsForWhatCameBeforeItOnly) {
  HangOn(Report("agt-a", "before"));
  writer_->Barrier([&] { store_.Note("barrier"); });
  writer_->PutTargetState(Report("agt-b", "after"));
  store_.Hold(false);
  Drain();
  EXPECT_THAT(store_.log(), ElementsAre("reports agt-a:before", "barrier",
                                        "reports agt-b:after"));
}

// Reports are facts: one that failed because the store was away is written
// again, after a backoff, unless a newer one for its key came meanwhile. A
// barrier does not wait for the store to come back.
TEST_F(HubWriterTest, RetryableFailuresAreWrittenAgain) {
  store_.FailNext(2);
  writer_->PutTargetState(Report("agt-a", "1"));
  Drain();  // after the first try
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (store_.Detail("agt-a") != "1" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(store_.Detail("agt-a"), "1");
  EXPECT_THAT(store_.log(), ElementsAre("reports agt-a:1", "reports agt-a:1",
                                        "reports agt-a:1"));
}

// A decision replaced while waiting is told so; the store sees only the
// later one. Decisions come after the reports of their batch.
TEST_F(HubWriterTest, AReplacedDecisionIsToldAborted) {
  HangOn(Report("agt-a", "1"));
  std::vector<absl::Status> told;
  auto decide = [&](const std::string& version) {
    writer_->PutDesiredVersion(
        {.agent_id = "agt-a",
         .target = "www",
         .certificate = "web",
         .desired_version_id = version},
        [&told](const absl::Status& s) { told.push_back(s); });
  };
  decide("web/1");
  decide("web/2");
  writer_->PutTargetState(Report("agt-a", "2"));
  store_.Hold(false);
  Drain();
  ASSERT_EQ(told.size(), 2u);
  EXPECT_THAT(told[0], StatusIs(absl::StatusCode::kAborted));
  EXPECT_OK(told[1]);
  EXPECT_THAT(store_.log(), ElementsAre("reports agt-a:1", "reports agt-a:2",
                                        "desired agt-a:web/2"));
}

}  // namespace
}  // namespace certfleet::delivery
