// The agents section and the certificates' target selectors: defaults,
// values, every rule with its exact message, and selectors of two
// certificates that could deliver to the same agent target.
#include <string>

#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "coordinator/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::config {
namespace {

using ::testing::ElementsAre;
using testing::ErrorOfText;
using testing::ErrorOfValidWith;
using ::testing::IsEmpty;
using testing::kValid;
using testing::MemoryFilesystem;
using testing::ParseText;
using testing::ValidWith;

absl::StatusOr<CoordinatorConfig> Parse(const std::string& text) {
  MemoryFilesystem fs;
  return ParseText(text, fs);
}

// kValid with `agents` appended as the agents section (from line 21).
std::string WithAgents(const std::string& agents) {
  return absl::StrCat(kValid, "agents:\n", agents);
}

TEST(ConfigAgentsTest, DefaultsWithoutTheSection) {
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c, Parse(kValid));
  EXPECT_EQ(c.agents.listen, "");
  EXPECT_THAT(c.agents.server_names, IsEmpty());
  EXPECT_EQ(c.agents.identity_ttl, absl::Hours(24 * 30));
  EXPECT_EQ(c.agents.default_token_ttl, absl::Hours(1));
  EXPECT_EQ(c.agents.stale_after, absl::Hours(1));
  EXPECT_THAT(c.warnings, IsEmpty());
  ASSERT_EQ(c.certificates.size(), 1u);
  EXPECT_THAT(c.certificates[0].targets, IsEmpty());
}

TEST(ConfigAgentsTest, ValuesAndTheDefaultServerName) {
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c,
                       Parse(WithAgents("  listen: 127.0.0.1:7443\n")));
  EXPECT_EQ(c.agents.listen, "127.0.0.1:7443");
  EXPECT_THAT(c.agents.server_names, ElementsAre("127.0.0.1"));

  ASSERT_OK_AND_ASSIGN(
      c, Parse(WithAgents("  listen: \"[::]:7443\"\n"
                          "  server_names: [Coordinator.Example.Test., "
                          "\"::1\", 192.0.2.7]\n"
                          "  identity_ttl: 12h\n"
                          "  token_ttl: 2h\n"
                          "  stale_after: 10m\n")));
  EXPECT_EQ(c.agents.listen, "[::]:7443");
  EXPECT_THAT(c.agents.server_names,
              ElementsAre("coordinator.example.test", "::1", "192.0.2.7"));
  EXPECT_EQ(c.agents.identity_ttl, absl::Hours(12));
  EXPECT_EQ(c.agents.default_token_ttl, absl::Hours(2));
  EXPECT_EQ(c.agents.stale_after, absl::Minutes(10));
  EXPECT_THAT(c.warnings, IsEmpty());
}

// identity_lifetime, the old name of identity_ttl, is still read, with a
// warning; both at once is an error.
TEST(ConfigAgentsTest, IdentityLifetimeIsTheDeprecatedNameOfIdentityTtl) {
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c,
                       Parse(WithAgents("  listen: 127.0.0.1:7443\n"
                                        "  identity_lifetime: 36h\n")));
  EXPECT_EQ(c.agents.identity_ttl, absl::Hours(36));
  EXPECT_THAT(c.warnings,
              ElementsAre("coordinator.yaml:23:22: agents.identity_lifetime: "
                          "deprecated: rename it identity_ttl"));
  EXPECT_EQ(ErrorOfText(WithAgents("  identity_ttl: 36h\n"
                                   "  identity_lifetime: 36h\n"),
                        {}),
            "coordinator.yaml:23:22: agents.identity_lifetime: set only "
            "identity_ttl (identity_lifetime is its old name)");
}

