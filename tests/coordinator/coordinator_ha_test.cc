// certfleet-coordinator as several replicas on a real 3-member etcd cluster
// against the lab (Pebble + BIND9): one replica leads and issues; the leader
// killed with SIGKILL in the middle of an ACME order is replaced by another
// replica, which resumes the same order — Pebble sees one order, the store
// one version; a leader stopped with SIGTERM resigns and hands over at
// once; a leader cut off from etcd steps down and another leads; a rollout
// to four real agents survives the leader's death and an etcd member's,
// every agent serving a valid certificate at every sample; token create and
// status work on etcd.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/crypto/certificate.h"
#include "common/crypto/kek.h"
#include "common/crypto/private_key.h"
#include "common/crypto/verify.h"
#include "common/etcd/etcd_client.h"
#include "common/filesystem.h"
#include "common/process_runner.h"
#include "common/status_macros.h"
#include "coordinator/store/etcd_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/coordinator/ha_fixture.h"
#include "tests/coordinator/lab_env.h"
#include "tests/harness/etcd_server.h"
#include "tests/harness/free_port.h"
#include "tests/harness/server_process.h"
#include "tests/harness/tcp_proxy.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

namespace certfleet {
namespace {

using ::certfleet::ha_testing::Cluster;
using ::certfleet::ha_testing::CoordinatorHaTest;
using ::certfleet::ha_testing::ServesAValidCertificate;
using ::certfleet::testing::CertSpec;
using ::certfleet::testing::WaitFor;
using ::testing::HasSubstr;

class KilledLeaderTest : public CoordinatorHaTest,
                         public ::testing::WithParamInterface<const char*> {};

TEST_P(KilledLeaderTest, TheNextLeaderResumesTheSameOrder) {
  const std::string failpoint = GetParam();
  const std::string label = absl::StrReplaceAll(failpoint, {{".", "-"}});
  const std::string name = label + ".ha.example.test";
  const std::vector<CertSpec> certs = {{label, {name}}};

  // Alone, coord-a leads, starts the order and dies at the failpoint.
  std::unique_ptr<harness::ServerProcess> a =
      StartReplica("coord-a", certs, {{"CERTFLEET_FAILPOINT", failpoint}});
  ASSERT_NE(a, nullptr);
  ASSERT_OK(WaitFor(
      absl::StrCat("coord-a to die at ", failpoint),
      [&] { return !a->Running(); }, absl::Seconds(60)))
      << Logs({"coord-a"});
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> order,
                       store_->GetOrder(label));
  ASSERT_TRUE(order.has_value()) << "no order persisted at " << failpoint;
  const std::string order_url = order->order_url;

  // Two standbys: one of them takes over once coord-a's lease expires.
  std::unique_ptr<harness::ServerProcess> b = StartReplica("coord-b", certs);
  std::unique_ptr<harness::ServerProcess> c = StartReplica("coord-c", certs);
  ASSERT_OK(WaitForVersions(label, 1, absl::Seconds(60)))
      << Logs({"coord-a", "coord-b", "coord-c"});
  const std::string leader = Leader();
  EXPECT_THAT(leader, ::testing::AnyOf("coord-b", "coord-c"));
  ASSERT_OK_AND_ASSIGN(std::vector<store::VersionRecord> versions,
                       store_->ListVersions(label));
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].order_url, order_url) << "a second order was placed";
  EXPECT_EQ(PebbleOrders(name), 1) << "Pebble saw a second order";
  EXPECT_THAT(testing::ReadFileOrDie(dir_.File(leader + ".log")),
              ::testing::HasSubstr("resuming order " + order_url));
}

INSTANTIATE_TEST_SUITE_P(
    DuringAnOrder, KilledLeaderTest,
    ::testing::Values("order.persisted", "order.answered", "order.finalized"),
    [](const auto& info) {
      return absl::StrReplaceAll(info.param, {{".", "_"}, {"-", "_"}});
    });

