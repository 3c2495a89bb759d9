// Two coordinator replicas on a real etcd: the leader (hub + rollout
// runner) and a follower (hub only) whose agents the leader never talks to.
// What the leader decides reaches the follower's agents through etcd: the
// follower publishes their presence (so the leader counts them online), the
// leader stores each target's desired version, and the follower's watch of
// target states sends the bundle. A first version reaches every agent; a
// second one rolls out canary first, then to the rest. An agent disabled
// or removed through the leader has its stream on the follower cut at
// once, through the follower's watch of agent records.
#include <cstdio>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_format.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/ha/presence.h"
#include "coordinator/identity/enrollment.h"
#include "coordinator/identity/internal_ca.h"
#include "coordinator/identity/tokens.h"
#include "coordinator/rollout/runner/rollout_runner.h"
#include "coordinator/store/etcd_store.h"
#include "gtest/gtest.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/delivery/test_versions.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/rollout/runner/fleet_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::ha {
namespace {

using ::certfleet::testing::WaitFor;
using rollout::testing::FakeChannel;

constexpr int kAgents = 4;

std::string AgentId(int i) { return absl::StrFormat("agt-00000000ff%02d", i); }

config::CertificateConfig Web() {
  config::CertificateConfig c = delivery::testing::WebCertificate();
  c.rollout.waves = {rollout::Quantity::Count(1),
                     rollout::Quantity::Percent(100)};
  c.rollout.max_unavailable = rollout::Quantity::Percent(100);
  c.rollout.bake_time = absl::Seconds(1);
  c.rollout.health_timeout = absl::Seconds(30);
  return c;
}

// One replica's parts over its own client and store (same prefix).
struct Replica {
  std::unique_ptr<etcd::EtcdClient> client;
  std::unique_ptr<store::EtcdStore> store;
  std::unique_ptr<identity::InternalCa> ca;
  std::unique_ptr<identity::BootstrapTokens> tokens;
  std::unique_ptr<identity::EnrollmentService> enrollment;
  std::unique_ptr<delivery::AgentHub> hub;
};

class ReplicaDeliveryTest : public etcd::testing::EtcdTest {
 protected:
  void SetUp() override {
    EtcdTest::SetUp();
    leader_ = MakeReplica();
    follower_ = MakeReplica();
    for (int i = 0; i < kAgents; ++i) {
      ASSERT_OK(leader_.store->PutAgent(
          {.id = AgentId(i),
           .hostname = AgentId(i),
           .labels = {{"role", "web"}, {"pool", i % 2 ? "p1" : "p0"}},
           .enrolled_at = absl::Now(),
           .last_seen_at = absl::Now(),
           .identity_serial = "7e57"}));
    }
    // The follower: watch and presence, as ServeReplica sets them up.
    ASSERT_OK_AND_ASSIGN(
        watch_,
        follower_.store->WatchDesiredVersions(
            [hub = follower_.hub.get()](const store::TargetStateRecord& s) {
              hub->OnDesiredStored(s.agent_id, s.target, s.certificate,
                                   s.desired_version_id);
            },
            nullptr));
    ASSERT_OK_AND_ASSIGN(
        agents_watch_,
        follower_.store->WatchAgents(
            [hub = follower_.hub.get()](const store::AgentRecord& record) {
              hub->OnAgentStored(record);
            },
            nullptr));
    presence_ = std::make_unique<Presence>(
        PresenceOptions{
            .client = follower_.client.get(),
            .store = follower_.store.get(),
            .replica = "follower",
            .connected =
                [hub = follower_.hub.get()] { return hub->ConnectedAgents(); },
            .interval = absl::Milliseconds(100)},
        clock_);
    presence_->Start();
    // The leader's runner, as StartRollouts sets it up on etcd.
    runner_ = std::make_unique<rollout::RolloutRunner>(
        *leader_.store, *leader_.hub, certificates_, assignments_, clock_,
        rollout::RolloutRunnerOptions{
            .interval = absl::Milliseconds(200),
            .connected_agents =
                [this] {
                  std::set<std::string> all = leader_.hub->ConnectedAgents();
                  auto elsewhere = leader_.store->PresentAgents();
                  if (elsewhere.ok()) {
                    all.insert(elsewhere->begin(), elsewhere->end());
                  }
                  return all;
                },
            .assign_fallbacks = true});
    ASSERT_OK(runner_->Resume());
    runner_->Start();
  }

