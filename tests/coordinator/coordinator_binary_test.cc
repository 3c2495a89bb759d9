// certfleet-coordinator as operators run it, against the lab: killed with
// SIGKILL at every step of a real order it resumes the same order (Pebble
// sees one order); bad configuration exits 2 naming the field; an unsafe
// key-encryption key and an unreachable CA fail cleanly; /metrics serves;
// SIGTERM stops it; `token create` prints a fresh token and the CA file, and
// refuses bad labels with exit 2.
#include <curl/curl.h>
#include <signal.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/crypto/certificate.h"
#include "common/crypto/kek.h"
#include "common/process_runner.h"
#include "coordinator/acme/curl_transport.h"
#include "coordinator/issuance/issuer.h"
#include "coordinator/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/coordinator/lab_env.h"
#include "tests/harness/free_port.h"
#include "tests/harness/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

namespace certfleet {
namespace {

using ::certfleet::testing::SharedLab;
using ::certfleet::testing::TempDir;
using ::certfleet::testing::TxtValues;
using ::certfleet::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

ProcessResult RunCoordinator(
    std::vector<std::string> args,
    std::vector<std::pair<std::string, std::string>> env = {}) {
  SubprocessRunner runner;
  args.insert(args.begin(), CERTFLEET_COORDINATOR_BINARY);
  ProcessSpec spec{.argv = args, .env = env, .timeout = absl::Seconds(120)};
  auto r = runner.Run(spec, Context::Background());
  EXPECT_OK(r);
  return r.ok() ? *r : ProcessResult{};
}

using ::certfleet::testing::CertSpec;

// A configuration for the shared lab on SQLite, written into `dir`.
std::string WriteConfig(const TempDir& dir, const std::vector<CertSpec>& certs,
                        const std::string& directory_url = "",
                        const std::string& extra = "") {
  const std::string path = dir.File("coordinator.yaml");
  std::string yaml = testing::LabCoordinatorYaml(
      absl::StrCat("store:\n  path: ", dir.File("coordinator.db"), "\n"),
      dir.File("kek"), certs, nullptr, extra);
  if (!directory_url.empty()) {
    yaml = absl::StrReplaceAll(
        yaml, {{testing::SharedLab().pebble->directory_url(), directory_url}});
  }
  testing::WriteFileOrDie(path, yaml);
  return path;
}

std::unique_ptr<store::SqliteStore> OpenStore(const TempDir& dir) {
  auto s = store::SqliteStore::Open(dir.File("coordinator.db"));
  EXPECT_OK(s);
  return s.ok() ? std::move(*s) : nullptr;
}

// How many orders Pebble holds for `name` under the account in `dir`'s store.
int PebbleOrdersFor(const TempDir& dir, const std::string& name) {
  LocalFilesystem fs;
  auto kek = crypto::Kek::LoadOrCreate(dir.File("kek"), fs);
  auto store = OpenStore(dir);
  if (!kek.ok() || store == nullptr) return -1;
  return testing::PebbleOrdersFor(*store, *kek, name);
}

class CrashResumeTest : public ::testing::TestWithParam<const char*> {};

TEST_P(CrashResumeTest, KilledCoordinatorResumesTheSameOrder) {
  const std::string failpoint = GetParam();
  const std::string label = absl::StrReplaceAll(failpoint, {{".", "-"}});
  const std::string name = label + ".example.test";
  TempDir dir("crash");
  const std::string config = WriteConfig(dir, {{label, {name}}});

  ProcessResult killed = RunCoordinator({"serve", "--config", config, "--once"},
                                        {{"CERTFLEET_FAILPOINT", failpoint}});
  ASSERT_EQ(killed.term_signal, SIGKILL)
      << "expected to die at " << failpoint << "; " << killed.Describe() << "\n"
      << killed.stderr_data;

  std::string order_url;
  {
    auto store = OpenStore(dir);
    auto order = store->GetOrder(label);
    ASSERT_OK(order);
    if (failpoint == "order.stored") {
      EXPECT_FALSE(order->has_value());
    } else {
      ASSERT_TRUE(order->has_value()) << "no order persisted at " << failpoint;
      order_url = (*order)->order_url;
    }
  }

  ProcessResult resumed =
      RunCoordinator({"serve", "--config", config, "--once"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.stdout_data << resumed.stderr_data;
  if (!order_url.empty()) {
    EXPECT_THAT(resumed.stderr_data, HasSubstr("resuming order " + order_url));
  }

  auto store = OpenStore(dir);
  auto versions = store->ListVersions(label);
  ASSERT_OK(versions);
  ASSERT_EQ(versions->size(), 1u) << "exactly one version after the restart";
  if (!order_url.empty()) {
    EXPECT_EQ((*versions)[0].order_url, order_url);
  }
  EXPECT_EQ(*store->GetOrder(label), std::nullopt);
  EXPECT_EQ(PebbleOrdersFor(dir, name), 1) << "Pebble saw a second order";
  EXPECT_THAT(TxtValues(*SharedLab().bind, "_acme-challenge." + name + "."),
              IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    EveryStep, CrashResumeTest,
    ::testing::Values("order.persisted", "order.records-persisted",
                      "order.records-presented", "order.answered",
                      "order.key-stored", "order.finalized", "order.downloaded",
                      "order.stored"),
    [](const auto& info) {
      return absl::StrReplaceAll(info.param, {{".", "_"}, {"-", "_"}});
    });

// A CA that validates slowly (Pebble's VA sleeping 0–15 s, as it does by
// default) and a coordinator SIGKILLed again and again right after it
// answers — between the answers of a two-name order, and after both. A
// resumed order answers only what it has not answered and keeps its TXT
// records while the CA validates, so the 20 kills cost no second order.
TEST(CoordinatorSlowCaTest, TwentyKillsAfterAnsweringCostOneOrder) {
  absl::StatusOr<std::unique_ptr<harness::PebbleServer>> slow =
      harness::PebbleServer::Start(
          {.dns_server = SharedLab().bind->address(), .no_sleep = false});
  ASSERT_OK(slow);
  TempDir dir("slowca");
  const std::vector<std::string> names = {"a.slow.example.test",
                                          "b.slow.example.test"};
  const std::string path = dir.File("coordinator.yaml");
  testing::WriteFileOrDie(
      path,
      testing::LabCoordinatorYaml(
          absl::StrCat("store:\n  path: ", dir.File("coordinator.db"), "\n"),
          dir.File("kek"), {{"slow", names}}, slow->get()));

  for (int kill = 1; kill <= 20; ++kill) {
    SCOPED_TRACE(absl::StrCat("kill ", kill));
    ProcessResult killed = RunCoordinator(
        {"serve", "--config", path, "--once"},
        {{"CERTFLEET_FAILPOINT", "order.answer-sent,order.answered"}});
    ASSERT_EQ(killed.term_signal, SIGKILL) << killed.Describe() << "\n"
                                           << killed.stderr_data;
    if (kill > 1) {
      EXPECT_THAT(killed.stderr_data, Not(HasSubstr("placed order")));
    }
  }
  ProcessResult done = RunCoordinator({"serve", "--config", path, "--once"});
  ASSERT_EQ(done.exit_code, 0) << done.stderr_data;

  auto store = OpenStore(dir);
  ASSERT_NE(store, nullptr);
  auto versions = store->ListVersions("slow");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 1u);
  LocalFilesystem fs;
  auto kek = crypto::Kek::LoadOrCreate(dir.File("kek"), fs);
  ASSERT_OK(kek);
  EXPECT_EQ(testing::PebbleOrdersFor(*store, *kek, names[0], slow->get()), 1)
      << "the kills cost a second order";
  for (const std::string& name : names) {
    EXPECT_THAT(TxtValues(*SharedLab().bind, "_acme-challenge." + name + "."),
                IsEmpty());
  }
  // Each of the two challenges was answered once, whenever the CA finished
  // validating: Pebble logs every request it handles.
  const std::string log = testing::ReadFileOrDie((*slow)->log_path());
  int answers = 0;
  for (size_t at = log.find("POST /chalZ/"); at != std::string::npos;
       at = log.find("POST /chalZ/", at + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 2) << "a challenge was answered twice";
}

TEST(CoordinatorBinaryTest, MalformedConfigExitsTwoNamingTheField) {
  TempDir dir("badconfig");
  std::string config = WriteConfig(dir, {{"www", {"www.example.test"}}});
  std::string text = testing::ReadFileOrDie(config);
  text += "    key_type: ec521\n";
  testing::WriteFileOrDie(config, text);
  for (const char* command : {"check-config", "serve"}) {
    SCOPED_TRACE(command);
    ProcessResult r =
        std::string(command) == "check-config"
            ? RunCoordinator({"check-config", config})
            : RunCoordinator({"serve", "--config", config, "--once"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.stderr_data,
                HasSubstr("coordinator.yaml:31:15: certificates[0].key_type: "
                          "\"ec521\" is not one of ec256, ec384, rsa2048, "
                          "rsa3072, rsa4096"));
  }
  // Nothing was created for an invalid configuration.
  EXPECT_NE(access(dir.File("coordinator.db").c_str(), F_OK), 0);
}

TEST(CoordinatorBinaryTest, ValidConfigPassesCheckConfig) {
  TempDir dir("goodconfig");
  const std::string config = WriteConfig(dir, {{"www", {"www.example.test"}}});
  ProcessResult r = RunCoordinator({"check-config", config});
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data,
              HasSubstr("valid (1 issuers, 1 DNS providers, 1 certificates)"));
}

TEST(CoordinatorBinaryTest, CheckConfigWarnsOfACertificateForEveryAgent) {
  TempDir dir("everyagent");
  const std::string config = WriteConfig(dir, {{"www", {"www.example.test"}}});
  std::string text = testing::ReadFileOrDie(config);
  text += "    targets:\n      - target: nginx\n";
  testing::WriteFileOrDie(config, text);
  ProcessResult r = RunCoordinator({"check-config", config});
  // Still valid (exit 0), with the warning on stderr naming the field.
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stderr_data, HasSubstr("warning: " + config + ":"));
  EXPECT_THAT(r.stderr_data,
              HasSubstr(": certificates[0].targets[0]: target \"nginx\" is "
                        "selected on every enrolled agent"));
}

TEST(CoordinatorBinaryTest, KeyEncryptionKeyReadableByOthersIsRefused) {
  TempDir dir("kek");
  const std::string config = WriteConfig(dir, {{"www", {"www.example.test"}}});
  testing::WriteFileOrDie(dir.File("kek"), std::string(32, 'k'), 0644);
  ProcessResult r = RunCoordinator({"serve", "--config", config, "--once"});
  // Caught while loading the configuration: exit 2, naming file and mode.
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr(dir.File("kek")));
  EXPECT_THAT(r.stderr_data, HasSubstr("0644"));
}

TEST(CoordinatorBinaryTest, UnreachableCaFailsCleanlyAndBacksOff) {
  TempDir dir("deadca");
  const int port = *harness::PickFreePort();
  const std::string config =
      WriteConfig(dir, {{"www", {"www.example.test"}}},
                  absl::StrCat("https://127.0.0.1:", port, "/dir"));
  ProcessResult r = RunCoordinator({"serve", "--config", config, "--once"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_THAT(r.stdout_data, HasSubstr("FAILED   www"));
  EXPECT_THAT(r.stdout_data, HasSubstr(absl::StrCat("127.0.0.1:", port)));
  // The failure and the next attempt time are persisted...
  ProcessResult status =
      RunCoordinator({"status", "--config", config, "-o", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.stderr_data;
  auto json = nlohmann::json::parse(status.stdout_data);
  EXPECT_EQ(json["certificates"][0]["consecutive_failures"], 1);
  EXPECT_NE(json["certificates"][0]["next_attempt_at"], "-");
  // ...so a restart does not hammer the CA: the certificate waits.
  ProcessResult again = RunCoordinator({"serve", "--config", config, "--once"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.stdout_data, HasSubstr("0 issued, 0 failed"));
}

// Retention runs with every pass, --once included: versions expired for
// longer than retention.expired_versions go, the newest stays, and the
// deletion is audited.
TEST(CoordinatorBinaryTest, ServeOncePrunesLongExpiredVersions) {
  TempDir dir("retention");
  {
    std::unique_ptr<store::SqliteStore> s = OpenStore(dir);
    ASSERT_NE(s, nullptr);
    const absl::Time now = absl::Now();
    for (absl::Duration ago :
         {absl::Hours(24 * 60), absl::Hours(24 * 50), absl::Hours(24 * 40)}) {
      ASSERT_OK(s->AddVersion({.cert_name = "retired", .not_after = now - ago})
                    .status());
    }
    ASSERT_OK(s->AddVersion({.cert_name = "recent",
                             .not_after = now - absl::Hours(24 * 30)})
                  .status());
    ASSERT_OK(s->AddVersion(
                   {.cert_name = "recent", .not_after = now - absl::Hours(24)})
                  .status());
  }
  // No CA to reach: the pass fails its order, and prunes all the same.
  const std::string config = WriteConfig(
      dir, {{"www", {"www.example.test"}}},
      absl::StrCat("https://127.0.0.1:", *harness::PickFreePort(), "/dir"),
      "retention:\n  expired_versions: 45d\n");
  ProcessResult r = RunCoordinator({"serve", "--config", config, "--once"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.stderr_data,
              HasSubstr("retention: retired: deleted versions 1,2"));

  std::unique_ptr<store::SqliteStore> s = OpenStore(dir);
  ASSERT_NE(s, nullptr);
  auto numbers = [&](const std::string& cert) {
    std::vector<int64_t> out;
    auto versions = s->ListVersions(cert);
    EXPECT_OK(versions);
    if (versions.ok()) {
      for (const auto& v : *versions) out.push_back(v.version);
    }
    return out;
  };
  EXPECT_THAT(numbers("retired"), ::testing::ElementsAre(3));
  EXPECT_THAT(numbers("recent"), ::testing::ElementsAre(2, 1));
  auto audit = s->ListAudit({.certificate = "retired"});
  ASSERT_OK(audit);
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].action, "version.prune");
}

using ::certfleet::testing::HttpGet;

TEST(CoordinatorBinaryTest, ServeExposesMetricsAndStopsOnSigterm) {
  TempDir dir("serve");
  const int metrics_port = *harness::PickFreePort();
  const std::string config = WriteConfig(
      dir, {{"served", {"served.example.test"}}}, "",
      absl::StrCat("metrics:\n  listen: 127.0.0.1:", metrics_port, "\n"));
  auto server = harness::ServerProcess::Start(
      {.name = "certfleet-coordinator",
       .argv = {CERTFLEET_COORDINATOR_BINARY, "serve", "--config", config},
       .log_path = dir.File("coordinator.log")});
  ASSERT_OK(server);
  const std::string url =
      absl::StrCat("http://127.0.0.1:", metrics_port, "/metrics");
  std::string metrics;
  EXPECT_OK(WaitFor(
      "the issued certificate's expiry in /metrics",
      [&] {
        metrics = HttpGet(url);
        return absl::StrContains(
            metrics,
            "certfleet_certificate_not_after_timestamp_seconds{"
            "certificate=\"served\"}");
      },
      absl::Seconds(60)))
      << metrics << (*server)->LogTail();
  EXPECT_THAT(metrics, HasSubstr("certfleet_acme_requests_total{issuer="
                                 "\"pebble\",endpoint=\"new-order\","
                                 "status=\"201\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("certfleet_orders_total{issuer=\"pebble\",outcome="
                        "\"issued\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("certfleet_dns_propagation_seconds_count 1"));
  kill((*server)->pid(), SIGTERM);
  EXPECT_OK(WaitFor(
      "the coordinator to exit after SIGTERM",
      [&] { return !(*server)->Running(); }, absl::Seconds(5)))
      << (*server)->LogTail();
}

// A configuration without the lab: token create touches only the store and
// the key-encryption key.
std::string WriteOfflineConfig(const TempDir& dir) {
  const std::string path = dir.File("coordinator.yaml");
  testing::WriteFileOrDie(
      path, absl::StrCat("store:\n  path: ", dir.File("coordinator.db"), "\n",
                         "key_encryption_key_file: ", dir.File("kek"), "\n",
                         "dns:\n  resolvers: [127.0.0.1:5353]\n",
                         "agents:\n  token_ttl: 2h\n"));
  return path;
}

TEST(CoordinatorBinaryTest, TokenCreatePrintsAFreshTokenAndTheCaFile) {
  TempDir dir("token");
  const std::string config = WriteOfflineConfig(dir);
  ProcessResult first =
      RunCoordinator({"token", "create", "--config", config, "--labels",
                      "role=web,env=prod", "--description", "rack 7"});
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  const std::vector<std::string> lines =
      absl::StrSplit(first.stdout_data, '\n');
  ASSERT_GE(lines.size(), 4u) << first.stdout_data;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex(
                            "cft1\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}"));
  EXPECT_THAT(lines[1], ::testing::MatchesRegex("expires +[0-9T:-]+Z.*"));
  EXPECT_THAT(lines[2], ::testing::MatchesRegex("labels +env=prod,role=web"));
  const std::string ca_file = dir.File("internal-ca.pem");
  EXPECT_THAT(lines[3], HasSubstr(ca_file));
  const std::string ca_pem = testing::ReadFileOrDie(ca_file);
  auto ca = crypto::Certificate::FromPem(ca_pem);
  ASSERT_OK(ca);
  EXPECT_TRUE(ca->IsCa());

  ProcessResult second =
      RunCoordinator({"token", "create", "--config", config, "--labels",
                      "role=web", "--ttl", "30m", "-o", "json"});
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  auto json = nlohmann::json::parse(second.stdout_data);
  EXPECT_NE(json["token"].get<std::string>(), lines[0]);
  EXPECT_EQ(json["labels"], nlohmann::json({{"role", "web"}}));
  EXPECT_EQ(json["ca_file"], ca_file);
  // The CA was made once: the second run wrote the same certificate.
  EXPECT_EQ(testing::ReadFileOrDie(ca_file), ca_pem);

  // Both are stored, as hashes, with the asked lifetimes.
  auto store = OpenStore(dir);
  ASSERT_NE(store, nullptr);
  auto tokens = store->ListTokens();
  ASSERT_OK(tokens);
  ASSERT_EQ(tokens->size(), 2u);
  for (const store::TokenRecord& t : *tokens) {
    EXPECT_EQ(t.secret_hash.size(), 32u);
    EXPECT_FALSE(absl::StrContains(first.stdout_data, t.secret_hash));
    const absl::Duration ttl = t.expires_at - t.created_at;
    EXPECT_TRUE(ttl == absl::Hours(2) || ttl == absl::Minutes(30)) << ttl;
  }
}

TEST(CoordinatorBinaryTest, TokenCreateWithInvalidLabelsExitsTwo) {
  TempDir dir("token-bad");
  const std::string config = WriteOfflineConfig(dir);
  const std::pair<std::string, std::string> cases[] = {
      {"role", "--labels: \"role\" is not a label (write key=value)"},
      {"role=web,role=api", "--labels: label role is given twice"},
      {"role=we b", "--labels: label role: value \"we b\" is not valid"},
      {"", "--labels is required"},
  };
  for (const auto& [labels, message] : cases) {
    SCOPED_TRACE(labels);
    ProcessResult r = RunCoordinator(
        {"token", "create", "--config", config, "--labels", labels});
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_THAT(r.stderr_data, HasSubstr(message));
    EXPECT_THAT(r.stdout_data, IsEmpty());
  }
  ProcessResult ttl = RunCoordinator({"token", "create", "--config", config,
                                      "--labels", "role=web", "--ttl", "30"});
  EXPECT_EQ(ttl.exit_code, 2);
  EXPECT_THAT(ttl.stderr_data, HasSubstr("--ttl: \"30\" is not a duration"));
  // Nothing was created for a refused command.
  EXPECT_NE(access(dir.File("coordinator.db").c_str(), F_OK), 0);
  EXPECT_NE(access(dir.File("internal-ca.pem").c_str(), F_OK), 0);
}

// `token create --for-agent`: a token that re-enrolls an existing agent,
// with the agent's labels, audited; refused for an unknown or removed agent
// and with --labels.
TEST(CoordinatorBinaryTest, TokenCreateForAgentReenrollsItAndIsAudited) {
  TempDir dir("token-agent");
  const std::string config = WriteOfflineConfig(dir);
  {
    auto store = OpenStore(dir);
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->PutAgent({.id = "agt-0a1b2c3d4e5f",
                               .hostname = "web-1",
                               .labels = {{"role", "web"}, {"pool", "p1"}},
                               .identity_serial = "0a"}));
    ASSERT_OK(store->PutAgent(
        {.id = "agt-00000000dead", .status = store::AgentStatus::kRemoved}));
  }
  ProcessResult r =
      RunCoordinator({"token", "create", "--config", config, "--for-agent",
                      "agt-0a1b2c3d4e5f", "--ttl", "30m"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const std::vector<std::string> lines = absl::StrSplit(r.stdout_data, '\n');
  ASSERT_GE(lines.size(), 5u) << r.stdout_data;
  EXPECT_THAT(lines[2], ::testing::MatchesRegex("labels +pool=p1,role=web"));
  EXPECT_THAT(lines[3], HasSubstr("agent     agt-0a1b2c3d4e5f (re-enrolled"));
  auto store = OpenStore(dir);
  ASSERT_NE(store, nullptr);
  auto tokens = store->ListTokens();
  ASSERT_OK(tokens);
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].for_agent, "agt-0a1b2c3d4e5f");
  auto audit = store->ListAudit({});
  ASSERT_OK(audit);
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].actor, "local:token-command");
  EXPECT_EQ((*audit)[0].action, "token.create");
  EXPECT_EQ((*audit)[0].detail,
            absl::StrCat("re-enroll agent agt-0a1b2c3d4e5f, ttl 30m, token id ",
                         (*tokens)[0].id));

  r = RunCoordinator({"token", "create", "--config", config, "--for-agent",
                      "agt-00000000dead"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.stderr_data, HasSubstr("a removed agent is never re-enrolled"));
  r = RunCoordinator({"token", "create", "--config", config, "--for-agent",
                      "agt-000000000bad"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.stderr_data, HasSubstr("no agent agt-000000000bad"));
  r = RunCoordinator({"token", "create", "--config", config, "--for-agent",
                      "agt-0a1b2c3d4e5f", "--labels", "role=web"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_THAT(r.stderr_data,
              HasSubstr("--labels and --for-agent exclude each other"));
  EXPECT_EQ(store->ListTokens()->size(), 1u);
}

}  // namespace
}  // namespace certfleet
