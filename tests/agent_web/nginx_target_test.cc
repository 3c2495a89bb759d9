// The agent's install pipeline (TargetManager with RealHealthChecker,
// SubprocessRunner and SystemClock) against a real nginx 1.22 on loopback:
// an install reloads nginx, which then serves the new certificate; a reload
// that fails and a health check that fails both put the previous version
// back, and nginx serves it again; the install metrics count all of it.
//
// One nginx and one target directory per test suite (started once per
// process); each test gets its own TargetManager and metrics registry, and
// first installs a fresh "base" version, so tests neither depend on their
// order nor on each other's counters.
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agent/install/target_directory.h"
#include "agent/install/target_manager.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent_web/agent_web_support.h"
#include "tests/harness/nginx_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent::web_testing {
namespace {

using ::certfleet::harness::NginxServer;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

// The target's command check refuses serials starting with this, as a
// service-specific check (a smoke test, a monitoring probe) would refuse a
// certificate it does not like.
constexpr char kRefusedPrefix[] = "0bad";
constexpr char kRefuseScript[] =
    "case \"$CERTFLEET_EXPECTED_SERIAL\" in 0bad*) "
    "echo \"refusing serial $CERTFLEET_EXPECTED_SERIAL\" >&2; exit 1;; esac";

// What the suite shares: nginx serving target www's stable links, and the
// parsed agent.yaml with two targets:
//  - www: fullchain + key, nginx's reload command, checks tls + http
//    (/healthz on nginx's plain listener) + command (kRefuseScript);
//  - api: no service behind it, no reload, an http check expecting 204 from
//    nginx's /healthz (which answers 200).
struct NginxLab {
  // nginx serving placeholder files of www, then the parsed agent.yaml.
  static absl::StatusOr<std::unique_ptr<NginxLab>> Start();
  std::string address() const { return nginx->address(); }

  TempDir tmp{"agent-web-nginx"};
  std::string www_dir = tmp.File("www");
  std::string api_dir = tmp.File("api");
  std::unique_ptr<NginxServer> nginx;
  AgentConfig config;
};

std::string TargetsYaml(const NginxLab& lab) {
  const std::string healthz =
      absl::StrCat("http://127.0.0.1:", lab.nginx->http_port(), "/healthz");
  return absl::StrCat(
      "targets:\n"
      "  - name: www\n"
      "    directory: ",
      YamlString(lab.www_dir),
      "\n"
      "    require_names: [\"www.example.test\"]\n"
      "    files:\n"
      "      - {path: fullchain.pem, format: fullchain}\n"
      "      - {path: key.pem, format: key}\n"
      "    reload:\n"
      "      command: ",
      YamlList(lab.nginx->ReloadCommand()),
      "\n"
      "      timeout: 20s\n"
      // The first handshake with the new certificate comes ≈ 30–90 ms after
      // `nginx -s reload`, and the old worker accepts for ≈ 100 ms more
      // (nginx_server.h): past that, the first tls check usually passes
      // (it is retried every 250 ms anyway).
      "    grace: 250ms\n"
      "    health:\n"
      "      - tls: {address: ",
      YamlString(lab.nginx->address()),
      "}\n"
      "      - http: {url: ",
      YamlString(healthz),
      ", expect_status: 200}\n"
      "      - command: ",
      YamlList({"/bin/sh", "-c", kRefuseScript}),
      "\n"
      // A failing gate costs all of it.
      "    health_timeout: 2s\n"
      "    keep_versions: 2\n"
      "  - name: api\n"
      "    directory: ",
      YamlString(lab.api_dir),
      "\n"
      "    files:\n"
      "      - {path: fullchain.pem, format: fullchain}\n"
      "      - {path: key.pem, format: key}\n"
      "    grace: 0s\n"
      "    health:\n"
      "      - http: {url: ",
      YamlString(healthz),
      ", expect_status: 204}\n"
      "    health_timeout: 600ms\n");
}

absl::StatusOr<std::unique_ptr<NginxLab>> NginxLab::Start() {
  auto lab = std::make_unique<NginxLab>();
  std::filesystem::create_directories(lab->www_dir);
  // What nginx serves before the agent's first install: regular files
  // where the agent will put its stable links.
  WritePlaceholders(WwwBundle("www", "placeholder", "0a00"),
                    lab->www_dir + "/fullchain.pem", lab->www_dir + "/key.pem");
  ASSIGN_OR_RETURN(
      lab->nginx,
      NginxServer::Start({.cert_path = lab->www_dir + "/fullchain.pem",
                          .key_path = lab->www_dir + "/key.pem",
                          .http_port = -1}));
  ASSIGN_OR_RETURN(lab->config,
                   ParseConfig(AgentYaml(lab->tmp.path(), TargetsYaml(*lab)),
                               lab->tmp.path()));
  return lab;
}

class NginxTargetTest : public SharedLabTest<NginxLab> {
 protected:
  NginxTargetTest() : SharedLabTest("www") {}
  std::string Www(const std::string& rel) const {
    return lab_->www_dir + "/" + rel;
  }
  TargetStatus InventoryOf(const std::string& target) const {
    return agent_.Status(target);
  }