  void TearDown() override {
    if (runner_) runner_->Stop();
    if (presence_) presence_->Stop();
    if (watch_) watch_->Cancel();
    if (agents_watch_) agents_watch_->Cancel();
    follower_.hub.reset();
    leader_.hub.reset();
    runner_.reset();
  }

  Replica MakeReplica() {
    Replica r;
    r.client = NewClient();
    auto store =
        store::EtcdStore::Open({.client = r.client.get(), .prefix = prefix()});
    EXPECT_OK(store.status());
    r.store = *std::move(store);
    auto ca = identity::InternalCa::LoadOrCreate(*r.store, kek_, clock_);
    EXPECT_OK(ca.status());
    r.ca = *std::move(ca);
    r.tokens = std::make_unique<identity::BootstrapTokens>(*r.store, clock_);
    r.enrollment = std::make_unique<identity::EnrollmentService>(
        *r.store, *r.ca, *r.tokens, clock_, identity::EnrollmentOptions{});
    r.hub = std::make_unique<delivery::AgentHub>(
        *r.store, kek_, assignments_, *r.enrollment, r.ca->ca_pem(), clock_);
    // A replica never sends a version on its own (coordinator.cc).
    r.hub->HoldCertificate("web", "");
    return r;
  }

  // Agent `i` connects to the follower, serving nothing.
  void Connect(int i) {
    channels_[i] = std::make_shared<FakeChannel>();
    follower_.hub->Attach(AgentId(i), "7e57", channels_[i]);
    v1::AgentMessage m;
    m.mutable_inventory()->add_targets()->set_name("www");
    follower_.hub->OnMessage(AgentId(i), std::move(m));
  }

  // Agent `i` installed its last bundle, healthy.
  void Ack(int i) {
    const v1::DesiredBundle b = channels_[i]->bundles().back();
    v1::AgentMessage result;
    result.mutable_result()->set_target(b.target());
    result.mutable_result()->set_version_id(b.version_id());
    result.mutable_result()->set_nonce(b.nonce());
    result.mutable_result()->set_ok(true);
    follower_.hub->OnMessage(AgentId(i), std::move(result));
    v1::AgentMessage inventory;
    v1::TargetState* t = inventory.mutable_inventory()->add_targets();
    t->set_name("www");
    t->set_version_id(b.version_id());
    t->set_healthy(true);
    follower_.hub->OnMessage(AgentId(i), std::move(inventory));
  }

  std::string Last(int i) const {
    const auto b = channels_[i]->bundles();
    return b.empty() ? "" : b.back().version_id();
  }
  int Got(const std::string& version_id) const {
    int n = 0;
    for (const auto& c : channels_) {
      for (const v1::DesiredBundle& b : c->bundles()) {
        if (b.version_id() == version_id) ++n;
      }
    }
    return n;
  }

  int64_t AddVersion(const std::string& serial) {
    auto v = delivery::testing::MakeTestVersion(
        delivery::testing::VersionIssuer(), kek_,
        {.certificate = "web",
         .names = {"www.example.test"},
         .not_before = absl::Now() - absl::Hours(1),
         .not_after = absl::Now() + absl::Hours(24 * 30),
         .serial_hex = serial,
         .created_at = absl::Now()});
    EXPECT_OK(v.status());
    auto n = leader_.store->AddVersion(v->record);
    EXPECT_OK(n.status());
    return n.ok() ? *n : 0;
  }

