#include "tests/etcd/etcd_test_env.h"

#include "absl/strings/str_cat.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::etcd::testing {
namespace {

std::unique_ptr<harness::EtcdCluster>& ClusterSlot() {
  static auto* slot = new std::unique_ptr<harness::EtcdCluster>();
  return *slot;
}

// Stops the cluster by PID once every test has run.
class StopClusterAtExit : public ::testing::Environment {
 public:
  void TearDown() override { ClusterSlot().reset(); }
};
[[maybe_unused]] ::testing::Environment* const kStopCluster =
    ::testing::AddGlobalTestEnvironment(new StopClusterAtExit);

}  // namespace

Context Ctx(absl::Duration timeout) {
  return Context::Background().WithDeadline(absl::Now() + timeout);
}

harness::EtcdCluster* SharedCluster() {
  std::unique_ptr<harness::EtcdCluster>& slot = ClusterSlot();
  if (slot == nullptr) {
    absl::StatusOr<std::unique_ptr<harness::EtcdCluster>> cluster =
        harness::EtcdCluster::Start({.members = 3});
    if (!cluster.ok()) {
      ADD_FAILURE() << "cannot start etcd: " << cluster.status();
      return nullptr;
    }
    slot = *std::move(cluster);
    std::cerr << "etcd cluster of 3 healthy after "
              << absl::FormatDuration(slot->startup_time()) << "\n";
  }
  // A previous test may have left a member down (it failed half-way).
  for (int i = 0; i < slot->size(); ++i) {
    if (!slot->Running(i)) {
      absl::Status s = slot->Restart(i);
      if (!s.ok()) {
        ADD_FAILURE() << "cannot restart etcd member " << i << ": " << s;
        return nullptr;
      }
    }
  }
  return slot.get();
}

void EtcdTest::SetUp() {
  cluster_ = SharedCluster();
  ASSERT_NE(cluster_, nullptr);
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  prefix_ = absl::StrCat("/certfleet-test/", info->test_suite_name(), ".",
                         info->name(), "/");
}

std::unique_ptr<EtcdClient> EtcdTest::NewClient(
    std::vector<std::string> endpoints, absl::Duration call_timeout) {
  if (endpoints.empty()) endpoints = cluster_->endpoints();
  absl::StatusOr<std::unique_ptr<EtcdClient>> client = EtcdClient::Create(
      {.endpoints = std::move(endpoints), .call_timeout = call_timeout});
  EXPECT_OK(client);
  return client.ok() ? *std::move(client) : nullptr;
}

WatchCallback WatchRecorder::Callback() {
  return [this](absl::StatusOr<WatchUpdate> update) {
    absl::MutexLock lock(&mu_);
    if (final_calls_ > 0) ++calls_after_final_;
    if (!update.ok()) {
      ++final_calls_;
      final_ = update.status();
      return;
    }
    for (WatchEvent& e : update->events) events_.push_back(std::move(e));
  };
}

std::vector<WatchEvent> WatchRecorder::WaitForEvents(size_t n,
                                                     absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return events_.size() >= n || final_calls_ > 0;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  return events_;
}

absl::Status WatchRecorder::WaitForEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return final_calls_ > 0;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&ended), timeout)) {
    return absl::DeadlineExceededError("the watch did not end");
  }
  return final_;
}

std::vector<WatchEvent> WatchRecorder::events() {
  absl::MutexLock lock(&mu_);
  return events_;
}

int WatchRecorder::final_calls() {
  absl::MutexLock lock(&mu_);
  return final_calls_;
}

int WatchRecorder::calls_after_final() {
  absl::MutexLock lock(&mu_);
  return calls_after_final_;
}

std::string Describe(const WatchEvent& event) {
  if (event.type == WatchEvent::Type::kDelete) {
    return absl::StrCat("DELETE ", event.kv.key, "@", event.kv.mod_revision);
  }
  return absl::StrCat("PUT ", event.kv.key, "=", event.kv.value, "@",
                      event.kv.mod_revision);
}

std::vector<std::string> Describe(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const WatchEvent& e : events) out.push_back(Describe(e));
  return out;
}

}  // namespace certfleet::etcd::testing