  // After a failed install: nginx, the files on disk, `current` and the
  // inventory are all back on `base`.
  void ExpectServing(const Bundle& base) {
    EXPECT_OK(WaitUntilServed(Address(), Serial(base)));
    absl::StatusOr<std::string> on_disk =
        MatchingSerial(Www("key.pem"), Www("fullchain.pem"));
    ASSERT_OK(on_disk.status());
    EXPECT_EQ(*on_disk, Serial(base));
    EXPECT_EQ(ReadLink(Www("current")), CurrentLinkFor(base.version_id));
    const TargetStatus status = InventoryOf("www");
    EXPECT_EQ(status.version_id, base.version_id);
    EXPECT_EQ(status.serial, Serial(base));
  }
};

TEST_F(NginxTargetTest, InstallReloadsNginxWhichServesTheNewCertificate) {
  Bundle base;
  ASSERT_NO_FATAL_FAILURE(InstallBase(&base));
  const Bundle next = NextBundle("www");
  ASSERT_NE(Serial(next), Serial(base));

  const InstallOutcome outcome = manager().Install(next, Deadline());

  ASSERT_TRUE(outcome.ok) << Describe(outcome);
  EXPECT_FALSE(outcome.rolled_back);
  EXPECT_OK(WaitUntilServed(Address(), Serial(next)));
  absl::StatusOr<std::string> on_disk =
      MatchingSerial(Www("key.pem"), Www("fullchain.pem"));
  ASSERT_OK(on_disk.status());
  EXPECT_EQ(*on_disk, Serial(next));
  // nginx reads the stable links, which go through `current`.
  EXPECT_EQ(ReadLink(Www("current")), CurrentLinkFor(next.version_id));
  EXPECT_EQ(ReadLink(Www("fullchain.pem")), "current/fullchain.pem");
  EXPECT_EQ(ReadLink(Www("key.pem")), "current/key.pem");
  struct stat key_stat;
  ASSERT_EQ(stat(Www("key.pem").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 07777, 0600u);
  // keep_versions: 2 = the serving one and the previous one.
  EXPECT_THAT(
      VersionDirs(lab_->www_dir),
      UnorderedElementsAre(TargetDirectory::VersionDirName(base.version_id),
                           TargetDirectory::VersionDirName(next.version_id)));
  const TargetStatus status = InventoryOf("www");
  EXPECT_EQ(status.version_id, next.version_id);
  EXPECT_EQ(status.serial, Serial(next));
  EXPECT_TRUE(status.healthy) << status.health_detail;
  EXPECT_OK(manager().CheckHealth("www", Deadline()));
}

TEST_F(NginxTargetTest, FailedReloadRollsBackAndNginxKeepsTheOldCertificate) {
  Bundle base;
  ASSERT_NO_FATAL_FAILURE(InstallBase(&base));
  // `nginx -s reload` parses the configuration first and exits 1 on it; the
  // running master keeps its configuration and certificate.
  ASSERT_OK(lab_->nginx->BreakConfig());
  const Bundle next = NextBundle("www");

  const InstallOutcome outcome = manager().Install(next, Deadline());
  ASSERT_OK(lab_->nginx->RestoreConfig());

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kReload);
  EXPECT_THAT(
      outcome.error,
      AllOf(HasSubstr(absl::StrCat("reload ",
                                   lab_->nginx->ReloadCommand().front(),
                                   ": exited with status 1; stderr: ")),
            HasSubstr("unknown directive \"certfleet_broken_directive\""),
            HasSubstr("rolled back to " + base.version_id),
            // The rollback's own reload meets the same broken configuration.
            HasSubstr("after the rollback, step reload failed too")));
  EXPECT_TRUE(outcome.rolled_back);
  ASSERT_NO_FATAL_FAILURE(ExpectServing(base));
  EXPECT_EQ(Metric("certfleet_agent_reloads_total{target=\"www\","
                   "result=\"failed\"}"),
            2);
  EXPECT_EQ(Metric("certfleet_agent_rollbacks_total{target=\"www\"}"), 1);
  EXPECT_EQ(Metric("certfleet_agent_health_failures_total{target=\"www\"}"),
            -1);
}

TEST_F(NginxTargetTest, FailedHealthCheckRollsBackAndNginxServesTheOldAgain) {
  Bundle base;
  ASSERT_NO_FATAL_FAILURE(InstallBase(&base));
  const Bundle refused = NextBundle("www", kRefusedPrefix);

  const InstallOutcome outcome = manager().Install(refused, Deadline());

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kHealth);
  EXPECT_THAT(outcome.error,
              AllOf(HasSubstr("command /bin/sh: exited with status 1: "
                              "refusing serial " +
                              Serial(refused)),
                    HasSubstr("attempts over"),
                    HasSubstr("rolled back to " + base.version_id),
                    Not(HasSubstr("after the rollback"))));
  EXPECT_TRUE(outcome.rolled_back);
  // nginx did load the refused certificate; the rollback reloaded it back.
  ASSERT_NO_FATAL_FAILURE(ExpectServing(base));
  EXPECT_TRUE(InventoryOf("www").healthy) << InventoryOf("www").health_detail;
  EXPECT_EQ(Metric("certfleet_agent_health_failures_total{target=\"www\"}"), 1);
  EXPECT_EQ(Metric("certfleet_agent_rollbacks_total{target=\"www\"}"), 1);
}