  SystemClock clock_;
  const crypto::Kek kek_ =
      crypto::Kek::FromBytes(std::string(crypto::Kek::kKeySize, 'r'));
  const std::vector<config::CertificateConfig> certificates_ = {Web()};
  const delivery::Assignments assignments_{certificates_};
  Replica leader_, follower_;
  std::unique_ptr<etcd::EtcdWatch> watch_;
  std::unique_ptr<etcd::EtcdWatch> agents_watch_;
  std::unique_ptr<Presence> presence_;
  std::unique_ptr<rollout::RolloutRunner> runner_;
  std::shared_ptr<FakeChannel> channels_[kAgents];
};

TEST_F(ReplicaDeliveryTest, LeaderDecisionsReachTheFollowersAgents) {
  for (int i = 0; i < kAgents; ++i) Connect(i);
  // The leader sees them online through their presence.
  ASSERT_OK(WaitFor("every agent present in the store", [&] {
    auto present = leader_.store->PresentAgents();
    return present.ok() && present->size() == kAgents;
  }));

  // A first version: every agent of the follower gets it.
  ASSERT_OK(runner_->OnVersionStored("web", AddVersion("2a01")));
  ASSERT_OK(WaitFor("web/1 at every agent of the follower",
                    [&] { return Got("web/1") == kAgents; }))
      << Got("web/1") << " of " << kAgents << " got web/1";
  for (int i = 0; i < kAgents; ++i) Ack(i);
  ASSERT_OK(WaitFor("every agent recorded as serving web/1", [&] {
    auto states = leader_.store->ListAllTargetStates();
    if (!states.ok()) return false;
    int installed = 0;
    for (const auto& s : *states)
      installed += s.installed_version_id == "web/1";
    return installed == kAgents;
  }));

  // A second version rolls out from the leader: the canary alone first...
  ASSERT_OK(runner_->OnVersionStored("web", AddVersion("2a02")));
  ASSERT_OK(WaitFor("web/2 at the canary", [&] { return Got("web/2") == 1; }));
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_EQ(Got("web/2"), 1) << "the canary wave moved more than one host";
  int canary = -1;
  for (int i = 0; i < kAgents; ++i) {
    if (Last(i) == "web/2") canary = i;
  }
  ASSERT_GE(canary, 0);
  Ack(canary);
  // ...then, after the bake, everyone.
  ASSERT_OK(WaitFor(
      "web/2 at every agent after the bake",
      [&] { return Got("web/2") == kAgents; }, absl::Seconds(15)));
  for (int i = 0; i < kAgents; ++i) {
    if (i != canary) Ack(i);
  }
  ASSERT_OK(WaitFor(
      "the rollout to complete",
      [&] {
        auto r = leader_.store->ListRollouts({.limit = 1});
        return r.ok() && !r->empty() && r->front().phase == "complete";
      },
      absl::Seconds(15)));
}

// The admin call is served by the leader's replica; the agent's stream is
// on the follower: the store's watch carries the change there.
TEST_F(ReplicaDeliveryTest, AnAgentDisabledThroughOneReplicaIsCutOnAnother) {
  for (int i = 0; i < kAgents; ++i) Connect(i);
  ASSERT_OK(WaitFor("every agent connected to the follower",
                    [&] { return follower_.hub->connected() == kAgents; }));
  const absl::Time t0 = absl::Now();
  ASSERT_OK(leader_.store
                ->UpdateAgent(AgentId(1),
                              [](store::AgentRecord& a) {
                                a.status = store::AgentStatus::kDisabled;
                                a.status_changed_by = "admin:alice";
                                return absl::OkStatus();
                              })
                .status());
  leader_.hub->AgentChanged(AgentId(1));  // as the admin API does: not here
  ASSERT_OK(WaitFor("the disabled agent's stream closed on the follower",
                    [&] { return channels_[1]->closed().has_value(); }));
  const absl::Duration cut = absl::Now() - t0;
  EXPECT_LT(cut, absl::Seconds(1));
  printf("stream on the other replica cut after %s\n",
         absl::FormatDuration(cut).c_str());
  EXPECT_EQ(channels_[1]->closed()->code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(channels_[0]->closed().has_value());
  follower_.hub->Flush();
  EXPECT_EQ(follower_.hub->connected(), kAgents - 1u);
  // A new stream of it, on either replica, is refused.
  auto again = std::make_shared<FakeChannel>();
  follower_.hub->Attach(AgentId(1), "7e57", again);
  follower_.hub->Flush();
  ASSERT_TRUE(again->closed().has_value());
  EXPECT_EQ(again->closed()->code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace certfleet::ha
