// A chaos run of certfleet's HA on real binaries: three coordinator replicas
// (each reaching a 3-member etcd through its own TCP proxy), a Pebble that
// validates slowly (0–15 s, as CAs do), four agents — two of them behind a
// real nginx — and rounds of "renew, then one random fault at a random
// instant while the order or the rollout runs": the leader frozen past its
// lease (SIGSTOP), any replica killed (SIGKILL), a replica cut off from etcd,
// an etcd member killed. After each round:
//   (a) no target was told to serve a version before a stored rollout state
//       called for it — checked against etcd's revision history (every
//       desired-version write is compared with the rollout records written
//       before it; a replica sends a bundle only after that write);
//   (b) one CA order per renewal (Pebble's orders = versions stored);
//   (c) every nginx served a certificate of the store, for the name, not
//       expired, at every 200 ms probe, all along;
//   (d) the round's rollout completes, every agent on the new version.
// The seed is printed; CERTFLEET_CHAOS_SEED replays a run and
// CERTFLEET_CHAOS_ROUNDS sets its length (20 in the suite; docs/ha.md
// records a longer run).
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/rollout/called_for.h"
#include "coordinator/rollout/rollout_state.h"
#include "coordinator/store/record_codec.h"
#include "coordinator/store/version_id.h"
#include "tests/agent_web/agent_web_support.h"
#include "tests/coordinator/ha_fixture.h"
#include "tests/harness/free_port.h"
#include "tests/harness/nginx_server.h"
#include "tests/harness/pebble_server.h"
#include "tests/harness/tls_probe.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet {
namespace {

using ::certfleet::ha_testing::Cluster;
using ::certfleet::ha_testing::CoordinatorHaTest;
using ::certfleet::testing::CertSpec;
using ::certfleet::testing::WaitFor;

constexpr char kCert[] = "chaos";
constexpr char kName[] = "chaos.ha.example.test";
constexpr int kAgents = 4;
constexpr int kBehindNginx = 2;

int64_t EnvNumber(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? fallback : std::atoll(v);
}

// Every write under the prefix since `from`, in revision order.
absl::StatusOr<std::vector<etcd::KeyValue>> History(etcd::EtcdClient& client,
                                                    const std::string& prefix,
                                                    int64_t from) {
  const Context ctx =
      Context::Background().WithDeadline(absl::Now() + absl::Seconds(20));
  // Replayed until the newest write of a key that exists now (desired and
  // rollout keys are never deleted). Not the header's revision: a replay
  // comes in batches, each stamped with the store's current revision.
  ASSIGN_OR_RETURN(etcd::RangeResult now,
                   client.Range(etcd::KeyRange::Prefix(prefix), 0, ctx));
  int64_t until = 0;
  for (const etcd::KeyValue& kv : now.kvs) {
    until = std::max(until, kv.mod_revision);
  }
  absl::Mutex mu;
  std::vector<etcd::KeyValue> out;
  int64_t seen = 0;
  absl::Status ended;
  ASSIGN_OR_RETURN(
      std::unique_ptr<etcd::EtcdWatch> watch,
      client.Watch(
          {.range = etcd::KeyRange::Prefix(prefix), .start_revision = from},
          [&](absl::StatusOr<etcd::WatchUpdate> u) {
            absl::MutexLock lock(&mu);
            if (!u.ok()) {
              ended = u.status();
              return;
            }
            for (const etcd::WatchEvent& e : u->events) {
              if (e.type == etcd::WatchEvent::Type::kPut) {
                out.push_back(e.kv);
              }
              seen = std::max(seen, e.kv.mod_revision);
            }
          },
          ctx));
  absl::MutexLock lock(&mu);
  auto done = [&] { return seen >= until || !ended.ok(); };
  if (!mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(20))) {
    return absl::DeadlineExceededError("history: the watch fell behind");
  }
  if (!ended.ok()) return ended;
  return out;
}