// The caller's context bounds the reload and the health checks, but the
// rollback runs under its own deadline: nginx, which had loaded the refused
// certificate, is reloaded back although the caller's deadline has passed.
TEST_F(NginxTargetTest, RollbackCompletesAfterTheCallersDeadlineExpired) {
  Bundle base;
  ASSERT_NO_FATAL_FAILURE(InstallBase(&base));
  const Bundle refused = NextBundle("www", kRefusedPrefix);
  // Well past the reload and the grace (250 ms), before the health gate's
  // own end (grace + health_timeout = 2.25 s).
  const Context ctx = Deadline(absl::Milliseconds(1500));

  const InstallOutcome outcome = manager().Install(refused, ctx);

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kHealth);
  EXPECT_THAT(outcome.error,
              AllOf(HasSubstr("rolled back to " + base.version_id),
                    Not(HasSubstr("after the rollback"))));
  EXPECT_TRUE(outcome.rolled_back);
  EXPECT_GT(absl::Now(), ctx.deadline());
  ASSERT_NO_FATAL_FAILURE(ExpectServing(base));
}

TEST_F(NginxTargetTest, HttpCheckWithTheWrongStatusRemovesTheFirstInstall) {
  const Bundle first = NextBundle("api");

  const InstallOutcome outcome = manager().Install(first, Deadline());

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kHealth);
  EXPECT_THAT(outcome.error,
              AllOf(HasSubstr(absl::StrCat(
                        "http http://127.0.0.1:", lab_->nginx->http_port(),
                        "/healthz: status 200, expected 204: ok")),
                    HasSubstr("no previous version to roll back to")));
  // Nothing to put back: `current` is gone, nothing is served.
  EXPECT_FALSE(outcome.rolled_back);
  EXPECT_EQ(ReadLink(lab_->api_dir + "/current"), "");
  const TargetStatus api = InventoryOf("api");
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.serial, "");
  EXPECT_FALSE(api.healthy);
  EXPECT_EQ(Metric("certfleet_agent_rollbacks_total{target=\"api\"}"), 1);
  EXPECT_EQ(Metric("certfleet_agent_rollbacks_total{target=\"www\"}"), -1);
}

