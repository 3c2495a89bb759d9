// Delivery end to end: enrollment, the stream, installs on the agent, what
// the coordinator records, and what happens while the coordinator is away.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agentapi/e2e_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agentapi::testing {
namespace {

using ::certfleet::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

std::string Describe(const std::optional<store::TargetStateRecord>& s) {
  if (!s) return "no target state";
  return absl::StrCat("certificate=", s->certificate,
                      " desired=", s->desired_version_id,
                      " installed=", s->installed_version_id,
                      " serial=", s->serial, " healthy=", s->healthy,
                      " detail=", s->detail, " last_error=", s->last_error);
}

class AgentDeliveryTest : public AgentApiE2eTest {
 protected:
};

TEST_F(AgentDeliveryTest, EnrolledAgentInstallsNewestVersionAndIsRecorded) {
  c_.AddVersion("web", "1a01", absl::Now());
  const delivery::testing::StoredVersion v2 =
      c_.AddVersion("web", "1a02", absl::Now());
  ASSERT_OK_AND_ASSIGN(agent::Identity id, EnrollAgent({{"role", "web"}}));
  EXPECT_THAT(id.agent_id, StartsWith("agt-"));
  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> record,
                       c_.store.GetAgent(id.agent_id));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->hostname, "web-1");
  EXPECT_EQ(record->labels,
            (std::map<std::string, std::string>{{"role", "web"}}));

  StartAgent();
  ASSERT_OK(WaitInstalled("web/2", v2.serial)) << Describe(WwwState());
  const store::TargetStateRecord s = *WwwState();
  EXPECT_EQ(s.certificate, "web");
  EXPECT_EQ(s.desired_version_id, "web/2");
  EXPECT_EQ(s.last_error, "");
  EXPECT_EQ(absl::ToUnixSeconds(s.not_after),
            absl::ToUnixSeconds(v2.not_after));

  // On the host: the newest version only, reloaded once, checked once.
  EXPECT_EQ(ServedSerial(), v2.serial);
  EXPECT_EQ(::certfleet::testing::ReadFileOrDie(tmp_.File("www/fullchain.pem")),
            v2.leaf_pem + v2.chain_pem);
  EXPECT_THAT(runner_.programs(), ElementsAre("/usr/sbin/reload-www"));
  EXPECT_THAT(checker_.serials(), ElementsAre(v2.serial));
  EXPECT_EQ(c_.observer.bundles_sent(), 1);
  ASSERT_THAT(c_.observer.results(), SizeIs(1));
  EXPECT_TRUE(c_.observer.results()[0].ok());
  EXPECT_EQ(c_.observer.results()[0].version_id(), "web/2");
  EXPECT_EQ(session_observer_.connects(), 1);
  EXPECT_EQ(c_.hub->connected(), 1u);
}

// A health change between installs (HealthMonitor) reaches the store.
TEST_F(AgentDeliveryTest, HealthReportsBetweenInstallsAreRecorded) {
  const delivery::testing::StoredVersion v1 =
      c_.AddVersion("web", "1a01", absl::Now());
  ASSERT_OK_AND_ASSIGN(agent::Identity id, EnrollAgent({{"role", "web"}}));
  StartAgent();
  ASSERT_OK(WaitInstalled("web/1", v1.serial)) << Describe(WwwState());
  ASSERT_TRUE(WwwState()->healthy);
  session_->ReportHealth({.target = "www",
                          .healthy = false,
                          .detail = "tls 127.0.0.1:8443: serves serial 0b00"});
  ASSERT_OK(WaitFor("www reported unhealthy", [&] {
    return WwwState() && !WwwState()->healthy;
  })) << Describe(WwwState());
  EXPECT_EQ(WwwState()->detail, "tls 127.0.0.1:8443: serves serial 0b00");
  EXPECT_EQ(WwwState()->installed_version_id, "web/1");
  session_->ReportHealth({.target = "www", .healthy = true});
  ASSERT_OK(WaitFor("www reported healthy again", [&] {
    return WwwState() && WwwState()->healthy;
  })) << Describe(WwwState());
}