// (a): the desired-version writes of versions after the first (which goes to
// everyone directly) that no rollout record written before them called for.
std::vector<std::string> EarlyDeliveries(
    const std::vector<etcd::KeyValue>& history, const std::string& prefix,
    int* judged) {
  std::map<std::string, rollout::RolloutState> rollouts;  // by key
  std::vector<std::string> early;
  for (const etcd::KeyValue& kv : history) {
    const std::string key = kv.key.substr(prefix.size());
    if (absl::StartsWith(key, "rollouts/")) {
      store::RolloutRecord r;
      if (!store::DecodeRecord(kv.value, &r).ok()) continue;
      absl::StatusOr<rollout::RolloutState> state =
          rollout::RolloutStateFromJson(r.state_json);
      if (state.ok()) rollouts[key] = *std::move(state);
      continue;
    }
    if (!absl::StartsWith(key, "desired/")) continue;
    store::TargetStateRecord d;
    if (!store::DecodeRecord(kv.value, &d).ok()) continue;
    absl::StatusOr<std::pair<std::string, int64_t>> v =
        store::ParseVersionId(d.desired_version_id);
    if (!v.ok() || v->second <= 1) continue;
    ++*judged;
    bool called = false;
    for (const auto& [k, state] : rollouts) {
      for (const rollout::DeliverAction& a : rollout::CalledFor(state)) {
        called |= a.agent_id == d.agent_id && a.target == d.target &&
                  a.version_id == d.desired_version_id;
      }
    }
    if (!called) {
      early.push_back(absl::StrCat(d.agent_id, "/", d.target, " told to serve ",
                                   d.desired_version_id, " at revision ",
                                   kv.mod_revision));
    }
  }
  return early;
}

class HaChaosTest : public CoordinatorHaTest {};

