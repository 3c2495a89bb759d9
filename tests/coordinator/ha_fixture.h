// The fixture of the tests that run certfleet-coordinator as several
// replicas on a real 3-member etcd cluster against the lab (Pebble +
// BIND9), with real agents: replicas and agents as processes, configuration
// files written per replica, and what the store and the agents' logs say.
//
//   class MyHaTest : public CoordinatorHaTest {};
//   auto a = StartReplica("coord-a", {{"web", {"web.ha.example.test"}}});
#ifndef CERTFLEET_TESTS_COORDINATOR_HA_FIXTURE_H_
#define CERTFLEET_TESTS_COORDINATOR_HA_FIXTURE_H_

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <map>
#include <memory>
#include <string>
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
#include "tests/coordinator/lab_env.h"
#include "tests/harness/etcd_server.h"
#include "tests/harness/server_process.h"
#include "tests/harness/tcp_proxy.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

namespace certfleet::ha_testing {

using ::certfleet::testing::CertSpec;
using ::certfleet::testing::TempDir;

// OK when the agent target in `target_dir` serves a certificate now: its
// current version's key matches its leaf, which has not expired. Both files
// are read from the version directory `current` names, so an install
// swapping the link meanwhile cannot pair one version's key with another's
// certificate.
inline absl::Status ServesAValidCertificate(const std::string& target_dir) {
  char link[4096];
  const ssize_t n =
      readlink((target_dir + "/current").c_str(), link, sizeof link - 1);
  if (n <= 0) return absl::FailedPreconditionError(target_dir + ": no current");
  const std::string dir = absl::StrCat(target_dir, "/", std::string(link, n));
  LocalFilesystem fs;
  ASSIGN_OR_RETURN(std::string key_pem, fs.ReadFile(dir + "/key.pem"));
  ASSIGN_OR_RETURN(std::string chain_pem, fs.ReadFile(dir + "/fullchain.pem"));
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::FromPem(key_pem));
  ASSIGN_OR_RETURN(std::vector<crypto::Certificate> chain,
                   crypto::Certificate::ParsePemChain(chain_pem));
  if (chain.empty()) return absl::FailedPreconditionError(dir + ": empty");
  RETURN_IF_ERROR(crypto::CheckKeyMatches(key, chain.front()));
  if (chain.front().NotAfter() <= absl::Now()) {
    return absl::FailedPreconditionError(dir + ": expired");
  }
  return absl::OkStatus();
}

// Started on first use; stopped (by PID) when the test process exits.
inline harness::EtcdCluster& Cluster() {
  static const std::unique_ptr<harness::EtcdCluster> cluster = [] {
    absl::StatusOr<std::unique_ptr<harness::EtcdCluster>> c =
        harness::EtcdCluster::Start();
    if (!c.ok()) {
      fprintf(stderr, "cannot start etcd: %s\n", c.status().ToString().c_str());
      abort();
    }
    return *std::move(c);
  }();
  return *cluster;
}

