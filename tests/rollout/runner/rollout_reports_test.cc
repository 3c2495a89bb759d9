// An agent cannot steer what is not its own: a hand-made client holding a
// real agent identity, on the real agent service, reports success for a
// delivery it never received and failure for another agent's delivery (with
// that agent's nonce) and target, while a rollout runs; the reports are
// dropped and counted, and the rollout goes on as if they had never been
// sent.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/agentapi/agent_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agentapi/raw_client.h"
#include "tests/rollout/runner/fleet_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::agentapi::testing::HelloMessage;
using ::certfleet::agentapi::testing::RawCredentials;
using ::certfleet::agentapi::testing::RawStream;
using ::certfleet::rollout::testing::RolloutFleet;
using ::certfleet::testing::WaitFor;
using ::testing::Contains;
using ::testing::Not;
using ::testing::SizeIs;

// Sorts after the fleet's agents, so it is not picked as the canary.
constexpr char kIntruder[] = "agt-ffffffffff01";

// The hand-made client's stream, with a thread reading what it is sent.
class Intruder {
 public:
  Intruder(const std::string& address, const RawCredentials& credentials)
      : stream_(address, credentials), reader_([this] {
          while (std::optional<v1::CoordinatorMessage> m = stream_.Read()) {
            absl::MutexLock lock(&mu_);
            received_.push_back(*std::move(m));
          }
        }) {}
  ~Intruder() {
    stream_.Cancel();
    reader_.join();
  }
  bool Write(const v1::AgentMessage& m) { return stream_.Write(m); }
  std::vector<v1::DesiredBundle> bundles() const {
    absl::MutexLock lock(&mu_);
    std::vector<v1::DesiredBundle> out;
    for (const v1::CoordinatorMessage& m : received_) {
      if (m.has_bundle()) out.push_back(m.bundle());
    }
    return out;
  }

 private:
  RawStream stream_;
  mutable absl::Mutex mu_;
  std::vector<v1::CoordinatorMessage> received_ ABSL_GUARDED_BY(mu_);
  std::thread reader_;
};

v1::AgentMessage Serving(const std::string& version_id) {
  v1::AgentMessage m;
  v1::TargetState* t = m.mutable_inventory()->add_targets();
  t->set_name("www");
  t->set_version_id(version_id);
  t->set_healthy(true);
  return m;
}

v1::AgentMessage ResultFor(const std::string& target,
                           const std::string& version_id,
                           const std::string& nonce, bool ok) {
  v1::AgentMessage m;
  v1::DeliveryResult* r = m.mutable_result();
  r->set_target(target);
  r->set_version_id(version_id);
  r->set_nonce(nonce);
  r->set_ok(ok);
  if (!ok) {
    r->set_failed_step("reload");
    r->set_error("forged failure");
    r->set_rolled_back(true);
  }
  return m;
}

class RolloutReportsTest : public ::testing::Test {
 protected:
  RolloutReportsTest() : f_(absl::Now()) {}

  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(
        server_, agentapi::AgentServer::Start(
                     {.listen = "127.0.0.1:0",
                      .server_names = {"127.0.0.1"},
                      .observer = &f_.parts.observer,
                      .clock = &f_.clock},
                     *f_.parts.ca, *f_.parts.enrollment, *f_.parts.hub));
  }
  void TearDown() override { server_->Shutdown(absl::ZeroDuration()); }

  std::optional<store::TargetStateRecord> State(const std::string& agent) {
    return f_.parts.store.TargetState(agent, "www");
  }

  RolloutFleet f_;
  std::unique_ptr<agentapi::AgentServer> server_;
};