// Replicas whose configurations differ: a leader lacking a certificate
// keeps its in-flight order (and says why), the difference is a metric, an
// audit record and a line in `certfleetctl status` on every replica, and
// the next leader that has the certificate resumes the same order — one
// order at the CA for the renewal.
TEST_F(CoordinatorHaTest,
       ALeaderLackingACertificateKeepsItsOrderForOneThatHasIt) {
  const CertSpec kept = {"kept", {"kept.ha.example.test"}};
  const CertSpec plain = {"plain", {"plain.ha.example.test"}};
  // coord-a, alone, places kept's order and dies with it in flight.
  std::unique_ptr<harness::ServerProcess> a = StartReplica(
      "coord-a", {kept}, {{"CERTFLEET_FAILPOINT", "order.persisted"}});
  ASSERT_NE(a, nullptr);
  ASSERT_OK(WaitFor(
      "coord-a to die at order.persisted", [&] { return !a->Running(); },
      absl::Seconds(60)))
      << Logs({"coord-a"});
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> order,
                       store_->GetOrder("kept"));
  ASSERT_TRUE(order.has_value());

  // coord-b's file lacks kept; it leads alone.
  std::map<std::string, int> admin, metrics;
  std::map<std::string, std::vector<CertSpec>> certs = {
      {"coord-b", {plain}}, {"coord-c", {kept, plain}}};
  std::map<std::string, std::unique_ptr<harness::ServerProcess>> replicas;
  auto start = [&](const std::string& r) {
    ASSERT_OK_AND_ASSIGN(admin[r], harness::PickFreePort());
    ASSERT_OK_AND_ASSIGN(metrics[r], harness::PickFreePort());
    replicas[r] = StartReplica(
        r, certs[r], {},
        absl::StrCat("admin:\n  listen: 127.0.0.1:", admin[r],
                     "\nmetrics:\n  listen: 127.0.0.1:", metrics[r], "\n"));
    ASSERT_NE(replicas[r], nullptr);
  };
  start("coord-b");
  const std::vector<std::string> names = {"coord-a", "coord-b", "coord-c"};
  ASSERT_OK(WaitForVersions("plain", 1, absl::Seconds(60))) << Logs(names);
  ASSERT_EQ(Leader(), "coord-b");
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> still,
                       store_->GetOrder("kept"));
  ASSERT_TRUE(still.has_value()) << "the order was abandoned\n" << Logs(names);
  EXPECT_EQ(still->order_url, order->order_url);
  EXPECT_THAT(testing::ReadFileOrDie(dir_.File("coord-b.log")),
              ::testing::HasSubstr(
                  "certificate kept: not configured on replica coord-b, but "
                  "its order " +
                  order->order_url + " is in flight: kept"));

  // coord-c has both: the two replicas see that they differ.
  start("coord-c");
  auto differing = [&](const std::string& r) {
    return absl::StrContains(testing::HttpGet(absl::StrCat(
                                 "http://127.0.0.1:", metrics[r], "/metrics")),
                             "certfleet_config_differing_replicas 1");
  };
  ASSERT_OK(WaitFor(
      "coord-b and coord-c to report that their configurations differ",
      [&] { return differing("coord-b") && differing("coord-c"); },
      absl::Seconds(20)))
      << Logs(names);
  ASSERT_OK(harness::RunTool({CERTFLEET_COORDINATOR_BINARY, "admin-identity",
                              "create", "--config",
                              Config("coord-b", certs["coord-b"]), "--name",
                              "ops", "--out", dir_.File("ops.pem")})
                .status());
  ASSERT_OK_AND_ASSIGN(
      std::string status,
      harness::RunTool({CERTFLEETCTL_BINARY, "--coordinator",
                        absl::StrCat("127.0.0.1:", admin["coord-c"]),
                        "--identity", dir_.File("ops.pem"), "status"}));
  EXPECT_THAT(status, ::testing::HasSubstr("DIFFERS: the leader coord-b runs"));
  EXPECT_THAT(status, ::testing::HasSubstr("coord-b "));
  EXPECT_THAT(status, ::testing::HasSubstr("(leader)"));
  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> audit,
                       store_->ListAudit({}));
  std::set<std::string> saw;
  for (const store::AuditRecord& r : audit) {
    if (r.action == "config.differs") saw.insert(r.actor);
    if (r.action == "config.differs" && r.actor == "coordinator:coord-c") {
      EXPECT_THAT(r.detail,
                  ::testing::HasSubstr("certificates only here: kept"));
    }
  }
  EXPECT_THAT(saw, ::testing::UnorderedElementsAre("coordinator:coord-b",
                                                   "coordinator:coord-c"));

  // coord-b goes; coord-c leads and resumes the same order.
  replicas["coord-b"].reset();
  ASSERT_OK(WaitForVersions("kept", 1, absl::Seconds(60))) << Logs(names);
  EXPECT_EQ(Leader(), "coord-c");
  ASSERT_OK_AND_ASSIGN(std::vector<store::VersionRecord> versions,
                       store_->ListVersions("kept"));
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].order_url, order->order_url);
  EXPECT_EQ(PebbleOrders("kept.ha.example.test"), 1);
  // Alone again, coord-c agrees with every replica there is.
  EXPECT_OK(WaitFor(
      "coord-c, alone, to stop reporting a difference",
      [&] { return !differing("coord-c"); }, absl::Seconds(20)));
}