TEST_F(AgentDeliveryTest, NewVersionIsDeliveredAndARejectionIsNotResent) {
  const delivery::testing::StoredVersion v1 =
      c_.AddVersion("web", "1a01", absl::Now());
  ASSERT_OK(EnrollAgent({{"role", "web"}}).status());
  StartAgent();
  ASSERT_OK(WaitInstalled("web/1", v1.serial)) << Describe(WwwState());

  // A renewal stored by the scheduler reaches the connected agent.
  const delivery::testing::StoredVersion v2 =
      c_.AddVersion("web", "1a02", absl::Now());
  c_.hub->NotifyVersion("web");
  ASSERT_OK(WaitInstalled("web/2", v2.serial)) << Describe(WwwState());
  EXPECT_EQ(ServedSerial(), v2.serial);
  ASSERT_THAT(c_.observer.results(), SizeIs(2));
  EXPECT_TRUE(c_.observer.results()[1].ok());
  EXPECT_EQ(c_.observer.results()[1].version_id(), "web/2");

  // The next one makes the service's reload fail; the rollback's reload
  // works again.
  std::atomic<bool> fail_reload{true};
  runner_.SetHandler([&](const ProcessSpec&) {
    return fail_reload.exchange(false)
               ? agent::testing::Exit(1,
                                      "nginx: [emerg] cannot load "
                                      "certificate fullchain.pem")
               : agent::testing::Exit(0);
  });
  // Reports the hub handles from here on: the result, then the inventory.
  auto reports = std::make_shared<std::atomic<int>>(0);
  c_.hub->SetReportListener([reports] { ++*reports; });
  const delivery::testing::StoredVersion v3 =
      c_.AddVersion("web", "1a03", absl::Now());
  c_.hub->NotifyVersion("web");
  ASSERT_OK(WaitFor("the third delivery result",
                    [&] { return c_.observer.results().size() == 3; }));
  const v1::DeliveryResult r = c_.observer.results()[2];
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.version_id(), "web/3");
  EXPECT_EQ(r.failed_step(), "reload");
  EXPECT_THAT(r.error(), HasSubstr("cannot load certificate fullchain.pem"));
  EXPECT_TRUE(r.rolled_back());

  // The agent follows its result with an inventory: wait for the hub to
  // handle it, so its reconciliation has run before asking again. (Its
  // record may replace the rejection's while both wait to be written.)
  ASSERT_OK(WaitFor("the result and the inventory handled",
                    [&] { return *reports >= 2; }));
  c_.hub->NotifyVersion("web");
  c_.hub->Flush();
  EXPECT_EQ(c_.observer.bundles_sent(), 3);  // web/1, web/2, web/3 once

  const store::TargetStateRecord s = *WwwState();
  EXPECT_EQ(s.desired_version_id, v3.version_id);
  EXPECT_EQ(s.installed_version_id, "web/2");
  EXPECT_EQ(s.serial, v2.serial);
  EXPECT_THAT(s.last_error, StartsWith("reload: "));
  EXPECT_THAT(s.last_error, HasSubstr("cannot load certificate fullchain.pem"));
  EXPECT_EQ(ServedSerial(), v2.serial);
  // web/1 and web/2 reloaded once each; web/3 failed, then rolled back.
  EXPECT_EQ(runner_.runs(), 4);
}

// Its target is not even recorded: a record is what a rollout's fleet view
// reads, and nothing is assigned to it.
TEST_F(AgentDeliveryTest, AgentNoAssignmentSelectsGetsNothingAndIsNotRecorded) {
  c_.AddVersion("web", "1a01", absl::Now());
  ASSERT_OK(EnrollAgent({{"role", "db"}}).status());
  StartAgent();
  ASSERT_OK(WaitFor("the agent's first connection",
                    [&] { return session_observer_.connects() == 1; }));
  // A health report after the inventory on the same stream: once it is
  // dropped (not assigned), the inventory has been handled.
  session_->ReportHealth({.target = "www", .healthy = true});
  ASSERT_OK(WaitFor("the health report dropped as not assigned", [&] {
    return c_.observer.dropped()["health_not_assigned"] == 1;
  }));
  c_.hub->NotifyVersion("web");
  c_.hub->Flush();

  EXPECT_FALSE(WwwState().has_value());
  EXPECT_THAT(c_.store.target_state_writes(), IsEmpty());
  EXPECT_EQ(c_.observer.bundles_sent(), 0);
  EXPECT_EQ(runner_.runs(), 0);
  EXPECT_EQ(Snapshot().count("/current"), 0u);
  // The agent reports before it reads its welcome: the stream stays up.
  EXPECT_OK(WaitFor("the agent's connection",
                    [&] { return session_observer_.connects() == 1; }));
  EXPECT_EQ(c_.hub->connected(), 1u);
}

TEST_F(AgentDeliveryTest, AgentRidesOutACoordinatorRestart) {
  const delivery::testing::StoredVersion v1 =
      c_.AddVersion("web", "1a01", absl::Now());
  ASSERT_OK(EnrollAgent({{"role", "web"}}).status());
  StartAgent();
  ASSERT_OK(WaitInstalled("web/1", v1.serial)) << Describe(WwwState());
  const std::map<std::string, std::string> before = Snapshot();
  ASSERT_EQ(before.count("/cert.pem"), 1u);
  const int runs = runner_.runs();
  const size_t ended = session_observer_.disconnects().size();

  // Coordinator gone: the stream ends and reconnect attempts are refused.
  StopServer();
  c_.RestartHub();
  ASSERT_OK(WaitFor(
      "three more ended streams while the coordinator is down",
      [&] { return session_observer_.disconnects().size() >= ended + 3; }));
  const std::vector<std::string> reasons = session_observer_.disconnects();
  EXPECT_THAT(reasons.back(), StartsWith("UNAVAILABLE"));
  // A version issued meanwhile cannot reach it; nothing on the host moves.
  const delivery::testing::StoredVersion v2 =
      c_.AddVersion("web", "1a02", absl::Now());
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(runner_.runs(), runs);
  EXPECT_EQ(ServedSerial(), v1.serial);

  // Back on the same port: the agent reconnects and reports what it serves
  // (recorded at the restarted coordinator's time), then catches up.
  clock_.Advance(absl::Minutes(1));
  const absl::Time restarted = clock_.Now();
  StartServer(port_);
  ASSERT_OK(WaitFor("the state written after the restart", [&] {
    for (const store::TargetStateRecord& w : c_.store.target_state_writes()) {
      if (w.updated_at == restarted && w.installed_version_id == "web/1" &&
          w.serial == v1.serial && w.agent_id == agent_id_) {
        return true;
      }
    }
    return false;
  })) << Describe(WwwState());
  ASSERT_OK(WaitInstalled("web/2", v2.serial)) << Describe(WwwState());
  EXPECT_EQ(ServedSerial(), v2.serial);
  EXPECT_EQ(session_observer_.connects(), 2);
  EXPECT_EQ(c_.hub->connected(), 1u);
}

}  // namespace
}  // namespace certfleet::agentapi::testing
