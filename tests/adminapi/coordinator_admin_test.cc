// The admin path end to end with the real binaries: `certfleet-coordinator
// admin-identity create` writes a private identity file (and refuses to
// overwrite it or take a bad name), `certfleet-coordinator serve` with
// admin.listen serves the admin API, and certfleetctl talks to it: status,
// certificates, rollout status and actions without a rollout (and their
// audit records), and an agent enrolled with the real certfleet-agent.
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/certificate.h"
#include "common/process_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/free_port.h"
#include "tests/harness/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet {
namespace {

using ::testing::HasSubstr;

ProcessResult RunProgram(std::vector<std::string> argv) {
  SubprocessRunner runner;
  absl::StatusOr<ProcessResult> r =
      runner.Run({.argv = std::move(argv), .timeout = absl::Seconds(60)},
                 Context::Background());
  EXPECT_OK(r);
  return r.ok() ? *r : ProcessResult{};
}

// A coordinator whose only issuer cannot be reached (nothing is issued;
// the admin API does not need it); an agent service on `agent_port` unless
// it is 0.
std::string WriteConfig(const testing::TempDir& dir, int admin_port,
                        int agent_port = 0) {
  const std::string path = dir.File("coordinator.yaml");
  testing::WriteFileOrDie(
      path, absl::StrCat("store:\n  path: ", dir.File("coordinator.db"), "\n",
                         "key_encryption_key_file: ", dir.File("kek"), "\n",
                         "dns:\n  resolvers: [127.0.0.1:9]\n",
                         "scheduler:\n  retry_initial: 10m\n",
                         "issuers:\n  - name: nowhere\n",
                         "    directory: https://127.0.0.1:9/dir\n",
                         "dns_providers:\n  - name: lab\n    type: rfc2136\n",
                         "    zones: [example.test]\n",
                         "    rfc2136:\n      server: 127.0.0.1:9\n",
                         "      tsig_key_name: k\n",
                         "      tsig_secret: c2VjcmV0LXNlY3JldA==\n",
                         "certificates:\n  - name: www\n",
                         "    names: [www.example.test]\n    issuer: nowhere\n",
                         "admin:\n  listen: 127.0.0.1:", admin_port, "\n",
                         agent_port == 0
                             ? ""
                             : absl::StrCat("agents:\n  listen: 127.0.0.1:",
                                            agent_port, "\n")));
  return path;
}

// `certfleet-coordinator serve --config CONFIG`, once its admin port
// accepts connections.
absl::StatusOr<std::unique_ptr<harness::ServerProcess>> StartServe(
    const testing::TempDir& dir, const std::string& config, int admin_port) {
  absl::StatusOr<std::unique_ptr<harness::ServerProcess>> serve =
      harness::ServerProcess::Start(
          {.name = "certfleet-coordinator",
           .argv = {CERTFLEET_COORDINATOR_BINARY, "serve", "--config", config},
           .log_path = dir.File("serve.log")});
  if (!serve.ok()) return serve.status();
  if (absl::Status s =
          harness::WaitForTcpPort(admin_port, absl::Seconds(20), serve->get());
      !s.ok()) {
    return s;
  }
  return serve;
}

TEST(CoordinatorAdminTest, IdentityFileThenCtlAgainstServe) {
  testing::TempDir dir("coordadmin");
  ASSERT_OK_AND_ASSIGN(int port, harness::PickFreePort());
  const std::string config = WriteConfig(dir, port);
  const std::string identity = dir.File("alice.pem");

  ProcessResult r = RunProgram({CERTFLEET_COORDINATOR_BINARY, "admin-identity",
                                "create", "--config", config, "--name", "alice",
                                "--ttl", "2h", "--out", identity});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  EXPECT_THAT(
      r.stdout_data,
      HasSubstr(absl::StrCat("admin identity alice written to ", identity)));
  struct stat st;
  ASSERT_EQ(stat(identity.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_OK_AND_ASSIGN(
      std::vector<crypto::Certificate> certs,
      crypto::Certificate::ParsePemChain(testing::ReadFileOrDie(identity)));
  ASSERT_EQ(certs.size(), 2u);  // the identity, then the internal CA
  EXPECT_EQ(certs[0].UriNames(),
            std::vector<std::string>{"spiffe://certfleet/admin/alice"});
  EXPECT_LE(certs[0].NotAfter(), absl::Now() + absl::Hours(2));
  EXPECT_TRUE(certs[1].IsCa());

  // Never overwritten; a bad name is a usage error.
  r = RunProgram({CERTFLEET_COORDINATOR_BINARY, "admin-identity", "create",
                  "--config", config, "--name", "alice", "--out", identity});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data, HasSubstr("already exists"));
  r = RunProgram({CERTFLEET_COORDINATOR_BINARY, "admin-identity", "create",
                  "--config", config, "--name", "Alice!", "--out",
                  dir.File("x.pem")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("is not a valid admin name"));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<harness::ServerProcess> serve,
                       StartServe(dir, config, port));
  const std::string address = absl::StrCat("127.0.0.1:", port);
  r = RunProgram({CERTFLEETCTL_BINARY, "--coordinator", address, "--identity",
                  identity, "status"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data << serve->LogTail();
  EXPECT_THAT(r.stdout_data, HasSubstr("admin alice"));
  EXPECT_THAT(r.stdout_data, HasSubstr("1 configured, 0 issued"));
  EXPECT_THAT(r.stdout_data, HasSubstr("no agent service"));
  r = RunProgram({CERTFLEETCTL_BINARY, "--coordinator", address, "--identity",
                  identity, "certs", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("www "));
}

// The first line of `text` that contains `part`; "" when none does.
std::string LineWith(const std::string& text, const std::string& part) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, part)) return std::string(line);
  }
  return "";
}

TEST(CoordinatorAdminTest, RolloutCommandsAuditAndAgentsAgainstServe) {
  testing::TempDir dir("coordrollout");
  ASSERT_OK_AND_ASSIGN(int port, harness::PickFreePort());
  ASSERT_OK_AND_ASSIGN(int agent_port, harness::PickFreePort());
  const std::string config = WriteConfig(dir, port, agent_port);
  const std::string identity = dir.File("alice.pem");
  ProcessResult r =
      RunProgram({CERTFLEET_COORDINATOR_BINARY, "admin-identity", "create",
                  "--config", config, "--name", "alice", "--out", identity});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<harness::ServerProcess> serve,
                       StartServe(dir, config, port));
  ASSERT_OK(
      harness::WaitForTcpPort(agent_port, absl::Seconds(20), serve.get()));
  const std::string address = absl::StrCat("127.0.0.1:", port);
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {CERTFLEETCTL_BINARY, "--coordinator", address,
                               "--identity", identity});
    return RunProgram(std::move(args));
  };

  // www never had a rollout: NOT_FOUND, exit 1 — also when watching.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"rollout", "status", "www"},
        std::vector<std::string>{"rollout", "status", "www", "--watch",
                                 "--interval", "100ms"}}) {
    r = ctl(args);
    EXPECT_EQ(r.exit_code, 1) << r.Describe() << r.stderr_data;
    EXPECT_EQ(r.stderr_data, absl::StrCat("certfleetctl: coordinator ", address,
                                          ": GetRollout: no rollout of www\n"));
    EXPECT_EQ(r.stdout_data, "");
  }
  // Nothing to pause: FAILED_PRECONDITION, exit 1, and audited as refused.
  r = ctl({"rollout", "pause", "www"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.stderr_data,
            absl::StrCat("certfleetctl: coordinator ", address,
                         ": PauseRollout: no rollout of www is in progress\n"));
  r = ctl({"audit"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const std::string pause = LineWith(r.stdout_data, "rollout.pause");
  EXPECT_THAT(pause, HasSubstr("admin:alice  rollout.pause  www"));
  EXPECT_THAT(pause, HasSubstr("FAILED_PRECONDITION: no rollout of www is in "
                               "progress"));

  // An agent enrolled with the real agent binary (not running).
  r = ctl({"token", "create", "--labels", "role=web"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const std::string token = r.stdout_data.substr(0, r.stdout_data.find('\n'));
  const std::string agent_config = dir.File("agent.yaml");
  testing::WriteFileOrDie(
      agent_config,
      absl::StrCat("coordinators: [\"127.0.0.1:", agent_port, "\"]\n",
                   "coordinator_ca: ", dir.File("internal-ca.pem"), "\n",
                   "identity_dir: ", dir.File("agent-identity"), "\n"));
  testing::WriteFileOrDie(dir.File("token"), token, 0600);
  r = RunProgram({CERTFLEET_AGENT_BINARY, "enroll", "--config", agent_config,
                  "--token-file", dir.File("token")});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  r = ctl({"agents", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const std::vector<std::string> lines = absl::StrSplit(r.stdout_data, '\n');
  ASSERT_GE(lines.size(), 2u) << r.stdout_data;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex(
                            "AGENT +HOSTNAME +STATE +LABELS +LAST SEEN .*"));
  EXPECT_THAT(lines[1], ::testing::MatchesRegex("agt-[0-9a-f]{12} .*"));
  EXPECT_THAT(lines[1], HasSubstr("role=web"));
  // Enrolled, never connected: the coordinator says so.
  EXPECT_EQ(lines[1].substr(lines[0].find("STATE"), 13), "disconnected ")
      << r.stdout_data;
  r = ctl({"-o", "json", "agents", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("\"connected\": false"));
}

}  // namespace
}  // namespace certfleet