TEST_F(CoordinatorHaTest, OneLeaderIssuesAndAStoppedLeaderHandsOverAtOnce) {
  const std::vector<CertSpec> certs = {
      {"hand-over", {"hand-over.ha.example.test"}}};
  std::vector<std::unique_ptr<harness::ServerProcess>> replicas;
  for (const char* r : {"coord-a", "coord-b", "coord-c"}) {
    replicas.push_back(StartReplica(r, certs));
  }
  ASSERT_OK(WaitForVersions("hand-over", 1, absl::Seconds(60)))
      << Logs({"coord-a", "coord-b", "coord-c"});
  const std::string first = Leader();
  ASSERT_THAT(first, ::testing::AnyOf("coord-a", "coord-b", "coord-c"));
  EXPECT_EQ(PebbleOrders("hand-over.ha.example.test"), 1);

  // SIGTERM: the leader resigns, another leads well within the TTL.
  const int index = first == "coord-a" ? 0 : first == "coord-b" ? 1 : 2;
  const absl::Time stopped = absl::Now();
  replicas[index]->Stop();
  std::string next;
  EXPECT_OK(WaitFor(
      "another replica to lead",
      [&] {
        next = Leader();
        return !next.empty() && next != first;
      },
      absl::Seconds(10)));
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(2))
      << "the hand-over waited for the lease";
  // Nothing was issued twice.
  absl::SleepFor(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(std::vector<store::VersionRecord> versions,
                       store_->ListVersions("hand-over"));
  EXPECT_EQ(versions.size(), 1u);
}

// The commands that work on the store work on etcd: a bootstrap token is
// made (and the internal CA written where agents take it from), and status
// reads the replicas' certificates.
TEST_F(CoordinatorHaTest, TokenCreateAndStatusWorkOnEtcd) {
  const std::string config =
      Config("coord-a", {{"cmd", {"cmd.ha.example.test"}}});
  absl::StatusOr<std::string> token =
      harness::RunTool({CERTFLEET_COORDINATOR_BINARY, "token", "create",
                        "--config", config, "--labels", "role=web"});
  ASSERT_OK(token.status());
  EXPECT_THAT(*token, ::testing::HasSubstr(dir_.File("internal-ca.pem")));
  ASSERT_OK_AND_ASSIGN(std::vector<store::TokenRecord> tokens,
                       store_->ListTokens());
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].labels.at("role"), "web");
  ASSERT_OK_AND_ASSIGN(std::optional<store::InternalCaRecord> ca,
                       store_->GetInternalCa());
  ASSERT_TRUE(ca.has_value());
  EXPECT_EQ(testing::ReadFileOrDie(dir_.File("internal-ca.pem")), ca->cert_pem);
  absl::StatusOr<std::string> status = harness::RunTool(
      {CERTFLEET_COORDINATOR_BINARY, "status", "--config", config});
  ASSERT_OK(status.status());
  EXPECT_THAT(*status, ::testing::HasSubstr("cmd"));
  EXPECT_THAT(*status, ::testing::HasSubstr(prefix_));
}

