// The programs the agent runs — a target's reload command and its command
// health checks — see the environment their configuration lists, plus PATH
// and the locale, and nothing else of the agent's (whose own environment
// may hold secrets for ${VAR} expansion). Real processes, configured
// through agent.yaml, run by a real install.
#include <stdlib.h>

#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/config/agent_config.h"
#include "agent/install/health_checker.h"
#include "agent/install/target_manager.h"
#include "common/process_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/agent_fakes.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent {
namespace {

using ::certfleet::testing::ReadFileOrDie;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Key;
using ::testing::Not;
using ::testing::Pair;

// `env` output (one NAME=value per line) as a map.
std::map<std::string, std::string> ParseEnvDump(const std::string& text) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const size_t eq = line.find('=');
    out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return out;
}

class CommandEnvironmentTest : public ::testing::Test {
 protected:
  CommandEnvironmentTest() {
    WriteFileOrDie(tmp_.File("ca.pem"), Ca().RootPem());
    // A secret the agent's own environment holds (as a systemd
    // EnvironmentFile would put it there for ${VAR} expansion).
    setenv("CERTFLEET_AGENT_TEST_SECRET", "must-not-leak", 1);
  }
  ~CommandEnvironmentTest() override {
    unsetenv("CERTFLEET_AGENT_TEST_SECRET");
  }

  static const crypto::testing::TestCa& Ca() {
    static const auto* ca =
        new crypto::testing::TestCa(crypto::testing::TestCa::Create());
    return *ca;
  }

  absl::StatusOr<AgentConfig> Parse(const std::string& yaml) {
    const std::string t = tmp_.path();
    return ParseAgentConfig(
        yaml, tmp_.File("agent.yaml"), fs_,
        [t](const std::string& name) -> std::optional<std::string> {
          if (name == "T") return t;
          if (name == "NGINX_API_KEY") return "given-by-name";
          return std::nullopt;
        });
  }

  TempDir tmp_{"agent-env"};
  LocalFilesystem fs_;
};

constexpr char kConfig[] = R"(coordinators: ["127.0.0.1:7443"]
coordinator_ca: ${T}/ca.pem
identity_dir: ${T}/identity
targets:
  - name: www
    directory: ${T}/www
    require_names: [www.example.test]
    files:
      - {path: key.pem, format: key}
      - {path: cert.pem, format: cert}
    reload:
      command: [/bin/sh, -c, 'env > "$DUMP"']
      environment:
        DUMP: ${T}/reload.env
        NGINX_API_KEY: ${NGINX_API_KEY}
        EMPTY:
    grace: 0s
    health:
      - command: [/bin/sh, -c, 'env > "$DUMP"']
        environment: {DUMP: "${T}/health.env"}
)";

TEST_F(CommandEnvironmentTest, ReloadAndHealthCommandsSeeOnlyWhatIsListed) {
  ASSERT_OK_AND_ASSIGN(AgentConfig config, Parse(kConfig));
  const TargetSpec& www = config.targets.at(0);
  EXPECT_THAT(
      www.reload_environment,
      ElementsAre(Pair("DUMP", tmp_.File("reload.env")),
                  Pair("NGINX_API_KEY", "given-by-name"), Pair("EMPTY", "")));
  EXPECT_THAT(www.health.at(0).environment,
              ElementsAre(Pair("DUMP", tmp_.File("health.env"))));

  SubprocessRunner runner;
  RealHealthChecker checker(runner);
  ::certfleet::testing::FakeClock clock(crypto::testing::kTestNow);
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<TargetManager> manager,
      TargetManager::Create(config, runner, clock, checker, nullptr));
  const InstallOutcome outcome = manager->Install(
      testing::MakeBundle(Ca(), "www", "www/1", "0a01"), Context::Background());
  ASSERT_TRUE(outcome.ok) << outcome.failed_step << ": " << outcome.error;

  const std::string path(getenv("PATH"));
  const auto reload = ParseEnvDump(ReadFileOrDie(tmp_.File("reload.env")));
  EXPECT_THAT(reload, Not(Contains(Key("CERTFLEET_AGENT_TEST_SECRET"))));
  EXPECT_THAT(reload, Not(Contains(Key("HOME"))));
  EXPECT_EQ(reload.at("NGINX_API_KEY"), "given-by-name");
  EXPECT_EQ(reload.at("EMPTY"), "");
  EXPECT_EQ(reload.at("PATH"), path);

  const auto health = ParseEnvDump(ReadFileOrDie(tmp_.File("health.env")));
  EXPECT_THAT(health, Not(Contains(Key("CERTFLEET_AGENT_TEST_SECRET"))));
  EXPECT_THAT(health, Not(Contains(Key("NGINX_API_KEY"))));
  EXPECT_EQ(health.at("CERTFLEET_EXPECTED_SERIAL"), "0a01");
  EXPECT_EQ(health.at("PATH"), path);
  // Only what the configuration names, the serial, PATH and the locale.
  for (const auto& [name, value] : health) {
    EXPECT_TRUE(name == "DUMP" || name == "CERTFLEET_EXPECTED_SERIAL" ||
                name == "PATH" || name == "PWD" || name == "SHLVL" ||
                name == "_" || name == "LANG" || name == "LANGUAGE" ||
                name.rfind("LC_", 0) == 0)
        << name << "=" << value;
  }
}

TEST_F(CommandEnvironmentTest, EnvironmentNamesAndPlacesAreChecked) {
  std::string text = kConfig;
  text.replace(text.find("        EMPTY:\n"), 15, "        BAD-NAME: x\n");
  EXPECT_THAT(Parse(text),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("targets[0].reload.environment.BAD-NAME: not "
                                 "a valid environment variable name")));
  text = kConfig;
  text.replace(text.find("        EMPTY:\n"), 15, "        DUMP: again\n");
  EXPECT_THAT(Parse(text),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("targets[0].reload.environment.DUMP: "
                                 "variable given twice")));
  text = kConfig;
  text.replace(text.find("      - command:"), 16,
               "      - tls: {address: \"127.0.0.1:8443\"}\n"
               "        environment: {A: b}\n"
               "      - command:");
  EXPECT_THAT(Parse(text),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("targets[0].health[0].environment: only for "
                                 "command checks")));
  text = kConfig;
  text.replace(text.find("environment: {DUMP"), 18, "environment: [DUMP");
  text.replace(text.find("health.env\"}"), 12, "health.env\"]");
  EXPECT_THAT(Parse(text),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("targets[0].health[0].environment: expected "
                                 "a mapping, got a list")));
}

}  // namespace
}  // namespace certfleet::agent
