// certfleetctl's argument parsing (every rule, with its message) and the
// admin section of coordinator.yaml.
#include "ctl/ctl_args.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctl/admin_client.h"
#include "ctl/ctl_run.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::ctl {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const EnvLookup kFullEnv = Env({{"CERTFLEET_COORDINATOR", "127.0.0.1:7444"},
                                {"CERTFLEET_IDENTITY", "/id.pem"}});

TEST(CtlArgsTest, CommandsAndGlobalFlagsAnywhere) {
  ASSERT_OK_AND_ASSIGN(
      CtlArgs a,
      ParseCtlArgs({"certs", "show", "web", "-o", "json"}, kFullEnv));
  EXPECT_EQ(a.command, Command::kCertsShow);
  EXPECT_EQ(a.name, "web");
  EXPECT_TRUE(a.json);
  EXPECT_EQ(a.coordinator, "127.0.0.1:7444");
  EXPECT_EQ(a.identity, "/id.pem");

  ASSERT_OK_AND_ASSIGN(
      a, ParseCtlArgs({"--coordinator=10.0.0.1:1", "--identity", "/x.pem",
                       "versions", "api", "--timeout", "3s"},
                      kFullEnv));
  EXPECT_EQ(a.command, Command::kVersions);
  EXPECT_EQ(a.coordinator, "10.0.0.1:1");
  EXPECT_EQ(a.identity, "/x.pem");
  EXPECT_EQ(a.timeout, absl::Seconds(3));

  ASSERT_OK_AND_ASSIGN(
      a, ParseCtlArgs({"token", "create", "--labels", "role=web,pool=a",
                       "--ttl", "2h", "--description", "rack 7"},
                      kFullEnv));
  EXPECT_EQ(a.command, Command::kTokenCreate);
  EXPECT_EQ(a.labels.at("pool"), "a");
  EXPECT_EQ(a.ttl, absl::Hours(2));
  EXPECT_EQ(a.description, "rack 7");

  // help and version need no coordinator.
  ASSERT_OK_AND_ASSIGN(a, ParseCtlArgs({"help"}, Env({})));
  EXPECT_EQ(a.command, Command::kHelp);
}

