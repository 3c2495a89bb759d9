// certfleetctl as operators run it, against the in-process admin server:
// tables and JSON for each command, and the documented exit statuses —
// 2 for usage errors, 3 when the coordinator refuses the identity, 1 when
// it cannot be reached or answers with an error.
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/process_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/adminapi/admin_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::adminapi::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

class CtlBinaryTest : public AdminApiTest {
 protected:
  void SetUp() override {
    StoreFleet();
    alice_ = dir_.File("alice.pem");
    ::certfleet::testing::WriteFileOrDie(
        alice_, IdentityFile(AdminIdentityFor("alice")));
  }

  // certfleetctl `args`; --coordinator and --identity come from the
  // environment unless `env` says otherwise.
  ProcessResult Ctl(std::vector<std::string> args,
                    std::vector<std::pair<std::string, std::string>> env = {}) {
    if (env.empty()) {
      env = {{"CERTFLEET_COORDINATOR", Address()},
             {"CERTFLEET_IDENTITY", alice_}};
    }
    args.insert(args.begin(), CERTFLEETCTL_BINARY);
    SubprocessRunner runner;
    absl::StatusOr<ProcessResult> r =
        runner.Run({.argv = args, .env = env, .timeout = absl::Seconds(60)},
                   Context::Background());
    EXPECT_OK(r);
    return r.ok() ? *r : ProcessResult{};
  }

  ::certfleet::testing::TempDir dir_{"ctl"};
  std::string alice_;
};

