// The etcd backend: the whole store contract against a real 3-member etcd
// cluster (one per test process, a fresh key prefix per test), and fencing —
// a leader's writes land only while the leadership key it created is there;
// a deposed leader's write fails and changes nothing, while the writes every
// replica makes (agents, tokens, targets, audit) are never fenced.
#include "coordinator/store/etcd_store.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/store/status_or_matchers.h"
#include "tests/store/store_contract_test.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::store {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

// Clients live as long as the process: a store only borrows its client.
etcd::EtcdClient* NewClient() {
  static auto* clients = new std::vector<std::unique_ptr<etcd::EtcdClient>>();
  harness::EtcdCluster* cluster = etcd::testing::SharedCluster();
  if (cluster == nullptr) return nullptr;
  absl::StatusOr<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::Create({.endpoints = cluster->endpoints()});
  if (!client.ok()) {
    ADD_FAILURE() << client.status();
    return nullptr;
  }
  clients->push_back(*std::move(client));
  return clients->back().get();
}

std::string FreshPrefix() {
  static std::atomic<int> next{0};
  return absl::StrCat("/store-test-", getpid(), "-", next++, "/");
}

std::unique_ptr<EtcdStore> NewStore(bool fenced, const std::string& prefix) {
  etcd::EtcdClient* client = NewClient();
  if (client == nullptr) return nullptr;
  absl::StatusOr<std::unique_ptr<EtcdStore>> store =
      EtcdStore::Open({.client = client, .prefix = prefix, .fenced = fenced});
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return *std::move(store);
}

INSTANTIATE_TEST_SUITE_P(Etcd, StoreContractTest,
                         ::testing::Values(StoreFactory([] {
                           return std::unique_ptr<Store>(
                               NewStore(false, FreshPrefix()));
                         })));

class EtcdFenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = FreshPrefix();
    store_ = NewStore(/*fenced=*/true, prefix_);
    ASSERT_NE(store_, nullptr);
    admin_ = NewClient();
    ASSERT_NE(admin_, nullptr);
  }

  // Creates (or re-creates) the leadership key; its create_revision.
  int64_t TakeLeadership() {
    EXPECT_OK(admin_->Delete(LeaderKey(), etcd::testing::Ctx()).status());
    absl::StatusOr<etcd::WriteResult> w =
        admin_->Put(LeaderKey(), "me", etcd::testing::Ctx());
    EXPECT_OK(w.status());
    return w.ok() ? w->revision : 0;
  }
  std::string LeaderKey() const { return prefix_ + "leader"; }

  std::string prefix_;
  std::unique_ptr<EtcdStore> store_;
  etcd::EtcdClient* admin_ = nullptr;
};

