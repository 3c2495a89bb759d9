#include "coordinator/dns/update_batcher.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::dns {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kZone[] = "example.test.";

UpdateOp Add(const std::string& value) {
  return {UpdateOp::kAdd, {"_acme-challenge.example.test.", value}};
}

// Records every UPDATE; the first one blocks until released, so later
// callers queue behind it deterministically.
class RecordingSender {
 public:
  absl::Status Send(const std::string& zone, const std::vector<UpdateOp>& ops,
                    absl::Time) {
    int n;
    {
      absl::MutexLock lock(&mu_);
      sent_.push_back(ops);
      zones_.push_back(zone);
      n = static_cast<int>(sent_.size());
    }
    if (n == 1) {
      first_started_.Notify();
      release_first_.WaitForNotification();
    }
    absl::MutexLock lock(&mu_);
    return n <= static_cast<int>(results_.size()) ? results_[n - 1]
                                                  : absl::OkStatus();
  }
  std::vector<std::vector<UpdateOp>> sent() {
    absl::MutexLock lock(&mu_);
    return sent_;
  }
  void SetResults(std::vector<absl::Status> r) {
    absl::MutexLock lock(&mu_);
    results_ = std::move(r);
  }

  absl::Notification first_started_;
  absl::Notification release_first_;

 private:
  absl::Mutex mu_;
  std::vector<std::vector<UpdateOp>> sent_;
  std::vector<std::string> zones_;
  std::vector<absl::Status> results_;
};

UpdateBatcher::SendFn SendWith(RecordingSender& s) {
  return [&s](const std::string& zone, const std::vector<UpdateOp>& ops,
              absl::Time deadline) { return s.Send(zone, ops, deadline); };
}

void WaitForQueued(const UpdateBatcher& b, size_t n) {
  ASSERT_OK(WaitFor(absl::StrCat(n, " operations queued"),
                    [&] { return b.queued_ops(kZone) >= n; }));
  ASSERT_EQ(b.queued_ops(kZone), n);
}

TEST(UpdateBatcherTest, IdleZoneSendsAtOnceWithAllOpsOfTheCall) {
  RecordingSender sender;
  sender.release_first_.Notify();
  UpdateBatcher batcher(SendWith(sender));
  EXPECT_THAT(batcher.Submit(kZone, {Add("a"), Add("b")}, Context()), IsOk());
  EXPECT_THAT(sender.sent(), ElementsAre(ElementsAre(Add("a"), Add("b"))));
  EXPECT_EQ(batcher.batches_sent(), 1);
}

TEST(UpdateBatcherTest, CallsQueuedBehindAnUpdateGoOutTogether) {
  RecordingSender sender;
  UpdateBatcher batcher(SendWith(sender));
  std::thread first([&] {
    EXPECT_THAT(batcher.Submit(kZone, {Add("first")}, Context()), IsOk());
  });
  sender.first_started_.WaitForNotification();
  std::vector<std::thread> later;
  for (int i = 0; i < 10; ++i) {
    later.emplace_back([&, i] {
      EXPECT_THAT(
          batcher.Submit(kZone, {Add("v" + std::to_string(i))}, Context()),
          IsOk());
    });
    WaitForQueued(batcher, i + 1);  // fixes the arrival order
  }
  sender.release_first_.Notify();
  first.join();
  for (auto& t : later) t.join();

  const auto sent = sender.sent();
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_EQ(sent[1].size(), 10u);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(sent[1][i], Add("v" + std::to_string(i)));
  EXPECT_EQ(batcher.batches_sent(), 2);
}

TEST(UpdateBatcherTest, EachCallerGetsTheResultOfItsOwnUpdate) {
  RecordingSender sender;
  sender.SetResults({absl::OkStatus(), absl::PermissionDeniedError("BADSIG")});
  UpdateBatcher batcher(SendWith(sender));
  absl::Status first_result, queued_result;
  std::thread first(
      [&] { first_result = batcher.Submit(kZone, {Add("1")}, Context()); });
  sender.first_started_.WaitForNotification();
  std::thread queued(
      [&] { queued_result = batcher.Submit(kZone, {Add("2")}, Context()); });
  WaitForQueued(batcher, 1);
  sender.release_first_.Notify();
  first.join();
  queued.join();
  EXPECT_THAT(first_result, IsOk());
  EXPECT_THAT(queued_result,
              StatusIs(absl::StatusCode::kPermissionDenied, "BADSIG"));
}

TEST(UpdateBatcherTest, QueuedCallerWhoseDeadlinePassesIsWithdrawn) {
  RecordingSender sender;
  UpdateBatcher batcher(SendWith(sender));
  std::thread first(
      [&] { (void)batcher.Submit(kZone, {Add("1")}, Context()); });
  sender.first_started_.WaitForNotification();
  const Context short_ctx =
      Context().WithDeadline(absl::Now() + absl::Milliseconds(30));
  EXPECT_THAT(
      batcher.Submit(kZone, {Add("late")}, short_ctx),
      StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("queued")));
  EXPECT_EQ(batcher.queued_ops(kZone), 0u);
  std::thread next([&] {
    EXPECT_THAT(batcher.Submit(kZone, {Add("next")}, Context()), IsOk());
  });
  WaitForQueued(batcher, 1);
  sender.release_first_.Notify();
  first.join();
  next.join();
  const auto sent = sender.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_THAT(sent[1], ElementsAre(Add("next")));
}

TEST(UpdateBatcherTest, BatchesAreSplitAtTheSizeLimit) {
  RecordingSender sender;
  // Each op is ≈ 45 bytes: two fit in 100, three do not.
  UpdateBatcher batcher(SendWith(sender), 100);
  std::thread first(
      [&] { (void)batcher.Submit(kZone, {Add("1")}, Context()); });
  sender.first_started_.WaitForNotification();
  std::vector<std::thread> later;
  for (int i = 0; i < 4; ++i) {
    later.emplace_back([&, i] {
      (void)batcher.Submit(kZone, {Add(std::to_string(i))}, Context());
    });
    WaitForQueued(batcher, i + 1);
  }
  sender.release_first_.Notify();
  first.join();
  for (auto& t : later) t.join();
  const auto sent = sender.sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].size(), 2u);
  EXPECT_EQ(sent[2].size(), 2u);
}

TEST(UpdateBatcherTest, ZonesDoNotWaitForEachOther) {
  RecordingSender sender;
  UpdateBatcher batcher(SendWith(sender));
  std::thread first(
      [&] { (void)batcher.Submit(kZone, {Add("1")}, Context()); });
  sender.first_started_.WaitForNotification();
  // The first UPDATE (example.test.) is still blocked; another zone is idle.
  EXPECT_THAT(
      batcher.Submit("other.test.", {{UpdateOp::kAdd, {"x.other.test.", "v"}}},
                     Context()),
      IsOk());
  sender.release_first_.Notify();
  first.join();
  EXPECT_EQ(batcher.batches_sent(), 2);
}

}  // namespace
}  // namespace certfleet::dns