TEST(CtlArgsTest, ProblemsAreNamed) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "no command given"},
      {{"frob"}, "unknown command \"frob\""},
      {{"certs"}, "certs: which subcommand? (list, show)"},
      {{"agents", "kill"}, "agents: unknown subcommand \"kill\""},
      {{"certs", "show"}, "certs show: which certificate?"},
      {{"agents", "show"}, "agents show: which agent id?"},
      {{"versions"}, "versions: which certificate?"},
      {{"status", "now"}, "unexpected argument \"now\" after \"status\""},
      {{"-o", "yaml", "status"}, "-o: \"yaml\" is not one of table, json"},
      {{"status", "--frob"}, "unknown flag \"--frob\""},
      {{"status", "--timeout"}, "--timeout needs a value"},
      {{"status", "--timeout", "0s"}, "--timeout: must be positive"},
      {{"status", "--labels", "a=b"}, "belong to `token create`"},
      {{"token", "create"}, "--labels is required"},
      {{"token", "create", "--labels", "x"}, "--labels"},
  };
  for (const auto& [args, message] : cases) {
    EXPECT_THAT(
        ParseCtlArgs(args, kFullEnv),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << absl::StrJoin(args, " ");
  }
  EXPECT_THAT(ParseCtlArgs({"status"}, Env({{"CERTFLEET_IDENTITY", "/i"}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no coordinator given")));
  EXPECT_THAT(ParseCtlArgs({"status"}, Env({{"CERTFLEET_COORDINATOR", "h:1"}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no admin identity given")));
}

TEST(CtlArgsTest, AgentActionsRolloutSkipAndReenrollmentTokens) {
  ASSERT_OK_AND_ASSIGN(CtlArgs a,
                       ParseCtlArgs({"agents", "disable", "agt-000000000001",
                                     "--reason", "ticket 9"},
                                    kFullEnv));
  EXPECT_EQ(a.command, Command::kAgentsDisable);
  EXPECT_EQ(a.name, "agt-000000000001");
  EXPECT_EQ(a.reason, "ticket 9");
  ASSERT_OK_AND_ASSIGN(a,
                       ParseCtlArgs({"agents", "enable", "agt-1"}, kFullEnv));
  EXPECT_EQ(a.command, Command::kAgentsEnable);
  ASSERT_OK_AND_ASSIGN(a,
                       ParseCtlArgs({"agents", "remove", "agt-1"}, kFullEnv));
  EXPECT_EQ(a.command, Command::kAgentsRemove);
  EXPECT_EQ(a.reason, "");
  ASSERT_OK_AND_ASSIGN(a, ParseCtlArgs({"agents", "relabel", "agt-1",
                                        "role=web,pool=p2", "-o", "json"},
                                       kFullEnv));
  EXPECT_EQ(a.command, Command::kAgentsRelabel);
  EXPECT_EQ(a.name, "agt-1");
  EXPECT_EQ(a.labels, (std::map<std::string, std::string>{{"pool", "p2"},
                                                          {"role", "web"}}));
  ASSERT_OK_AND_ASSIGN(
      a, ParseCtlArgs({"rollout", "skip", "web", "agt-1"}, kFullEnv));
  EXPECT_EQ(a.command, Command::kRolloutSkip);
  EXPECT_EQ(a.name, "web");
  EXPECT_EQ(a.agent, "agt-1");
  ASSERT_OK_AND_ASSIGN(a, ParseCtlArgs({"token", "create", "--for-agent",
                                        "agt-1", "--ttl", "30m"},
                                       kFullEnv));
  EXPECT_EQ(a.command, Command::kTokenCreate);
  EXPECT_EQ(a.for_agent, "agt-1");
  EXPECT_TRUE(a.labels.empty());

  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"agents", "disable"}, "agents disable: which agent id?"},
      {{"agents", "relabel", "agt-1"}, "agents relabel: which labels?"},
      {{"agents", "relabel", "agt-1", "role=x y"},
       "agents relabel: label role"},
      {{"agents", "relabel", "agt-1", "a=b", "c=d"}, "unexpected argument"},
      {{"agents", "enable", "agt-1", "--reason", "x"},
       "--reason belongs to `agents disable` and `agents remove`"},
      {{"rollout", "skip", "web"}, "rollout skip: which agent?"},
      {{"rollout", "frob", "web"},
       "rollout: unknown subcommand \"frob\" (status, pause, resume, abort, "
       "skip)"},
      {{"agents"},
       "agents: which subcommand? (list, show, disable, enable, remove, "
       "relabel)"},
      {{"token", "create", "--for-agent", "agt-1", "--labels", "a=b"},
       "--labels and --for-agent exclude each other"},
      {{"status", "--for-agent", "agt-1"}, "belong to `token create`"},
  };
  for (const auto& [args, message] : cases) {
    EXPECT_THAT(
        ParseCtlArgs(args, kFullEnv),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << absl::StrJoin(args, " ");
  }
}

TEST(CtlArgsTest, RenewAndAudit) {
  ASSERT_OK_AND_ASSIGN(CtlArgs a, ParseCtlArgs({"renew", "web"}, kFullEnv));
  EXPECT_EQ(a.command, Command::kRenew);
  EXPECT_EQ(a.name, "web");

  ASSERT_OK_AND_ASSIGN(a, ParseCtlArgs({"audit"}, kFullEnv));
  EXPECT_EQ(a.command, Command::kAudit);
  EXPECT_FALSE(a.since_time.has_value());
  EXPECT_FALSE(a.since_ago.has_value());
  EXPECT_EQ(a.limit, 0);

  ASSERT_OK_AND_ASSIGN(a, ParseCtlArgs({"audit", "--since", "24h", "--cert",
                                        "web", "--limit=5", "-o", "json"},
                                       kFullEnv));
  EXPECT_EQ(a.since_ago, absl::Hours(24));
  EXPECT_EQ(a.cert, "web");
  EXPECT_EQ(a.limit, 5);
  EXPECT_TRUE(a.json);
  ASSERT_OK_AND_ASSIGN(
      a, ParseCtlArgs({"audit", "--since", "2025-03-01T12:00:00Z"}, kFullEnv));
  EXPECT_EQ(a.since_time,
            absl::FromCivil(absl::CivilSecond(2025, 3, 1, 12, 0, 0),
                            absl::UTCTimeZone()));

  EXPECT_THAT(ParseCtlArgs({"renew"}, kFullEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("renew: which certificate?")));
  EXPECT_THAT(ParseCtlArgs({"renew", "web", "api"}, kFullEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unexpected argument \"api\"")));
  EXPECT_THAT(ParseCtlArgs({"audit", "--since", "yesterday"}, kFullEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--since: \"yesterday\" is neither")));
  EXPECT_THAT(ParseCtlArgs({"audit", "--limit", "0"}, kFullEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--limit: \"0\" is not a positive")));
  EXPECT_THAT(ParseCtlArgs({"status", "--cert", "web"}, kFullEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("belong to `audit`")));
}

TEST(CtlArgsTest, RolloutStatusWatch) {
  ASSERT_OK_AND_ASSIGN(CtlArgs a,
                       ParseCtlArgs({"rollout", "status", "web"}, kFullEnv));
  EXPECT_FALSE(a.watch);
  EXPECT_EQ(a.interval, absl::Seconds(2));
  ASSERT_OK_AND_ASSIGN(
      a, ParseCtlArgs({"rollout", "status", "web", "--watch"}, kFullEnv));
  EXPECT_EQ(a.command, Command::kRolloutStatus);
  EXPECT_TRUE(a.watch);
  EXPECT_EQ(a.interval, absl::Seconds(2));
  ASSERT_OK_AND_ASSIGN(a, ParseCtlArgs({"-w", "--interval=1m30s", "rollout",
                                        "status", "web", "-o", "json"},
                                       kFullEnv));
  EXPECT_TRUE(a.watch);
  EXPECT_TRUE(a.json);
  EXPECT_EQ(a.interval, absl::Seconds(90));
  ASSERT_OK_AND_ASSIGN(a, ParseCtlArgs({"rollout", "status", "web", "--watch",
                                        "--interval", "100ms"},
                                       kFullEnv));
  EXPECT_EQ(a.interval, absl::Milliseconds(100));

  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"rollout", "status", "web", "--watch", "--interval", "99ms"},
       "--interval: \"99ms\" is shorter than the minimum, 100ms"},
      {{"rollout", "status", "web", "--watch", "--interval", "-2s"},
       "--interval: \"-2s\" is shorter than the minimum"},
      {{"rollout", "status", "web", "--watch", "--interval", "soon"},
       "--interval: \"soon\" is not a duration (such as 2s"},
      {{"rollout", "status", "web", "--watch", "--interval", "2"},
       "--interval: \"2\" is not a duration"},
      {{"rollout", "status", "web", "--watch", "--interval", "inf"},
       "--interval: \"inf\" is not a duration"},
      {{"rollout", "status", "web", "--watch", "--interval"},
       "--interval needs a value"},
      {{"rollout", "status", "web", "--interval", "5s"},
       "--interval: only with --watch"},
      {{"rollout", "pause", "web", "--watch"},
       "--watch and --interval belong to `rollout status`"},
      {{"status", "--watch"},
       "--watch and --interval belong to `rollout status`"},
  };
  for (const auto& [args, message] : cases) {
    EXPECT_THAT(
        ParseCtlArgs(args, kFullEnv),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << absl::StrJoin(args, " ");
  }
}

TEST(CtlArgsTest, ExitCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::PermissionDeniedError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), 1);
}

TEST(CtlArgsTest, IdentityFileParts) {
  const std::string key =
      "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----\n";
  const std::string cert =
      "-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n";
  const std::string ca =
      "-----BEGIN CERTIFICATE-----\nCCC\n-----END CERTIFICATE-----\n";
  ASSERT_OK_AND_ASSIGN(AdminIdentity id, ParseAdminIdentity(key + cert + ca));
  EXPECT_EQ(id.key_pem, key);
  EXPECT_EQ(id.cert_pem, cert);
  EXPECT_EQ(id.ca_pem, ca);
  EXPECT_THAT(ParseAdminIdentity(cert + ca),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no PRIVATE KEY block")));
  EXPECT_THAT(ParseAdminIdentity(key),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no CERTIFICATE block")));
  EXPECT_THAT(ParseAdminIdentity(key + cert),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no CA certificate")));
}

}  // namespace
}  // namespace certfleet::ctl