TEST(ConfigAgentsTest, AgentsSectionRules) {
  EXPECT_EQ(ErrorOfText(WithAgents("  listen: 0.0.0.0:7443\n"), {}),
            "coordinator.yaml:22:3: agents.server_names: required when listen "
            "is a wildcard address (0.0.0.0): list the IP addresses or DNS "
            "names agents dial");
  EXPECT_EQ(ErrorOfText(WithAgents("  server_names: [127.0.0.1]\n"), {}),
            "coordinator.yaml:22:17: agents.server_names: set agents.listen "
            "too: without it there is no agent service to name");
  EXPECT_EQ(ErrorOfText(WithAgents("  listen: 127.0.0.1:7443\n"
                                   "  server_names: [\"*.example.test\", "
                                   "0.0.0.0]\n"),
                        {}),
            "coordinator.yaml:23:18: agents.server_names[0]: "
            "\"*.example.test\": a server name cannot be a wildcard\n"
            "coordinator.yaml:23:36: agents.server_names[1]: \"0.0.0.0\" is a "
            "wildcard address; agents cannot dial it");
  EXPECT_EQ(ErrorOfText(WithAgents("  listen: 127.0.0.1:7443\n"
                                   "  identity_ttl: 5m\n"),
                        {}),
            "coordinator.yaml:23:17: agents.identity_ttl: 5m is shorter "
            "than the minimum, 10m");
  EXPECT_EQ(ErrorOfText(WithAgents("  listen: 127.0.0.1:7443\n"
                                   "  identity_lifetime: 5m\n"),
                        {}),
            "coordinator.yaml:23:22: agents.identity_lifetime: 5m is shorter "
            "than the minimum, 10m");
  EXPECT_EQ(ErrorOfText(WithAgents("  listen: 127.0.0.1:7443\n"
                                   "  stale_after: 30s\n"),
                        {}),
            "coordinator.yaml:23:16: agents.stale_after: 30s is shorter "
            "than the minimum, 1m");
  EXPECT_EQ(ErrorOfText(WithAgents("  listen: coordinator:7443\n"), {}),
            "coordinator.yaml:22:11: agents.listen: \"coordinator:7443\" is "
            "not an IP address and port: host names are not resolved, use an "
            "IP address");
  EXPECT_EQ(ErrorOfText(WithAgents("  token_ttl: 0s\n  listn: x\n"), {}),
            "coordinator.yaml:22:14: agents.token_ttl: must be positive, got "
            "\"0s\"\n"
            "coordinator.yaml:23:3: agents.listn: unknown field \"listn\"; did "
            "you mean \"listen\"?");
}

TEST(ConfigAgentsTest, TargetsAreRead) {
  ASSERT_OK_AND_ASSIGN(
      CoordinatorConfig c,
      Parse(ValidWith("    issuer: pebble\n",
                      "    issuer: pebble\n"
                      "    targets:\n"
                      "      - agents: {role: web, env: prod}\n"
                      "        target: nginx\n"
                      "      - target: haproxy.main\n")));
  ASSERT_EQ(c.certificates.size(), 1u);
  const auto& targets = c.certificates[0].targets;
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].agent_labels,
            (labels::Labels{{"env", "prod"}, {"role", "web"}}));
  EXPECT_EQ(targets[0].target, "nginx");
  EXPECT_THAT(targets[1].agent_labels, IsEmpty());
  EXPECT_EQ(targets[1].target, "haproxy.main");
}

// A selector without labels is valid but hands the private key to every
// enrolled host that declares the target: a warning with its position.
TEST(ConfigAgentsTest, SelectorForEveryAgentIsWarnedAbout) {
  ASSERT_OK_AND_ASSIGN(
      CoordinatorConfig c,
      Parse(ValidWith("    issuer: pebble\n",
                      "    issuer: pebble\n"
                      "    targets:\n"
                      "      - agents: {role: web, env: prod}\n"
                      "        target: nginx\n"
                      "      - target: haproxy.main\n")));
  EXPECT_THAT(
      c.warnings,
      ElementsAre("coordinator.yaml:24:9: certificates[0].targets[1]: target "
                  "\"haproxy.main\" is selected on every enrolled agent (no "
                  "`agents:` labels): any host that declares a target of that "
                  "name receives this certificate and its private key; name "
                  "the agents' labels to narrow it"));

  ASSERT_OK_AND_ASSIGN(
      c, Parse(ValidWith("    issuer: pebble\n",
                         "    issuer: pebble\n"
                         "    targets:\n"
                         "      - {agents: {role: web}, target: nginx}\n")));
  EXPECT_THAT(c.warnings, IsEmpty());
}

