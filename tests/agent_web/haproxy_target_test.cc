// The agent's install pipeline against a real HAProxy 2.6 on loopback: a
// target with one `combined` file (leaf + chain + key, HAProxy's crt file),
// reloaded with the harness's reload script (haproxy -c, SIGUSR2 to the
// master, wait for its verdict), checked over TLS.
//
// One HAProxy and one target directory per test suite; each test gets its
// own TargetManager and metrics registry and first installs a fresh "base"
// version, so the tests run in any order.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent_web/agent_web_support.h"
#include "tests/harness/haproxy_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent::web_testing {
namespace {

using ::certfleet::harness::HaproxyServer;
using ::certfleet::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

// HAProxy serving target lb's stable link, and the parsed agent.yaml.
struct HaproxyLab {
  // HAProxy serving a placeholder combined file, then the parsed agent.yaml.
  static absl::StatusOr<std::unique_ptr<HaproxyLab>> Start();
  std::string address() const { return haproxy->address(); }

  TempDir tmp{"agent-web-haproxy"};
  std::string lb_dir = tmp.File("lb");
  std::unique_ptr<HaproxyServer> haproxy;
  AgentConfig config;
};

std::string TargetsYaml(const HaproxyLab& lab) {
  return absl::StrCat(
      "targets:\n"
      "  - name: lb\n"
      "    directory: ",
      YamlString(lab.lb_dir),
      "\n"
      "    require_names: [\"www.example.test\"]\n"
      "    files:\n"
      "      - {path: www.pem, format: combined}\n"
      "    reload:\n"
      "      command: ",
      YamlList(lab.haproxy->ReloadCommand()),
      "\n"
      "      timeout: 20s\n"
      // The reload script returns once the new worker serves.
      "    grace: 0s\n"
      "    health:\n"
      "      - tls: {address: ",
      YamlString(lab.haproxy->address()),
      "}\n"
      "    health_timeout: 5s\n"
      "    keep_versions: 2\n");
}

absl::StatusOr<std::unique_ptr<HaproxyLab>> HaproxyLab::Start() {
  auto lab = std::make_unique<HaproxyLab>();
  std::filesystem::create_directories(lab->lb_dir);
  WriteCombinedPlaceholder(WwwBundle("lb", "placeholder", "0a00"),
                           lab->lb_dir + "/www.pem");
  ASSIGN_OR_RETURN(
      lab->haproxy,
      HaproxyServer::Start({.combined_pem_path = lab->lb_dir + "/www.pem"}));
  ASSIGN_OR_RETURN(lab->config,
                   ParseConfig(AgentYaml(lab->tmp.path(), TargetsYaml(*lab)),
                               lab->tmp.path()));
  return lab;
}

class HaproxyTargetTest : public SharedLabTest<HaproxyLab> {
 protected:
  HaproxyTargetTest() : SharedLabTest("lb") {}
  std::string Combined() const { return lab_->lb_dir + "/www.pem"; }
};

TEST_F(HaproxyTargetTest, InstallReloadsHaproxyWhichServesTheNewCombinedFile) {
  Bundle base;
  ASSERT_NO_FATAL_FAILURE(InstallBase(&base));
  const pid_t master = lab_->haproxy->pid();
  const Bundle next = NextBundle("lb");

  const InstallOutcome outcome = manager().Install(next, Deadline());

  ASSERT_TRUE(outcome.ok) << Describe(outcome);
  // The health gate already saw it; HAProxy's switch is clean, so every
  // later handshake gets it too.
  EXPECT_OK(WaitUntilServed(Address(), Serial(next), absl::Seconds(1)));
  // One file holding the leaf, its chain and the matching key.
  absl::StatusOr<std::string> on_disk = MatchingSerial(Combined(), Combined());
  ASSERT_OK(on_disk.status());
  EXPECT_EQ(*on_disk, Serial(next));
  absl::StatusOr<std::vector<crypto::Certificate>> chain =
      crypto::Certificate::ParsePemChain(
          ::certfleet::testing::ReadFileOrDie(Combined()));
  ASSERT_OK(chain.status());
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[1].ToDer(), Ca().intermediate().ToDer());
  EXPECT_EQ(ReadLink(Combined()), "current/www.pem");
  EXPECT_EQ(ReadLink(lab_->lb_dir + "/current"),
            CurrentLinkFor(next.version_id));
  // A reload, not a restart: the same master, still running.
  EXPECT_EQ(lab_->haproxy->pid(), master);
  EXPECT_TRUE(lab_->haproxy->process()->Running());
  EXPECT_EQ(Metric("certfleet_agent_reloads_total{target=\"lb\","
                   "result=\"ok\"}"),
            2);
  EXPECT_EQ(Metric("certfleet_agent_installs_total{target=\"lb\","
                   "result=\"ok\"}"),
            2);
}

TEST_F(HaproxyTargetTest, FailedReloadScriptRollsBackAndOldCertificateStays) {
  Bundle base;
  ASSERT_NO_FATAL_FAILURE(InstallBase(&base));
  ASSERT_OK(lab_->haproxy->BreakConfig());
  const Bundle next = NextBundle("lb");

  const InstallOutcome outcome = manager().Install(next, Deadline());
  ASSERT_OK(lab_->haproxy->RestoreConfig());

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kReload);
  EXPECT_THAT(outcome.error,
              AllOf(HasSubstr(absl::StrCat(
                        "reload ", lab_->haproxy->ReloadCommand().front(),
                        ": exited with status 1; stderr: ")),
                    HasSubstr("certfleet_broken_keyword"),
                    HasSubstr("rolled back to " + base.version_id)));
  EXPECT_TRUE(outcome.rolled_back);
  EXPECT_OK(WaitUntilServed(Address(), Serial(base)));
  absl::StatusOr<std::string> on_disk = MatchingSerial(Combined(), Combined());
  ASSERT_OK(on_disk.status());
  EXPECT_EQ(*on_disk, Serial(base));
  EXPECT_EQ(ReadLink(lab_->lb_dir + "/current"),
            CurrentLinkFor(base.version_id));
  EXPECT_EQ(Metric("certfleet_agent_rollbacks_total{target=\"lb\"}"), 1);
  EXPECT_EQ(Metric("certfleet_agent_installs_total{target=\"lb\","
                   "result=\"rejected\"}"),
            1);
  // The master survived both failed reloads and takes the next one.
  const Bundle after = NextBundle("lb");
  const InstallOutcome again = manager().Install(after, Deadline());
  ASSERT_TRUE(again.ok) << Describe(again);
  EXPECT_OK(WaitUntilServed(Address(), Serial(after)));
}

}  // namespace
}  // namespace certfleet::agent::web_testing