// Each replica reaches etcd through a proxy; the leader's is cut (its
// traffic dropped, as in a partition): it steps down, and another replica
// leads once the lease expires.
TEST_F(CoordinatorHaTest, ALeaderCutOffFromEtcdStepsDownAndAnotherLeads) {
  const std::vector<CertSpec> certs = {{"cut", {"cut.ha.example.test"}}};
  const std::vector<std::string> names = {"coord-a", "coord-b", "coord-c"};
  std::map<std::string, std::unique_ptr<harness::TcpProxy>> proxies;
  std::map<std::string, std::unique_ptr<harness::ServerProcess>> replicas;
  std::map<std::string, int> metrics;
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(proxies[names[i]],
                         harness::TcpProxy::Start(Cluster().endpoints()[i]));
    ASSERT_OK_AND_ASSIGN(metrics[names[i]], harness::PickFreePort());
    replicas[names[i]] = StartReplica(
        names[i], certs, {},
        absl::StrCat("metrics:\n  listen: 127.0.0.1:", metrics[names[i]], "\n"),
        "", {proxies[names[i]]->address()});
  }
  ASSERT_OK(WaitForVersions("cut", 1, absl::Seconds(60))) << Logs(names);
  const std::string leader = Leader();
  ASSERT_THAT(leader, ::testing::AnyOf("coord-a", "coord-b", "coord-c"));
  // Only the leader's scheduler keeps the certificate gauges current.
  const std::string kExpiry =
      "certfleet_certificate_not_after_timestamp_seconds{certificate=\"cut\"}";
  auto exports_expiry = [&](const std::string& r) {
    return absl::StrContains(testing::HttpGet(absl::StrCat(
                                 "http://127.0.0.1:", metrics[r], "/metrics")),
                             kExpiry);
  };
  ASSERT_OK(WaitFor("the leader to export the certificate's expiry",
                    [&] { return exports_expiry(leader); }));

  const absl::Time cut = absl::Now();
  proxies[leader]->Cut();
  std::string next;
  ASSERT_OK(WaitFor(
      "another replica to lead",
      [&] {
        next = Leader();
        return !next.empty() && next != leader;
      },
      absl::Seconds(15)))
      << Logs(names);
  const absl::Duration took = absl::Now() - cut;
  EXPECT_LT(took, absl::Seconds(6));  // lease_ttl 2s, with room
  // The cut-off replica knew it no longer led, and is still running.
  EXPECT_THAT(testing::ReadFileOrDie(dir_.File(leader + ".log")),
              ::testing::HasSubstr(leader + " no longer leads"));
  EXPECT_TRUE(replicas[leader]->Running());
  // It stopped exporting the gauges it can no longer keep current (stale,
  // they would fire expiry alerts after the next leader renews); the next
  // leader exports them.
  ASSERT_OK(WaitFor("the cut-off replica to stop exporting the expiry",
                    [&] { return !exports_expiry(leader); }));
  ASSERT_OK(WaitFor("the next leader to export the certificate's expiry",
                    [&] { return exports_expiry(next); }));
  printf("leader cut off from etcd → %s leads after %s\n", next.c_str(),
         absl::FormatDuration(took).c_str());
  proxies[leader]->Heal();
}