TEST_F(EtcdFenceTest, LeaderOnlyWritesNeedAFence) {
  std::vector<std::string> refused;
  store_->SetFenceRefusedObserver(
      [&](absl::string_view op, absl::string_view reason) {
        refused.push_back(absl::StrCat(reason, ": ", op));
      });
  EXPECT_THAT(store_->PutOrder({.cert_name = "web", .issuer = "le"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("store: put order web: this coordinator is "
                                 "not the leader")));
  EXPECT_THAT(store_->AddVersion({.cert_name = "web"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(std::optional<OrderRecord> order,
                       store_->GetOrder("web"));
  EXPECT_FALSE(order.has_value());
  // What a target should serve is the leader's decision.
  EXPECT_THAT(
      store_->PutDesiredVersion("agt-000000000001", "www", "web", "web/1"),
      StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(refused,
              ::testing::ElementsAre(
                  "not_leader: put order web", "not_leader: add version web",
                  "not_leader: put desired version of agt-000000000001/www"));
  // What every replica writes needs none.
  EXPECT_OK(store_->PutAgent({.id = "agt-000000000001"}));
  EXPECT_OK(store_->PutTargetState(
      {.agent_id = "agt-000000000001", .target = "www"}));
  // Forgetting a desired version decides nothing (a relabel on any replica).
  EXPECT_OK(store_->PutDesiredVersion("agt-000000000001", "www", "web", ""));
  EXPECT_OK(
      store_->AppendAudit({.actor = "admin:a", .action = "x", .result = "ok"})
          .status());
}

// A batch of decisions is fenced as one: refused together when this
// replica does not lead; forgetting needs no fence; reports never do.
TEST_F(EtcdFenceTest, BatchedDecisionsNeedTheFenceTheirSingleCallsNeed) {
  const std::vector<TargetStateRecord> decisions = {
      {.agent_id = "agt-000000000001",
       .target = "www",
       .certificate = "web",
       .desired_version_id = "web/1"},
      {.agent_id = "agt-000000000002",
       .target = "www",
       .certificate = "web",
       .desired_version_id = "web/1"},
      {.agent_id = "agt-000000000003", .target = "www"}};
  std::vector<absl::Status> refused = store_->PutDesiredVersions(decisions);
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_THAT(refused[0], StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr("not the leader")));
  EXPECT_THAT(refused[1], StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(refused[2]);
  ASSERT_OK_AND_ASSIGN(std::vector<TargetStateRecord> none,
                       store_->ListAllTargetStates());
  EXPECT_THAT(none, ::testing::IsEmpty());
  for (const absl::Status& s : store_->PutTargetStates(
           {{.agent_id = "agt-000000000001", .target = "www"}})) {
    EXPECT_OK(s);
  }

  store_->SetFence(EtcdFence{LeaderKey(), TakeLeadership()});
  for (const absl::Status& s : store_->PutDesiredVersions(decisions)) {
    EXPECT_OK(s);
  }
  // Deposed: the leadership key is another replica's now.
  TakeLeadership();
  const std::vector<absl::Status> deposed =
      store_->PutDesiredVersions({{.agent_id = "agt-000000000001",
                                   .target = "www",
                                   .certificate = "web",
                                   .desired_version_id = "web/2"}});
  ASSERT_EQ(deposed.size(), 1u);
  EXPECT_THAT(deposed[0], StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr("no longer the leader")));
  ASSERT_OK_AND_ASSIGN(std::vector<TargetStateRecord> states,
                       store_->ListTargetStates("agt-000000000001"));
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].desired_version_id, "web/1");
}

// A replica back from a pause still believes it holds a stream the agent
// has since opened with another replica: clearing it must not clear the
// other replica's presence (one key per replica).
TEST_F(EtcdFenceTest, AStaleReplicaClearsOnlyItsOwnPresence) {
  ASSERT_OK_AND_ASSIGN(
      etcd::Lease lease,
      admin_->LeaseGrant(absl::Seconds(30), etcd::testing::Ctx()));
  ASSERT_OK(store_->SetPresence("agt-000000000001", "coord-b", lease.id));
  ASSERT_OK(store_->SetPresence("agt-000000000001", "coord-a", lease.id));
  ASSERT_OK(store_->SetPresence("agt-000000000002", "coord-b", lease.id));
  ASSERT_OK(store_->ClearPresence("agt-000000000001", "coord-a"));
  EXPECT_THAT(store_->PresentAgents(),
              IsOkAndHolds(::testing::ElementsAre("agt-000000000001",
                                                  "agt-000000000002")));
  ASSERT_OK(store_->ClearPresence("agt-000000000001", "coord-b"));
  EXPECT_THAT(store_->PresentAgents(),
              IsOkAndHolds(::testing::ElementsAre("agt-000000000002")));
}

// For effects that are not etcd writes: the fence is read back from etcd.
TEST_F(EtcdFenceTest, FenceHoldsOnlyWhileTheKeyIsOurs) {
  EXPECT_FALSE(store_->FenceHolds());  // no fence: not leading
  const int64_t won = TakeLeadership();
  store_->SetFence(EtcdFence{LeaderKey(), won});
  EXPECT_TRUE(store_->FenceHolds());
  TakeLeadership();  // another replica's election
  EXPECT_FALSE(store_->FenceHolds());
}

TEST_F(EtcdFenceTest, ADeposedLeaderCannotWrite) {
  const int64_t won = TakeLeadership();
  store_->SetFence(EtcdFence{LeaderKey(), won});
  std::vector<std::string> refused;
  store_->SetFenceRefusedObserver(
      [&](absl::string_view, absl::string_view reason) {
        refused.emplace_back(reason);
      });
  ASSERT_OK(store_->PutOrder(
      {.cert_name = "web", .issuer = "le", .order_url = "https://ca/order/1"}));
  ASSERT_OK_AND_ASSIGN(const int64_t v1,
                       store_->AddVersion({.cert_name = "web"}));
  EXPECT_EQ(v1, 1);

  // Another coordinator's election: the key is re-created.
  TakeLeadership();
  EXPECT_THAT(store_->PutOrder({.cert_name = "web",
                                .issuer = "le",
                                .order_url = "https://ca/order/2"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no longer the leader")));
  EXPECT_THAT(store_->AddVersion({.cert_name = "web"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store_
                  ->CreateRollout(
                      {.id = "ro-1", .certificate = "web", .kind = "rollout"})
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(
      store_->PutDesiredVersion("agt-000000000001", "www", "web", "web/1"),
      StatusIs(absl::StatusCode::kFailedPrecondition));
  // Nothing of it landed.
  ASSERT_OK_AND_ASSIGN(std::optional<OrderRecord> order,
                       store_->GetOrder("web"));
  EXPECT_FALSE(order.has_value());  // removed by version 1, never re-put
  ASSERT_OK_AND_ASSIGN(std::vector<VersionRecord> versions,
                       store_->ListVersions("web"));
  EXPECT_EQ(versions.size(), 1u);
  ASSERT_OK_AND_ASSIGN(std::vector<RolloutRecord> rollouts,
                       store_->ListRollouts({}));
  EXPECT_TRUE(rollouts.empty());
  ASSERT_OK_AND_ASSIGN(std::vector<TargetStateRecord> targets,
                       store_->ListAllTargetStates());
  EXPECT_TRUE(targets.empty());
  // Each refusal was told: the order, the version, the rollout, the
  // desired version.
  EXPECT_THAT(refused, ::testing::ElementsAre("deposed", "deposed", "deposed",
                                              "deposed"));

  // A leader whose key expired with its lease: the same.
  ASSERT_OK(admin_->Delete(LeaderKey(), etcd::testing::Ctx()).status());
  EXPECT_THAT(store_->PutCertificateState({.name = "web"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no longer the leader")));
}

// Retention deletes versions only while this coordinator leads: a pruner
// that paused past its term removes nothing.
TEST_F(EtcdFenceTest, ADeposedLeaderDeletesNoVersion) {
  const int64_t won = TakeLeadership();
  store_->SetFence(EtcdFence{LeaderKey(), won});
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(store_->AddVersion({.cert_name = "web"}).status());
  }
  ASSERT_OK(store_->DeleteVersion("web", 1));

  TakeLeadership();
  EXPECT_THAT(store_->DeleteVersion("web", 2),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no longer the leader")));
  ASSERT_OK_AND_ASSIGN(std::optional<VersionRecord> kept,
                       store_->GetVersion("web", 2));
  EXPECT_TRUE(kept.has_value());
}

TEST_F(EtcdFenceTest, FencedCompareFailuresOfTheCallerAreNotLeadership) {
  const int64_t won = TakeLeadership();
  store_->SetFence(EtcdFence{LeaderKey(), won});
  ASSERT_OK(store_
                ->CreateRollout(
                    {.id = "ro-1", .certificate = "web", .kind = "rollout"})
                .status());
  // A second unfinished rollout fails on the active index, not the fence.
  EXPECT_THAT(store_
                  ->CreateRollout(
                      {.id = "ro-2", .certificate = "web", .kind = "rollout"})
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already has an unfinished rollout ro-1")));
}

}  // namespace
}  // namespace certfleet::store