// docs/agent.md (health checks): an https check verifies the certificate
// against the URL's host, and an IP literal is never among the names of
// certfleet's certificates, so such a check of the served certificate
// fails (and would roll every install back). This pins that documented
// limitation against a real server, and that the error says why (the chain
// verified: it is the host name that does not match).
TEST_F(NginxTargetTest, HttpsCheckByIpAddressFailsTheHostNameVerification) {
  Bundle base;
  ASSERT_NO_FATAL_FAILURE(InstallBase(&base));
  const HealthCheckSpec https{
      .kind = HealthCheckSpec::Kind::kHttp,
      .url = absl::StrCat("https://", Address(), "/healthz"),
      .expect_status = 200,
      // The test CA's root (AgentYaml wrote it there): the chain verifies.
      .ca_file = lab_->tmp.File("coordinator-ca.pem")};

  EXPECT_THAT(agent_.checker.Check(https, Serial(base), Deadline()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat(
                           "http ", https.url,
                           ": the server certificate does not name the "
                           "URL's host"))));
}

// The install metrics by target after a mix of outcomes, each counted once.
TEST_F(NginxTargetTest, MetricsCountInstallsReloadsAndRollbacksByTarget) {
  Bundle base;
  ASSERT_NO_FATAL_FAILURE(InstallBase(&base));  // reload ok, install ok
  const Bundle second = NextBundle("www");
  InstallOutcome outcome = manager().Install(second, Deadline());
  ASSERT_TRUE(outcome.ok) << Describe(outcome);  // reload ok, install ok
  // Serving already: nothing done, nothing counted.
  outcome = manager().Install(second, Deadline());
  ASSERT_TRUE(outcome.ok) << Describe(outcome);

  ASSERT_OK(lab_->nginx->BreakConfig());
  outcome = manager().Install(NextBundle("www"), Deadline());
  ASSERT_OK(lab_->nginx->RestoreConfig());
  // 2 reloads failed (install, rollback), 1 rollback, install rejected.
  ASSERT_EQ(outcome.failed_step, DeliveryStep::kReload) << Describe(outcome);

  outcome = manager().Install(NextBundle("www", kRefusedPrefix), Deadline());
  // 2 reloads ok (install, rollback), 1 rollback, 1 health failure, rejected.
  ASSERT_EQ(outcome.failed_step, DeliveryStep::kHealth) << Describe(outcome);

  Bundle mismatched = NextBundle("www");
  mismatched.leaf_pem = NextBundle("www").leaf_pem;  // another key's leaf
  outcome = manager().Install(mismatched, Deadline());
  // Refused before anything was touched: rejected, nothing else.
  ASSERT_EQ(outcome.failed_step, DeliveryStep::kVerify) << Describe(outcome);
  EXPECT_THAT(outcome.error, HasSubstr("key"));
  EXPECT_FALSE(outcome.rolled_back);

  ASSERT_NO_FATAL_FAILURE(ExpectServing(second));
  auto www = [](const std::string& name, const std::string& result) {
    return absl::StrCat(name, "{target=\"www\"",
                        result.empty() ? "" : ",result=\"" + result + "\"",
                        "}");
  };
  EXPECT_EQ(Metric(www("certfleet_agent_installs_total", "ok")), 2);
  EXPECT_EQ(Metric(www("certfleet_agent_installs_total", "rejected")), 3);
  EXPECT_EQ(Metric(www("certfleet_agent_reloads_total", "ok")), 4);
  EXPECT_EQ(Metric(www("certfleet_agent_reloads_total", "failed")), 2);
  EXPECT_EQ(Metric(www("certfleet_agent_rollbacks_total", "")), 2);
  EXPECT_EQ(Metric(www("certfleet_agent_health_failures_total", "")), 1);
  EXPECT_EQ(Metric(www("certfleet_agent_certificate_not_after_timestamp_"
                       "seconds",
                       "")),
            static_cast<double>(absl::ToUnixSeconds(second.not_after)));
  // The other target did nothing.
  EXPECT_EQ(Metric("certfleet_agent_installs_total{target=\"api\","
                   "result=\"ok\"}"),
            -1);
}

}  // namespace
}  // namespace certfleet::agent::web_testing