// A replica cut off from etcd in the middle of a rollout (its presence
// keys expire, so the leader counts its agents offline) hands its agents
// over: it ends their streams and refuses new ones, and /readyz says it is
// not ready while /healthz stays ok (alive). Its agents are on the other
// replica within the presence TTL (6 s) plus 5 s, and the rollout completes
// with no operator action; once etcd is back the replica is ready again.
TEST_F(CoordinatorHaTest, AReplicaCutOffFromEtcdHandsItsAgentsOver) {
  const std::vector<CertSpec> certs = {{"handover", {"ho.ha.example.test"}}};
  const std::string tail =
      "    targets:\n      - agents: {role: web}\n        target: www\n"
      "    rollout: {waves: [1, \"100%\"], max_unavailable: \"100%\", "
      "bake_time: 8s}\n";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<harness::TcpProxy> proxy,
                       harness::TcpProxy::Start(Cluster().endpoints()[0]));
  std::map<std::string, int> port, admin, metrics;
  std::map<std::string, std::unique_ptr<harness::ServerProcess>> replicas;
  for (const std::string r : {"coord-a", "coord-b"}) {
    ASSERT_OK_AND_ASSIGN(port[r], harness::PickFreePort());
    ASSERT_OK_AND_ASSIGN(admin[r], harness::PickFreePort());
    ASSERT_OK_AND_ASSIGN(metrics[r], harness::PickFreePort());
    replicas[r] = StartReplica(
        r, certs, {},
        absl::StrCat("agents:\n  listen: 127.0.0.1:", port[r],
                     "\nadmin:\n  listen: 127.0.0.1:", admin[r],
                     "\nmetrics:\n  listen: 127.0.0.1:", metrics[r], "\n"),
        tail,
        r == "coord-a" ? std::vector<std::string>{proxy->address()}
                       : std::vector<std::string>{});
    ASSERT_NE(replicas[r], nullptr);
  }
  const std::vector<std::string> names = {"coord-a", "coord-b"};
  ASSERT_OK(WaitForVersions("handover", 1, absl::Seconds(60))) << Logs(names);
  const std::string a = absl::StrCat("127.0.0.1:", port["coord-a"]);
  const std::string b = absl::StrCat("127.0.0.1:", port["coord-b"]);
  std::vector<std::unique_ptr<harness::ServerProcess>> agents;
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(
        std::unique_ptr<harness::ServerProcess> agent,
        StartAgent(absl::StrCat("agent-", i),
                   {absl::StrCat("\"", a, "\""), absl::StrCat("\"", b, "\"")},
                   "", Config("coord-b", certs)));
    agents.push_back(std::move(agent));
  }
  auto status_of = [&](const std::string& replica, const std::string& path) {
    long status = 0;
    testing::HttpGet(absl::StrCat("http://127.0.0.1:", metrics[replica], path),
                     &status);
    return status;
  };
  ASSERT_OK(WaitFor(
      "both agents to install handover/1",
      [&] { return Installed("handover/1") == 2; }, absl::Seconds(60)))
      << Logs(names);
  ASSERT_EQ(Connections("agent-0", a), 1);
  ASSERT_EQ(Connections("agent-1", a), 1);
  EXPECT_EQ(status_of("coord-a", "/readyz"), 200);

  // A renewal, asked of the leader; once the canary bakes, coord-a is cut.
  const std::string leader = Leader();
  ASSERT_THAT(leader, ::testing::AnyOf("coord-a", "coord-b"));
  ASSERT_OK(Renew(leader, certs, admin[leader], "handover"));
  std::optional<store::RolloutRecord> baking;
  ASSERT_OK(WaitFor(
      "the rollout of the renewal to bake",
      [&] {
        absl::StatusOr<std::optional<store::RolloutRecord>> r =
            store_->ActiveRollout("handover");
        if (r.ok() && r->has_value() && (*r)->phase == "baking") baking = **r;
        return baking.has_value();
      },
      absl::Seconds(60)))
      << Logs(names);
  const absl::Time cut = absl::Now();
  proxy->Cut();
  const absl::Status moved = WaitFor(
      "both agents to connect to coord-b",
      [&] {
        return Connections("agent-0", b) >= 1 && Connections("agent-1", b) >= 1;
      },
      absl::Seconds(20));
  const absl::Duration took = absl::Now() - cut;
  ASSERT_OK(moved) << Logs(names);
  EXPECT_LT(took, absl::Seconds(6 + 5)) << took;
  EXPECT_THAT(testing::ReadFileOrDie(dir_.File("agent-0/agent.log")),
              HasSubstr("coord-a is cut off from etcd"));
  EXPECT_EQ(status_of("coord-a", "/readyz"), 503);
  EXPECT_EQ(status_of("coord-a", "/healthz"), 200);
  std::cout << "agents handed over by the cut-off replica in "
            << absl::FormatDuration(took) << "\n";

  // The same rollout completes, through coord-b alone.
  ASSERT_OK(WaitFor(
      "both agents to install handover/2",
      [&] { return Installed("handover/2") == 2; }, absl::Seconds(60)))
      << Logs(names);
  EXPECT_OK(WaitForRolloutPhase(baking->id, "complete", absl::Seconds(30)))
      << Logs(names);
  // Refused while cut off: no agent went back to coord-a.
  EXPECT_EQ(Connections("agent-0", a), 1);
  EXPECT_EQ(Connections("agent-1", a), 1);

  proxy->Heal();
  EXPECT_OK(WaitFor(
      "coord-a ready again once healed",
      [&] { return status_of("coord-a", "/readyz") == 200; },
      absl::Seconds(20)))
      << Logs({"coord-a"});
}