TEST_F(RolloutReportsTest, ReportsAboutWhatIsNotItsOwnLeaveTheRolloutAlone) {
  // Every agent serves web/1, the intruder too (over gRPC).
  f_.AddVersion();
  ASSERT_OK(f_.runner->OnVersionStored("web", 1));
  f_.parts.hub->Flush();
  f_.AckAll("web/1");
  f_.parts.PutAgent(kIntruder, {{"role", "web"}, {"pool", "p0"}});
  const auto identity = f_.parts.IdentityFor(kIntruder);
  Intruder intruder(
      absl::StrCat("127.0.0.1:", server_->port()),
      {f_.parts.ca->ca_pem(), identity.key_pem, identity.cert_pem});
  ASSERT_TRUE(intruder.Write(HelloMessage()));
  ASSERT_TRUE(intruder.Write(Serving("web/1")));
  ASSERT_OK(WaitFor("the intruder's own target recorded as serving web/1", [&] {
    return State(kIntruder) &&
           State(kIntruder)->installed_version_id == "web/1";
  }));

  // web/2: the rollout starts with one canary, a fake agent.
  f_.AddVersion();
  ASSERT_OK(f_.runner->OnVersionStored("web", 2));
  f_.parts.hub->Flush();
  const std::vector<int> canaries = f_.Received("web/2");
  ASSERT_THAT(canaries, SizeIs(1));
  const int canary = canaries[0];
  const v1::DesiredBundle canary_bundle = f_.channels[canary]->bundles().back();
  const std::string rollout_id = f_.Active().id;
  const size_t results_before = f_.parts.observer.results().size();

  // Success for a delivery it never received (a guessed nonce), failure
  // for the canary's delivery (its nonce, leaked), for a target it does not
  // have, and bad health for it.
  ASSERT_TRUE(intruder.Write(
      ResultFor("www", "web/2", "0123456789abcdef0123456789abcdef", true)));
  ASSERT_TRUE(
      intruder.Write(ResultFor("www", "web/2", canary_bundle.nonce(), false)));
  ASSERT_TRUE(
      intruder.Write(ResultFor("api", "web/2", canary_bundle.nonce(), false)));
  v1::AgentMessage health;
  health.mutable_health()->set_target("api");
  health.mutable_health()->set_healthy(false);
  ASSERT_TRUE(intruder.Write(health));
  // Then a genuine report: once it is recorded, the ones before it (same
  // stream, handled in order) were handled too.
  v1::AgentMessage own = health;
  own.mutable_health()->set_target("www");
  own.mutable_health()->set_healthy(true);
  own.mutable_health()->set_detail("after the forged reports");
  ASSERT_TRUE(intruder.Write(own));
  ASSERT_OK(WaitFor("the intruder's own health report recorded", [&] {
    return State(kIntruder)->detail == "after the forged reports";
  }));
  EXPECT_EQ(f_.parts.observer.dropped(),
            (std::map<std::string, int>{{"health_not_assigned", 1},
                                        {"result_not_pending", 3}}));
  f_.Step();

  // Nothing moved: the rollout waits for its canary, nobody failed, the
  // intruder still serves web/1 as far as the coordinator knows, nothing
  // is recorded for "api".
  store::RolloutRecord r = f_.Active();
  EXPECT_EQ(r.id, rollout_id);
  EXPECT_EQ(r.phase, "delivering");
  EXPECT_THAT(f_.AuditActions(), Not(Contains("rollout.host_failed")));
  EXPECT_EQ(State(kIntruder)->installed_version_id, "web/1");
  EXPECT_EQ(State(kIntruder)->last_error, "");
  EXPECT_EQ(State(RolloutFleet::AgentId(canary))->last_error, "");
  EXPECT_FALSE(f_.parts.store.TargetState(kIntruder, "api").has_value());
  EXPECT_EQ(f_.parts.observer.results().size(), results_before);

  // The rollout completes as it would have; the intruder gets web/2 in its
  // wave like everyone else and its genuine answer counts.
  f_.Ack(canary);
  bool intruder_acked = false;
  for (int round = 0; round < 4; ++round) {
    f_.Step();
    f_.clock.Advance(absl::Minutes(5));  // the bake
    f_.Step();
    f_.AckAll("web/2");
    // When its wave has started, its bundle is on the way over the network.
    if (State(kIntruder)->desired_version_id == "web/2") {
      ASSERT_OK(WaitFor("web/2's bundle at the intruder", [&] {
        for (const v1::DesiredBundle& b : intruder.bundles()) {
          if (b.version_id() == "web/2") return true;
        }
        return false;
      }));
    }
    for (const v1::DesiredBundle& b : intruder.bundles()) {
      if (b.version_id() != "web/2" || intruder_acked) continue;
      const size_t results = f_.parts.observer.results().size();
      ASSERT_TRUE(
          intruder.Write(ResultFor("www", "web/2", b.nonce(), /*ok=*/true)));
      ASSERT_OK(WaitFor("the intruder's result for web/2 recorded", [&] {
        return f_.parts.observer.results().size() == results + 1 &&
               State(kIntruder)->installed_version_id == "web/2";
      }));
      ASSERT_TRUE(intruder.Write(Serving("web/2")));
      intruder_acked = true;
    }
    f_.Step();
    absl::StatusOr<std::optional<store::RolloutRecord>> now =
        f_.parts.store.GetRollout(rollout_id);
    ASSERT_TRUE(now.ok() && now->has_value());
    if ((*now)->finished) break;
  }
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> done,
                       f_.parts.store.GetRollout(rollout_id));
  EXPECT_EQ(done->phase, "complete");
  EXPECT_TRUE(intruder_acked);
}

}  // namespace
}  // namespace certfleet::rollout