TEST(ConfigAgentsTest, TargetRules) {
  auto error = [](const std::string& targets) {
    return ErrorOfValidWith("    issuer: pebble\n",
                            "    issuer: pebble\n    targets:\n" + targets);
  };
  EXPECT_EQ(error("      - agents: {role: web}\n"),
            "coordinator.yaml:22:9: certificates[0].targets[0].target: "
            "required field is missing");
  EXPECT_EQ(error("      - target: \"my nginx\"\n"),
            "coordinator.yaml:22:17: certificates[0].targets[0].target: \"my "
            "nginx\" is not a valid target name (letters, digits, \".\", "
            "\"_\" and \"-\", starting with a letter or digit, at most 64 "
            "characters)");
  // The agents' own grammar: a selector that no agent can declare is an
  // error, not a selector that never matches.
  EXPECT_EQ(error("      - target: .nginx\n"),
            "coordinator.yaml:22:17: certificates[0].targets[0].target: "
            "\".nginx\" is not a valid target name (letters, digits, \".\", "
            "\"_\" and \"-\", starting with a letter or digit, at most 64 "
            "characters)");
  EXPECT_EQ(error("      - {agents: {role: }, target: nginx}\n"),
            "coordinator.yaml:22:19: certificates[0].targets[0].agents.role: "
            "a label value must not be empty");
  EXPECT_EQ(error("      - {agents: {-role: web}, target: nginx}\n"),
            "coordinator.yaml:22:26: certificates[0].targets[0].agents.-role: "
            "label key \"-role\" is not valid (1-63 letters, digits, \".\", "
            "\"_\", \"-\" and \"/\", starting with a letter or digit)");
  EXPECT_EQ(error("      - {agents: [role], target: nginx}\n"),
            "coordinator.yaml:22:18: certificates[0].targets[0].agents: "
            "expected a mapping of labels, got a list");
  EXPECT_EQ(error("      - {agents: {}, target: nginx, targets: x}\n"),
            "coordinator.yaml:22:37: certificates[0].targets[0].targets: "
            "unknown field \"targets\"; did you mean \"target\"?");
}

// kValid's certificate "www" selecting `www_selector`, and a second
// certificate "api" (from line 24) selecting `api_selector`.
std::string TwoCertificates(const std::string& www_selector,
                            const std::string& api_selector) {
  return ValidWith("    issuer: pebble\n",
                   absl::StrCat("    issuer: pebble\n"
                                "    targets:\n"
                                "      - ",
                                www_selector,
                                "\n"
                                "  - name: api\n"
                                "    names: [api.example.test]\n"
                                "    issuer: pebble\n"
                                "    targets:\n"
                                "      - ",
                                api_selector, "\n"));
}

TEST(ConfigAgentsTest, IdenticalSelectorsOfTwoCertificatesConflict) {
  EXPECT_EQ(ErrorOfText(TwoCertificates("{agents: {role: web}, target: nginx}",
                                        "{agents: {role: web}, target: nginx}"),
                        {}),
            "coordinator.yaml:27:9: certificates[1].targets[0]: target "
            "\"nginx\" on agents labelled role=web is also selected by "
            "certificate \"www\" (certificates[0].targets[0] at "
            "coordinator.yaml:22:9, agents labelled role=web); a target can "
            "receive only one certificate");
}

TEST(ConfigAgentsTest, SubsetSelectorsOfTwoCertificatesConflict) {
  EXPECT_EQ(
      ErrorOfText(TwoCertificates("{agents: {role: web}, target: nginx}",
                                  "{agents: {role: web, env: prod}, "
                                  "target: nginx}"),
                  {}),
      "coordinator.yaml:27:9: certificates[1].targets[0]: target \"nginx\" on "
      "agents labelled env=prod,role=web is also selected by certificate "
      "\"www\" (certificates[0].targets[0] at coordinator.yaml:22:9, agents "
      "labelled role=web); a target can receive only one certificate");
  // The empty selector (every agent) contains every other one.
  EXPECT_EQ(ErrorOfText(TwoCertificates("{agents: {role: web}, target: nginx}",
                                        "{target: nginx}"),
                        {}),
            "coordinator.yaml:27:9: certificates[1].targets[0]: target "
            "\"nginx\" on every agent is also selected by certificate \"www\" "
            "(certificates[0].targets[0] at coordinator.yaml:22:9, agents "
            "labelled role=web); a target can receive only one certificate");
}

TEST(ConfigAgentsTest, SelectorsThatCannotOverlapAreFine) {
  // Different targets, or labels that exclude each other.
  EXPECT_EQ(ErrorOfText(TwoCertificates("{agents: {role: web}, target: nginx}",
                                        "{agents: {role: web}, target: envoy}"),
                        {}),
            "OK");
  EXPECT_EQ(ErrorOfText(TwoCertificates("{agents: {role: web}, target: nginx}",
                                        "{agents: {role: api}, target: nginx}"),
                        {}),
            "OK");
  // Neither contains the other: an agent with both labels gets the first
  // certificate in file order (documented), so this is allowed.
  EXPECT_EQ(ErrorOfText(TwoCertificates("{agents: {role: web}, target: nginx}",
                                        "{agents: {env: prod}, target: nginx}"),
                        {}),
            "OK");
}

}  // namespace
}  // namespace certfleet::config