// Three replicas, four real agents, a rollout in its bake: the leader is
// SIGKILLed and an etcd member dies with it (and coord-a, which the agents
// dial first, when it was not the leader). Another replica takes over the
// same rollout and the agents (which reconnect to whichever replica
// answers) all end on the new version; none is ever without a certificate.
// A replica frozen by SIGSTOP (a long pause, a VM migration) keeps its
// agents' TCP connections open and says nothing: its agents notice the
// missing heartbeats and are on another replica within 10 s.
TEST_F(CoordinatorHaTest, AgentsOfAFrozenReplicaMoveWithinTenSeconds) {
  const std::vector<CertSpec> certs = {{"frozen", {"frozen.ha.example.test"}}};
  std::map<std::string, int> port;
  std::map<std::string, std::unique_ptr<harness::ServerProcess>> replicas;
  for (const std::string r : {"coord-a", "coord-b"}) {
    ASSERT_OK_AND_ASSIGN(port[r], harness::PickFreePort());
    replicas[r] = StartReplica(
        r, certs, {},
        absl::StrCat("agents:\n  listen: 127.0.0.1:", port[r], "\n"));
    ASSERT_NE(replicas[r], nullptr);
  }
  ASSERT_OK(WaitForVersions("frozen", 1, absl::Seconds(60)))
      << Logs({"coord-a", "coord-b"});
  const std::string a = absl::StrCat("127.0.0.1:", port["coord-a"]);
  const std::string b = absl::StrCat("127.0.0.1:", port["coord-b"]);
  // The agent's default reconnection backoff (1 s first, with jitter).
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<harness::ServerProcess> agent,
      StartAgent("agent-0",
                 {absl::StrCat("\"", a, "\""), absl::StrCat("\"", b, "\"")}, "",
                 Config("coord-a", certs)));
  const std::string log = dir_.File("agent-0/agent.log");
  auto connected_to = [&](const std::string& address) {
    return Connections("agent-0", address) > 0;
  };
  ASSERT_OK(WaitFor(
      "the agent to connect to coord-a", [&] { return connected_to(a); },
      absl::Seconds(30)))
      << testing::ReadFileOrDie(log);

  const absl::Time frozen = absl::Now();
  ASSERT_EQ(kill(replicas["coord-a"]->pid(), SIGSTOP), 0);
  const absl::Status moved = WaitFor(
      "the agent to move to coord-b", [&] { return connected_to(b); },
      absl::Seconds(15));
  const absl::Duration took = absl::Now() - frozen;
  ASSERT_EQ(kill(replicas["coord-a"]->pid(), SIGCONT), 0);
  ASSERT_OK(moved) << testing::ReadFileOrDie(log);
  EXPECT_LT(took, absl::Seconds(10)) << testing::ReadFileOrDie(log);
  EXPECT_THAT(testing::ReadFileOrDie(log), HasSubstr("heard nothing for 6s"));
  std::cout << "agent moved off the frozen replica in "
            << absl::FormatDuration(took) << "\n";
}