// Replicas of one installation: a shared KEK and etcd prefix, a config each.
class CoordinatorHaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prefix_ = absl::StrCat(
        "/ha-", getpid(), "-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name(), "/");
    prefix_ = absl::StrReplaceAll(prefix_, {{"_", "-"}});
    ASSERT_OK_AND_ASSIGN(client_, etcd::EtcdClient::Create(
                                      {.endpoints = Cluster().endpoints()}));
    ASSERT_OK_AND_ASSIGN(
        store_,
        store::EtcdStore::Open({.client = client_.get(), .prefix = prefix_}));
  }

  // `extra`: sections before certificates; `cert_tail`: fields of the last
  // certificate.
  std::string Config(const std::string& replica,
                     const std::vector<CertSpec>& certs,
                     const std::string& extra = "",
                     const std::string& cert_tail = "",
                     std::vector<std::string> via = {}) {
    if (via.empty()) via = Cluster().endpoints();
    std::string endpoints;
    for (const std::string& e : via) {
      absl::StrAppend(&endpoints, endpoints.empty() ? "" : ", ", "\"", e, "\"");
    }
    const std::string path = dir_.File(replica + ".yaml");
    testing::WriteFileOrDie(
        path, testing::LabCoordinatorYaml(
                  absl::StrCat(
                      "store:\n  type: etcd\n  etcd:\n", "    endpoints: [",
                      endpoints, "]\n", "    prefix: ", prefix_, "\n",
                      "ha:\n  lease_ttl: 2s\n  replica: ", replica, "\n",
                      "internal_ca_file: ", dir_.File("internal-ca.pem"), "\n"),
                  dir_.File("kek"), certs, pebble_, extra) +
                  cert_tail);
    return path;
  }

  std::unique_ptr<harness::ServerProcess> StartReplica(
      const std::string& replica, const std::vector<CertSpec>& certs,
      std::vector<std::pair<std::string, std::string>> env = {},
      const std::string& extra = "", const std::string& cert_tail = "",
      std::vector<std::string> via = {}) {
    absl::StatusOr<std::unique_ptr<harness::ServerProcess>> p =
        harness::ServerProcess::Start(
            {.name = replica,
             .argv = {CERTFLEET_COORDINATOR_BINARY, "serve", "--config",
                      Config(replica, certs, extra, cert_tail, via)},
             .extra_env = std::move(env),
             .log_path = dir_.File(replica + ".log")});
    EXPECT_OK(p.status());
    return p.ok() ? *std::move(p) : nullptr;
  }

  // The replica named by the leadership key ("" when none).
  std::string Leader() {
    absl::StatusOr<etcd::GetResult> got = client_->Get(
        prefix_ + "leader",
        Context::Background().WithDeadline(absl::Now() + absl::Seconds(5)));
    return got.ok() && got->kv.has_value() ? got->kv->value : "";
  }

  // Waits until `cert` has `n` versions.
  absl::Status WaitForVersions(const std::string& cert, size_t n,
                               absl::Duration timeout) {
    return testing::WaitFor(
        absl::StrCat(n, " stored versions of ", cert),
        [&] {
          absl::StatusOr<std::vector<store::VersionRecord>> v =
              store_->ListVersions(cert);
          return v.ok() && v->size() >= n;
        },
        timeout);
  }

  int PebbleOrders(const std::string& name) {
    LocalFilesystem fs;
    absl::StatusOr<crypto::Kek> kek =
        crypto::Kek::LoadOrCreate(dir_.File("kek"), fs);
    if (!kek.ok()) return -1;
    return testing::PebbleOrdersFor(*store_, *kek, name, pebble_);
  }

  std::string Logs(const std::vector<std::string>& replicas) {
    std::string out;
    for (const std::string& r : replicas) {
      absl::StrAppend(&out, "--- ", r, "\n",
                      testing::ReadFileOrDie(dir_.File(r + ".log")), "\n");
    }
    return out;
  }

  // Enrolls agent `name` (labels role=web, one target www) with a token of
  // the replica whose configuration is `config`, and runs it, listing
  // `coordinators` ("\"ip:port\"", in order); `extra`: more agent.yaml;
  // `reload`: the target's reload (and health) lines. The agent's directory
  // may exist already (a web server's placeholders in <name>/www).
  absl::StatusOr<std::unique_ptr<harness::ServerProcess>> StartAgent(
      const std::string& name, const std::vector<std::string>& coordinators,
      const std::string& extra, const std::string& config,
      const std::string& reload = "    reload: {command: [/bin/true]}\n") {
    const std::string dir = dir_.File(name);
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("mkdir ", dir));
    }
    testing::WriteFileOrDie(
        dir + "/agent.yaml",
        absl::StrCat("coordinators: [", absl::StrJoin(coordinators, ", "),
                     "]\ncoordinator_ca: ", dir_.File("internal-ca.pem"),
                     "\nidentity_dir: ", dir, "/identity\n", extra,
                     "targets:\n  - name: www\n    directory: ", dir,
                     "/www\n    files:\n",
                     "      - {path: fullchain.pem, format: fullchain}\n",
                     "      - {path: key.pem, format: key}\n", reload));
    ASSIGN_OR_RETURN(std::string token,
                     harness::RunTool({CERTFLEET_COORDINATOR_BINARY, "token",
                                       "create", "--config", config, "--labels",
                                       "role=web", "-o", "json"}));
    const size_t at = token.find("cft1.");
    if (at == std::string::npos) {
      return absl::InternalError(absl::StrCat("no token in: ", token));
    }
    testing::WriteFileOrDie(dir + "/token",
                            token.substr(at, token.find('"', at) - at), 0600);
    RETURN_IF_ERROR(
        harness::RunTool({CERTFLEET_AGENT_BINARY, "enroll", "--config",
                          dir + "/agent.yaml", "--token-file", dir + "/token"})
            .status());
    return harness::ServerProcess::Start(
        {.name = name,
         .argv = {CERTFLEET_AGENT_BINARY, "run", "--config",
                  dir + "/agent.yaml"},
         .log_path = dir + "/agent.log"});
  }

  // `certfleetctl renew certificate` sent to `replica`'s admin API on
  // `admin_port`, with an admin identity made from its configuration.
  absl::Status Renew(const std::string& replica,
                     const std::vector<CertSpec>& certs, int admin_port,
                     const std::string& certificate) {
    RETURN_IF_ERROR(
        harness::RunTool({CERTFLEET_COORDINATOR_BINARY, "admin-identity",
                          "create", "--config", Config(replica, certs),
                          "--name", "ops", "--out", dir_.File("ops.pem")})
            .status());
    return harness::RunTool({CERTFLEETCTL_BINARY, "--coordinator",
                             absl::StrCat("127.0.0.1:", admin_port),
                             "--identity", dir_.File("ops.pem"), "renew",
                             certificate})
        .status();
  }

  // Targets whose stored state says they serve `version_id`.
  int Installed(const std::string& version_id) {
    absl::StatusOr<std::vector<store::TargetStateRecord>> states =
        store_->ListAllTargetStates();
    int n = 0;
    if (states.ok()) {
      for (const auto& s : *states) n += s.installed_version_id == version_id;
    }
    return n;
  }

  // How many streams agent `name` (StartAgent) was welcomed on by the
  // coordinator at `address`, from its log.
  int Connections(const std::string& name, const std::string& address) {
    const std::string text =
        testing::ReadFileOrDie(dir_.File(name + "/agent.log"));
    const std::string needle =
        absl::StrCat("connected to coordinator ", address, " ");
    int n = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

  TempDir dir_{"ha"};
  // The CA the replicas use; null: the lab's.
  const harness::PebbleServer* pebble_ = nullptr;
  std::string prefix_;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<store::EtcdStore> store_;
};

}  // namespace certfleet::ha_testing

#endif  // CERTFLEET_TESTS_COORDINATOR_HA_FIXTURE_H_
