// Presence on a real etcd: what a replica publishes about the agents it
// serves, and what that costs etcd. Thousands of agents connecting to one
// replica at once (a restart, a fleet coming back) must be published in a
// few transactions: one per agent made such a round outlast the presence
// lease, which expired mid-round, and the replica declared itself cut off
// from etcd over and over (docs/benchmarks.md, "HA fan-out").
#include "coordinator/ha/presence.h"

#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "coordinator/store/etcd_store.h"
#include "gtest/gtest.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::ha {
namespace {

using ::certfleet::testing::WaitFor;

std::string AgentId(int i) { return absl::StrFormat("agt-%012d", i); }

class PresenceTest : public etcd::testing::EtcdTest {
 protected:
  void SetUp() override {
    EtcdTest::SetUp();
    client_ = NewClient();
    ASSERT_OK_AND_ASSIGN(
        store_,
        store::EtcdStore::Open({.client = client_.get(), .prefix = prefix()}));
  }

  void TearDown() override {
    if (presence_) presence_->Stop();
  }

  void SetConnected(std::set<std::string> agents) {
    absl::MutexLock lock(&mu_);
    connected_ = std::move(agents);
  }

  void StartPresence() {
    presence_ = std::make_unique<Presence>(
        PresenceOptions{.client = client_.get(),
                        .store = store_.get(),
                        .replica = "coord-a",
                        .connected =
                            [this] {
                              absl::MutexLock lock(&mu_);
                              return connected_;
                            },
                        .interval = absl::Milliseconds(50)},
        clock_);
    presence_->Start();
  }

  size_t Present() {
    absl::StatusOr<std::set<std::string>> present = store_->PresentAgents();
    return present.ok() ? present->size() : 0;
  }

  // The cluster's revision: each write transaction adds one.
  int64_t Revision() {
    absl::StatusOr<etcd::GetResult> got =
        client_->Get(Key("nothing"), etcd::testing::Ctx());
    EXPECT_OK(got.status());
    return got.ok() ? got->revision : 0;
  }

  SystemClock clock_;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<store::EtcdStore> store_;
  std::unique_ptr<Presence> presence_;
  absl::Mutex mu_;
  std::set<std::string> connected_ ABSL_GUARDED_BY(mu_);
};

TEST_F(PresenceTest, PublishesAndClearsManyAgentsInFewTransactions) {
  constexpr int kAgents = 1000;
  std::set<std::string> all;
  for (int i = 0; i < kAgents; ++i) all.insert(AgentId(i));
  SetConnected(all);
  const int64_t before = Revision();
  StartPresence();
  ASSERT_OK(
      WaitFor("every agent published", [&] { return Present() == kAgents; }));
  // 1000 keys at 128 per transaction: 8, and the replica's own record.
  // One transaction per agent would be over 1000.
  EXPECT_LE(Revision() - before, 12);

  std::set<std::string> half;
  for (int i = 0; i < kAgents / 2; ++i) half.insert(AgentId(i));
  SetConnected(half);
  const int64_t cleared_from = Revision();
  ASSERT_OK(WaitFor("the other half cleared",
                    [&] { return Present() == kAgents / 2; }));
  EXPECT_LE(Revision() - cleared_from, 6);
  absl::StatusOr<std::set<std::string>> present = store_->PresentAgents();
  ASSERT_OK(present.status());
  EXPECT_EQ(*present, half);
}

}  // namespace
}  // namespace certfleet::ha