TEST_F(CoordinatorHaTest, ARolloutSurvivesTheLeaderAndAnEtcdMember) {
  const std::vector<CertSpec> certs = {{"fleet", {"fleet.ha.example.test"}}};
  const std::vector<std::string> names = {"coord-a", "coord-b", "coord-c"};
  std::map<std::string, int> agent_port, admin_port;
  std::vector<std::string> coordinators;
  for (const std::string& r : names) {
    ASSERT_OK_AND_ASSIGN(agent_port[r], harness::PickFreePort());
    ASSERT_OK_AND_ASSIGN(admin_port[r], harness::PickFreePort());
    coordinators.push_back(absl::StrCat("\"127.0.0.1:", agent_port[r], "\""));
  }
  const std::string tail =
      "    targets:\n      - agents: {role: web}\n        target: www\n"
      "    rollout: {waves: [1, \"100%\"], max_unavailable: \"100%\", "
      "bake_time: 8s}\n";
  std::map<std::string, std::unique_ptr<harness::ServerProcess>> replicas;
  for (const std::string& r : names) {
    replicas[r] = StartReplica(
        r, certs, {},
        absl::StrCat("agents:\n  listen: 127.0.0.1:", agent_port[r],
                     "\nadmin:\n  listen: 127.0.0.1:", admin_port[r], "\n"),
        tail);
  }
  ASSERT_OK(WaitForVersions("fleet", 1, absl::Seconds(60))) << Logs(names);

  // Four agents listing every replica.
  std::vector<std::unique_ptr<harness::ServerProcess>> agents;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<harness::ServerProcess> agent,
                         StartAgent(absl::StrCat("agent-", i), coordinators,
                                    "reconnect: {initial: 100ms, max: 1s}\n",
                                    Config("coord-a", certs)));
    agents.push_back(std::move(agent));
  }
  auto wait_installed = [&](const std::string& version_id, int n,
                            absl::Duration timeout) {
    return WaitFor(
        absl::StrCat(n, " agents to install ", version_id),
        [&] { return Installed(version_id) >= n; }, timeout);
  };
  ASSERT_OK(wait_installed("fleet/1", 4, absl::Seconds(60))) << Logs(names);
  // From here on every agent must serve a valid certificate at every
  // sample (each 100 ms), through the renewal, the kills and the rollout.
  std::atomic<bool> sampling{true};
  std::atomic<int> samples{0}, invalid{0};
  absl::Mutex invalid_mu;
  std::string first_invalid;
  std::thread sampler([&] {
    while (sampling) {
      for (int i = 0; i < 4; ++i) {
        const absl::Status s = ServesAValidCertificate(
            dir_.File(absl::StrCat("agent-", i, "/www")));
        ++samples;
        if (!s.ok()) {
          ++invalid;
          absl::MutexLock lock(&invalid_mu);
          if (first_invalid.empty()) first_invalid = s.ToString();
        }
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  struct StopSampler {
    std::atomic<bool>& flag;
    std::thread& thread;
    ~StopSampler() {
      flag = false;
      if (thread.joinable()) thread.join();
    }
  } stop_sampler{sampling, sampler};

  // A renewal, asked of the leader: version 2 rolls out.
  const std::string leader = Leader();
  ASSERT_THAT(leader, ::testing::AnyOf("coord-a", "coord-b", "coord-c"));
  ASSERT_OK(Renew(leader, certs, admin_port[leader], "fleet"));
  // The canary is healthy and baking: the leader dies, and an etcd member.
  std::optional<store::RolloutRecord> baking;
  ASSERT_OK(WaitFor(
      "the rollout of the renewal to bake",
      [&] {
        absl::StatusOr<std::optional<store::RolloutRecord>> r =
            store_->ActiveRollout("fleet");
        if (r.ok() && r->has_value() && (*r)->phase == "baking") baking = **r;
        return baking.has_value();
      },
      absl::Seconds(60)))
      << Logs(names);
  EXPECT_EQ(Installed("fleet/2"), 1) << "only the canary before the bake";
  replicas[leader]->Kill();
  Cluster().Kill(2);
  // The agents dial coord-a first: when it was not the leader, it goes too,
  // so they must fail over to the one replica left.
  if (leader != "coord-a") replicas["coord-a"]->Kill();

  ASSERT_OK(wait_installed("fleet/2", 4, absl::Seconds(60))) << Logs(names);
  // The same rollout goes on to complete under the new leader.
  EXPECT_OK(WaitForRolloutPhase(baking->id, "complete", absl::Seconds(30)))
      << Logs(names);
  const std::string next = Leader();
  EXPECT_NE(next, leader);
  // A follower's admin API names the leader, and sends rollout commands
  // there.
  std::string follower;
  for (const std::string& r : names) {
    if (r != leader && r != next && replicas[r]->Running()) follower = r;
  }
  SubprocessRunner runner;
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {CERTFLEETCTL_BINARY, "--coordinator",
                               absl::StrCat("127.0.0.1:", admin_port[follower]),
                               "--identity", dir_.File("ops.pem")});
    absl::StatusOr<ProcessResult> r = runner.Run(
        {.argv = args, .timeout = absl::Seconds(30)}, Context::Background());
    EXPECT_OK(r.status());
    return r.ok() ? *r : ProcessResult{};
  };
  const std::string names_leader = absl::StrCat(
      "replica ", follower.empty() ? "coord-a" : follower, ", leader: ", next);
  ProcessResult status;
  if (follower.empty()) {
    // coord-a went too: bring it back as a follower.
    follower = "coord-a";
    replicas[follower] = StartReplica(
        follower, certs, {},
        absl::StrCat("agents:\n  listen: 127.0.0.1:", agent_port[follower],
                     "\nadmin:\n  listen: 127.0.0.1:", admin_port[follower],
                     "\n"),
        tail);
    ASSERT_OK(harness::WaitForTcpPort(admin_port[follower], absl::Seconds(20),
                                      replicas[follower].get()));
    // Its admin API answers before it has read the leadership key.
    ASSERT_OK(WaitFor(
        "the restarted coord-a to name the leader",
        [&] {
          status = ctl({"status"});
          return absl::StrContains(status.stdout_data, names_leader);
        },
        absl::Seconds(20)))
        << status.stdout_data << status.stderr_data;
  }
  status = ctl({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.stderr_data;
  EXPECT_THAT(status.stdout_data, ::testing::HasSubstr(names_leader));
  ProcessResult pause = ctl({"rollout", "pause", "fleet"});
  EXPECT_EQ(pause.exit_code, 1);
  EXPECT_THAT(pause.stderr_data, ::testing::HasSubstr("does not lead"));
  ProcessResult renew = ctl({"renew", "fleet"});
  EXPECT_EQ(renew.exit_code, 1);
  EXPECT_THAT(renew.stderr_data,
              ::testing::HasSubstr("does not lead: renewals are ordered by "
                                   "the leader"));
  // No agent was ever without a certificate: every target state since the
  // first install names an installed version.
  ASSERT_OK_AND_ASSIGN(std::vector<store::TargetStateRecord> states,
                       store_->ListAllTargetStates());
  for (const auto& s : states) EXPECT_EQ(s.installed_version_id, "fleet/2");
  sampling = false;
  sampler.join();
  EXPECT_EQ(invalid.load(), 0) << first_invalid;
  EXPECT_GT(samples.load(), 40);
  printf("agents sampled %d times: %d without a valid certificate\n",
         samples.load(), invalid.load());
  ASSERT_OK(Cluster().Restart(2));
}

}  // namespace
}  // namespace certfleet