TEST_F(HaChaosTest, RandomFaultsNeverDeliverEarlyNorCostASecondOrder) {
  const uint64_t seed =
      EnvNumber("CERTFLEET_CHAOS_SEED", std::random_device{}());
  const int rounds = static_cast<int>(EnvNumber("CERTFLEET_CHAOS_ROUNDS", 20));
  std::cout << "chaos: seed " << seed << ", " << rounds
            << " rounds (replay with CERTFLEET_CHAOS_SEED=" << seed << ")\n"
            << std::flush;
  std::mt19937_64 rng(seed);
  auto uniform = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };

  // A CA that validates slowly.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<harness::PebbleServer> slow,
                       harness::PebbleServer::Start(
                           {.dns_server = testing::SharedLab().bind->address(),
                            .no_sleep = false}));
  pebble_ = slow.get();
  const std::vector<CertSpec> certs = {{kCert, {kName}}};
  const std::string tail =
      "    targets:\n      - agents: {role: web}\n        target: www\n"
      "    rollout: {waves: [1, \"100%\"], max_unavailable: \"100%\", "
      "bake_time: 2s, health_timeout: 60s}\n";

  // Three replicas, each on its own proxy to etcd member 0 (member 1 or 2
  // is what the etcd fault kills).
  const std::vector<std::string> names = {"coord-a", "coord-b", "coord-c"};
  std::map<std::string, int> agent_port, admin_port;
  std::map<std::string, std::unique_ptr<harness::TcpProxy>> proxy;
  std::map<std::string, std::unique_ptr<harness::ServerProcess>> replicas;
  std::vector<std::string> coordinators;
  for (const std::string& r : names) {
    ASSERT_OK_AND_ASSIGN(agent_port[r], harness::PickFreePort());
    ASSERT_OK_AND_ASSIGN(admin_port[r], harness::PickFreePort());
    ASSERT_OK_AND_ASSIGN(proxy[r],
                         harness::TcpProxy::Start(Cluster().endpoints()[0]));
    coordinators.push_back(absl::StrCat("\"127.0.0.1:", agent_port[r], "\""));
  }
  auto start = [&](const std::string& r) {
    replicas[r] = StartReplica(
        r, certs, {},
        absl::StrCat("agents:\n  listen: 127.0.0.1:", agent_port[r],
                     "\nadmin:\n  listen: 127.0.0.1:", admin_port[r], "\n"),
        tail, {proxy[r]->address()});
  };
  ASSERT_OK_AND_ASSIGN(etcd::RangeResult at_start,
                       client_->Range(etcd::KeyRange::Prefix(prefix_), 1,
                                      Context::Background().WithDeadline(
                                          absl::Now() + absl::Seconds(5))));
  const int64_t first_revision = at_start.revision + 1;
  for (const std::string& r : names) start(r);
  ASSERT_OK(WaitForVersions(kCert, 1, absl::Seconds(90))) << Logs(names);

  // Four agents, each listing the replicas from a different one; the first
  // two behind nginx (placeholders until their first install).
  std::vector<std::unique_ptr<harness::NginxServer>> nginx;
  std::vector<std::unique_ptr<harness::ServerProcess>> agents;
  for (int i = 0; i < kAgents; ++i) {
    const std::string name = absl::StrCat("agent-", i);
    std::vector<std::string> order = coordinators;
    std::rotate(order.begin(), order.begin() + i % order.size(), order.end());
    std::string reload = "    reload: {command: [/bin/true]}\n";
    if (i < kBehindNginx) {
      const std::string www = dir_.File(name + "/www");
      ASSERT_EQ(mkdir(dir_.File(name).c_str(), 0700), 0);
      ASSERT_EQ(mkdir(www.c_str(), 0755), 0);
      agent::web_testing::WritePlaceholders(
          agent::web_testing::WwwBundle("www", "placeholder", "0a00"),
          www + "/fullchain.pem", www + "/key.pem");
      ASSERT_OK_AND_ASSIGN(
          std::unique_ptr<harness::NginxServer> server,
          harness::NginxServer::Start({.cert_path = www + "/fullchain.pem",
                                       .key_path = www + "/key.pem"}));
      reload = absl::StrCat(
          "    reload:\n      command: ",
          agent::web_testing::YamlList(server->ReloadCommand()),
          "\n      timeout: 20s\n    health:\n      - tls: {address: ",
          agent::web_testing::YamlString(server->address()),
          ", server_name: ", kName, "}\n");
      nginx.push_back(std::move(server));
    }
    ASSERT_OK_AND_ASSIGN(
        std::unique_ptr<harness::ServerProcess> agent,
        StartAgent(name, order, "reconnect: {initial: 100ms, max: 1s}\n",
                   Config("coord-a", certs), reload));
    agents.push_back(std::move(agent));
  }
  ASSERT_OK(WaitFor(
      "every agent to install the first version",
      [&] { return Installed(absl::StrCat(kCert, "/1")) == kAgents; },
      absl::Seconds(90)))
      << Logs(names);

  // (c) From here on, every nginx must serve one of the store's versions,
  // for the name and unexpired, at every probe.
  std::atomic<bool> probing{true};
  std::atomic<int> probes{0};
  absl::Mutex bad_mu;
  std::vector<std::string> bad;
  std::thread prober([&] {
    while (probing) {
      std::set<std::string> serials;
      absl::StatusOr<std::vector<store::VersionRecord>> versions =
          store_->ListVersions(kCert);
      if (versions.ok()) {
        for (const auto& v : *versions) serials.insert(v.serial_hex);
      }
      for (const auto& server : nginx) {
        absl::StatusOr<harness::ServedCertificate> served =
            harness::ProbeTls(server->address(), kName, absl::Seconds(2));
        ++probes;
        std::string why;
        if (!served.ok()) {
          why = served.status().ToString();
        } else if (served->not_after <= absl::Now()) {
          why = "expired";
        } else if (std::find(served->dns_names.begin(), served->dns_names.end(),
                             kName) == served->dns_names.end()) {
          why = "not for " + std::string(kName);
        } else if (versions.ok() && serials.count(served->serial_hex) == 0) {
          why = "serial " + served->serial_hex + " is no stored version";
        }
        if (!why.empty()) {
          absl::MutexLock lock(&bad_mu);
          bad.push_back(absl::StrCat(server->address(), ": ", why));
        }
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
  });
  struct StopProber {
    std::atomic<bool>& flag;
    std::thread& thread;
    ~StopProber() {
      flag = false;
      if (thread.joinable()) thread.join();
    }
  } stop_prober{probing, prober};

  ASSERT_OK(
      harness::RunTool({CERTFLEET_COORDINATOR_BINARY, "admin-identity",
                        "create", "--config", Config("coord-a", certs),
                        "--name", "chaos", "--out", dir_.File("chaos.pem")})
          .status());
  // `certfleetctl renew` through whichever replica takes it.
  auto renew = [&] {
    return WaitFor(
        "a replica to take the renewal",
        [&] {
          for (const std::string& r : names) {
            if (replicas[r] == nullptr || !replicas[r]->Running()) continue;
            if (harness::RunTool({CERTFLEETCTL_BINARY, "--coordinator",
                                  absl::StrCat("127.0.0.1:", admin_port[r]),
                                  "--identity", dir_.File("chaos.pem"), "renew",
                                  kCert})
                    .ok()) {
              return true;
            }
          }
          return false;
        },
        absl::Seconds(60));
  };

  for (int round = 1; round <= rounds; ++round) {
    const int version = round + 1;
    ASSERT_OK(renew()) << "round " << round << ": renewal refused\n"
                       << Logs(names);
    // The fault, at a random instant of the order or the rollout.
    absl::SleepFor(absl::Milliseconds(uniform(0, 8000)));
    const std::string leader = Leader();
    std::string fault;
    switch (uniform(0, 3)) {
      case 0: {
        if (leader.empty() || replicas[leader] == nullptr) break;
        const int ms = uniform(2500, 5000);
        fault = absl::StrCat("SIGSTOP leader ", leader, " for ", ms, " ms");
        ASSERT_EQ(kill(replicas[leader]->pid(), SIGSTOP), 0);
        absl::SleepFor(absl::Milliseconds(ms));
        ASSERT_EQ(kill(replicas[leader]->pid(), SIGCONT), 0);
        break;
      }
      case 1: {
        const std::string r = names[uniform(0, 2)];
        const int ms = uniform(500, 3000);
        fault = absl::StrCat("SIGKILL ", r, r == leader ? " (leader)" : "",
                             ", restarted after ", ms, " ms");
        replicas[r]->Kill();
        absl::SleepFor(absl::Milliseconds(ms));
        start(r);
        break;
      }
      case 2: {
        const std::string r = names[uniform(0, 2)];
        const int ms = uniform(3000, 9000);
        fault = absl::StrCat("cut ", r, r == leader ? " (leader)" : "",
                             " off from etcd for ", ms, " ms");
        proxy[r]->Cut();
        absl::SleepFor(absl::Milliseconds(ms));
        proxy[r]->Heal();
        break;
      }
      case 3: {
        const int member = uniform(1, 2);
        const int ms = uniform(1000, 5000);
        fault = absl::StrCat("etcd member ", member, " killed for ", ms, " ms");
        Cluster().Stop(member);
        absl::SleepFor(absl::Milliseconds(ms));
        ASSERT_OK(Cluster().Restart(member));
        break;
      }
    }
    const absl::Time faulted = absl::Now();
    // (d) the version is issued and rolled out to every agent.
    const absl::Status done = WaitFor(
        "the version issued and rolled out to every agent",
        [&] {
          if (Installed(absl::StrCat(kCert, "/", version)) != kAgents) {
            return false;
          }
          absl::StatusOr<std::optional<store::RolloutRecord>> active =
              store_->ActiveRollout(kCert);
          return active.ok() && !active->has_value();
        },
        absl::Seconds(180));
    ASSERT_OK(done) << "round " << round << " (" << fault << "): version "
                    << version << " not rolled out to every agent (seed "
                    << seed << ")\n"
                    << Logs(names);
    ASSERT_OK_AND_ASSIGN(
        std::vector<store::RolloutRecord> latest,
        store_->ListRollouts({.certificate = kCert, .limit = 1}));
    ASSERT_EQ(latest.size(), 1u);
    EXPECT_EQ(latest[0].phase, "complete")
        << "round " << round << " (" << fault << "), seed " << seed;
    // (b) one order per renewal.
    ASSERT_OK_AND_ASSIGN(std::vector<store::VersionRecord> versions,
                         store_->ListVersions(kCert));
    EXPECT_EQ(PebbleOrders(kName), static_cast<int>(versions.size()))
        << "round " << round << " (" << fault << "): a renewal cost a second "
        << "CA order (seed " << seed << ")\n"
        << Logs(names);
    // (a) nothing told before the stored state called for it. History from
    // the start: a round's desired write is judged against every rollout
    // record written before it.
    ASSERT_OK_AND_ASSIGN(std::vector<etcd::KeyValue> history,
                         History(*client_, prefix_, first_revision));
    int judged = 0;
    EXPECT_THAT(EarlyDeliveries(history, prefix_, &judged),
                ::testing::IsEmpty())
        << "round " << round << " (" << fault << "), seed " << seed;
    // Every agent was told each version after the first: the check judged.
    EXPECT_GE(judged, kAgents * round);
    {
      absl::MutexLock lock(&bad_mu);
      EXPECT_THAT(bad, ::testing::IsEmpty())
          << "round " << round << " (" << fault << "), seed " << seed;
      bad.clear();
    }
    std::cout << "chaos round " << round << ": "
              << (fault.empty() ? "no fault (no leader to freeze)" : fault)
              << "; version " << version << " everywhere "
              << absl::FormatDuration(absl::Now() - faulted)
              << " after the fault; " << judged
              << " desired-version writes judged, " << probes.load()
              << " probes so far\n"
              << std::flush;
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace certfleet