TEST_F(CtlBinaryTest, StatusTableAndJson) {
  ProcessResult r = Ctl({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("you are       admin alice\n"));
  EXPECT_THAT(r.stdout_data,
              HasSubstr("certificates  2 configured, 1 issued, 1 failing, 0 "
                        "expired\n"));
  EXPECT_THAT(r.stdout_data,
              HasSubstr("agents        1 enrolled, 0 connected"));

  r = Ctl({"-o", "json", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const nlohmann::json j = nlohmann::json::parse(r.stdout_data);
  EXPECT_EQ(j["caller"], "alice");
  EXPECT_EQ(j["certificates"]["failing"], 1);
  EXPECT_EQ(j["agents"]["enrolled"], 1);
  EXPECT_EQ(j["coordinator"], Address());
}

TEST_F(CtlBinaryTest, CertificatesTableIsAligned) {
  const ProcessResult r = Ctl({"certs", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const std::vector<std::string> lines = absl::StrSplit(r.stdout_data, '\n');
  ASSERT_GE(lines.size(), 3u);
  EXPECT_THAT(lines[0], StartsWith("CERTIFICATE  VERSION  NAMES  "));
  EXPECT_THAT(lines[1], StartsWith("api          -        api.example.test"));
  EXPECT_THAT(lines[1], HasSubstr("failing (3x), next try "));
  EXPECT_THAT(lines[2], StartsWith("web          2        www.example.test"));
  EXPECT_THAT(lines[2], HasSubstr("1a02"));
  EXPECT_THAT(lines[2], HasSubstr("ok, renews "));
  // Columns line up: the serial starts at the same offset as its header.
  EXPECT_EQ(lines[0].find("SERIAL"), lines[2].find("1a02"));
  EXPECT_THAT(r.stdout_data,
              HasSubstr("api: last error: rateLimited: slow down"));
}

TEST_F(CtlBinaryTest, ShowAndVersions) {
  ProcessResult r = Ctl({"certs", "show", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("certificate  web\n"));
  EXPECT_THAT(r.stdout_data, HasSubstr("valid, newest"));
  EXPECT_THAT(r.stdout_data, HasSubstr("REVOKED"));

  r = Ctl({"versions", "web", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const nlohmann::json j = nlohmann::json::parse(r.stdout_data);
  ASSERT_EQ(j["versions"].size(), 2u);
  EXPECT_EQ(j["versions"][0]["version"], 2);
  EXPECT_EQ(j["versions"][1]["revoked"], true);
  EXPECT_EQ(j["versions"][1]["revocation_reason"], "superseded");
  EXPECT_THAT(j["versions"][0]["not_after"].get<std::string>(),
              MatchesRegex("[0-9-]+T[0-9:]+Z"));
}

TEST_F(CtlBinaryTest, AgentsListAndShow) {
  ProcessResult r = Ctl({"agents", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("agt-000000000001"));
  EXPECT_THAT(r.stdout_data, HasSubstr("role=web"));
  EXPECT_THAT(r.stdout_data, HasSubstr("www:web/2:ok"));

  r = Ctl({"agents", "show", "agt-000000000001"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("installed web/2, healthy"));

  r = Ctl({"-o", "json", "agents", "show", "agt-000000000001"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const nlohmann::json j = nlohmann::json::parse(r.stdout_data);
  EXPECT_EQ(j["targets"][0]["installed_version"], "web/2");
  EXPECT_EQ(j["labels"]["role"], "web");
}

TEST_F(CtlBinaryTest, TokenCreatePrintsTheTokenFirst) {
  const ProcessResult r = Ctl({"token", "create", "--labels", "role=web",
                               "--ttl", "30m", "--description", "rack 7"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const std::string token = r.stdout_data.substr(0, r.stdout_data.find('\n'));
  ASSERT_OK_AND_ASSIGN(identity::BootstrapTokens::Parsed parsed,
                       identity::BootstrapTokens::Parse(token));
  ASSERT_OK_AND_ASSIGN(store::TokenRecord record, c_.tokens.Check(token));
  EXPECT_EQ(record.id, parsed.id);
  EXPECT_EQ(record.description, "rack 7");
  EXPECT_EQ(record.expires_at, clock_.Now() + absl::Minutes(30));
}

TEST_F(CtlBinaryTest, RenewRequestsAndAuditShowsIt) {
  ProcessResult r = Ctl({"renew", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, StartsWith("renewal of web requested at "));
  EXPECT_THAT(r.stdout_data, HasSubstr("a new version will replace web/2"));
  ASSERT_OK_AND_ASSIGN(auto state, c_.store.GetCertificateState("web"));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->renew_at, absl::InfinitePast());
  r = Ctl({"certs", "list"});
  EXPECT_THAT(r.stdout_data, HasSubstr("renewal requested"));

  r = Ctl({"renew", "api", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  nlohmann::json j = nlohmann::json::parse(r.stdout_data);
  EXPECT_EQ(j["certificate"], "api");
  EXPECT_EQ(j["current_version"], 0);

  r = Ctl({"renew", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data,
              HasSubstr(absl::StrCat("coordinator ", Address(),
                                     ": RenewCertificate: no certificate "
                                     "nope")));

  r = Ctl({"audit"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const std::vector<std::string> lines = absl::StrSplit(r.stdout_data, '\n');
  ASSERT_GE(lines.size(), 4u);
  EXPECT_THAT(lines[0],
              MatchesRegex("TIME +ACTOR +ACTION +CERTIFICATE +RESULT +DETAIL"));
  EXPECT_THAT(lines[1], HasSubstr("admin:alice  certificate.renew  nope"));
  EXPECT_THAT(lines[1], HasSubstr("NOT_FOUND: no certificate nope"));
  EXPECT_THAT(lines[3], HasSubstr("certificate.renew  web"));
  EXPECT_THAT(lines[3], HasSubstr("ok"));
  EXPECT_THAT(lines[3], HasSubstr("renew now, replacing version 2"));
  EXPECT_EQ(lines[0].find("RESULT"), lines[3].find("ok"));

  r = Ctl({"audit", "--cert", "web", "--since", "1h", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  j = nlohmann::json::parse(r.stdout_data);
  ASSERT_EQ(j["events"].size(), 1u);
  EXPECT_EQ(j["events"][0]["actor"], "admin:alice");
  EXPECT_EQ(j["events"][0]["action"], "certificate.renew");
  EXPECT_EQ(j["events"][0]["result"], "ok");
  EXPECT_EQ(j["truncated"], false);

  r = Ctl({"audit", "--limit", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("(older records not shown"));

  // Records since a time after them all: none.
  r = Ctl({"audit", "--since", "2999-01-01T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "no audit records\n");
}

TEST_F(CtlBinaryTest, RenewAndAuditWithAnAgentIdentityExitThree) {
  const std::string agent = dir_.File("agent.pem");
  ::certfleet::testing::WriteFileOrDie(
      agent, IdentityFile(AgentIdentityFor("agt-000000000001")));
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"renew", "web"}, {"audit"}}) {
    std::vector<std::string> full = {"--identity", agent};
    full.insert(full.end(), args.begin(), args.end());
    const ProcessResult r = Ctl(full);
    EXPECT_EQ(r.exit_code, 3) << absl::StrJoin(args, " ") << r.stderr_data;
    EXPECT_THAT(r.stderr_data,
                HasSubstr("agent identities cannot use the admin API"));
  }
  ASSERT_OK_AND_ASSIGN(auto audit, c_.store.ListAudit({}));
  EXPECT_TRUE(audit.empty());
}

TEST_F(CtlBinaryTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"frobnicate"},
           {"certs"},
           {"certs", "show"},
           {"-o", "yaml", "status"},
           {"token", "create"},
           {"token", "create", "--labels", "novalue"},
           {"status", "--labels", "a=b"},
           {"renew"},
           {"audit", "--since", "soon"},
           {"audit", "--limit", "-3"}}) {
    const ProcessResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 2)
        << absl::StrJoin(args, " ") << ": " << r.stderr_data;
    EXPECT_THAT(r.stderr_data, StartsWith("certfleetctl: "));
    EXPECT_THAT(r.stderr_data, HasSubstr("usage: certfleetctl"));
  }
  // No identity anywhere.
  ProcessResult r = Ctl({"status"}, {{"CERTFLEET_COORDINATOR", Address()},
                                     {"CERTFLEET_IDENTITY", ""}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("no admin identity given"));
  // An identity file that is not one.
  ::certfleet::testing::WriteFileOrDie(dir_.File("junk.pem"), "junk");
  r = Ctl({"--identity", dir_.File("junk.pem"), "status"},
          {{"CERTFLEET_COORDINATOR", Address()}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("holds no PRIVATE KEY block"));
}

TEST_F(CtlBinaryTest, AgentIdentityExitsThree) {
  const std::string agent = dir_.File("agent.pem");
  ::certfleet::testing::WriteFileOrDie(
      agent, IdentityFile(AgentIdentityFor("agt-000000000001")));
  const ProcessResult r =
      Ctl({"--coordinator", Address(), "--identity", agent, "certs", "list"},
          {{"CERTFLEET_IDENTITY", "/nonexistent"}});
  EXPECT_EQ(r.exit_code, 3) << r.Describe() << r.stderr_data;
  EXPECT_THAT(r.stderr_data,
              HasSubstr(absl::StrCat("coordinator ", Address(),
                                     ": ListCertificates: agent identities "
                                     "cannot use the admin API")));
  EXPECT_EQ(r.stdout_data, "");
}

TEST_F(CtlBinaryTest, ServerErrorsAndUnreachableCoordinatorExitOne) {
  ProcessResult r = Ctl({"certs", "show", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data,
              HasSubstr(absl::StrCat("coordinator ", Address(),
                                     ": GetCertificate: no certificate nope")));
  const std::string closed = Address();
  server_.reset();
  r = Ctl({"status"},
          {{"CERTFLEET_COORDINATOR", closed}, {"CERTFLEET_IDENTITY", alice_}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.stderr_data,
              HasSubstr(absl::StrCat("coordinator ", closed, ": GetStatus: ")));
}

}  // namespace
}  // namespace certfleet::adminapi::testing
