// agent.yaml: a valid file with every field, and the exact messages of
// invalid ones ("FILE:LINE:COLUMN: FIELD_PATH: what is wrong").
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "agent/config/agent_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent {
namespace {

using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Line numbers (1-based) are part of the tests: keep them.
// clang-format off
constexpr char kValid[] =
    /*  1 */ "coordinators:\n"
    /*  2 */ "  - Coordinator-1.example.test:7443\n"
    /*  3 */ "  - \"127.0.0.1:7443\"\n"
    /*  4 */ "coordinator_ca: ${T}/ca.pem\n"
    /*  5 */ "identity_dir: identity\n"
    /*  6 */ "labels:\n"
    /*  7 */ "  pool: edge-eu\n"
    /*  8 */ "  env: prod\n"
    /*  9 */ "metrics:\n"
    /* 10 */ "  listen: 127.0.0.1:9465\n"
    /* 11 */ "reconnect: {initial: 2s, max: 5m}\n"
    /* 12 */ "targets:\n"
    /* 13 */ "  - name: www\n"
    /* 14 */ "    directory: ${T}/www/\n"
    /* 15 */ "    require_names: [WWW.Example.Test, \"*.example.test\"]\n"
    /* 16 */ "    files:\n"
    /* 17 */ "      - {path: key.pem, format: key}\n"
    /* 18 */ "      - {path: fullchain.pem, format: fullchain, mode: \"0644\"}\n"
    /* 19 */ "      - {path: tls/www.p12, format: pkcs12, password_file: p12.pass}\n"
    /* 20 */ "    group: nogroup\n"
    /* 21 */ "    mode: 0640\n"
    /* 22 */ "    reload:\n"
    /* 23 */ "      command: [/bin/true, reload]\n"
    /* 24 */ "      timeout: 10s\n"
    /* 25 */ "    grace: 0s\n"
    /* 26 */ "    health:\n"
    /* 27 */ "      - tls: {address: \"127.0.0.1:8443\"}\n"
    /* 28 */ "      - http: {url: \"https://127.0.0.1:8443/\", expect_status: 204, ca_file: ca.pem}\n"
    /* 29 */ "      - command: [/bin/true]\n"
    /* 30 */ "    health_timeout: 20s\n"
    /* 31 */ "    keep_versions: 5\n"
    /* 32 */ "  - name: lb\n"
    /* 33 */ "    directory: /srv/lb\n"
    /* 34 */ "    files:\n"
    /* 35 */ "      - {path: haproxy.pem, format: combined}\n";
// clang-format on

// A real CA certificate: coordinator_ca must hold one.
const std::string& CaPem() {
  static const std::string* pem =
      new std::string(crypto::testing::TestCa::Create().RootPem());
  return *pem;
}

class AgentConfigTest : public ::testing::Test {
 protected:
  AgentConfigTest() {
    WriteFileOrDie(tmp_.File("ca.pem"), CaPem());
    WriteFileOrDie(tmp_.File("p12.pass"), "secret\n", 0600);
    source_ = tmp_.File("agent.yaml");
  }

  absl::StatusOr<AgentConfig> Parse(absl::string_view yaml) {
    const std::string t = tmp_.path();
    return ParseAgentConfig(
        yaml, source_, fs_,
        [t](const std::string& name) -> std::optional<std::string> {
          if (name == "T") return t;
          return std::nullopt;
        });
  }

  // kValid with each `from` replaced by its `to` (each must occur once).
  absl::StatusOr<AgentConfig> ParseValidWith(
      std::vector<std::pair<std::string, std::string>> edits) {
    std::string text = kValid;
    for (const auto& [from, to] : edits) {
      const size_t at = text.find(from);
      EXPECT_NE(at, std::string::npos) << from;
      EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from;
      if (at != std::string::npos) text.replace(at, from.size(), to);
    }
    return Parse(text);
  }

  // "<source>:<where>: <rest>".
  std::string At(absl::string_view where, absl::string_view rest) const {
    return absl::StrCat(source_, ":", where, ": ", rest);
  }

  TempDir tmp_{"agent-config"};
  LocalFilesystem fs_;
  std::string source_;
};

TEST_F(AgentConfigTest, ReadsEveryField) {
  ASSERT_OK_AND_ASSIGN(AgentConfig cfg, Parse(kValid));
  const std::string t = tmp_.path();
  EXPECT_THAT(cfg.coordinators,
              ElementsAre("coordinator-1.example.test:7443", "127.0.0.1:7443"));
  EXPECT_EQ(cfg.coordinator_ca, t + "/ca.pem");
  EXPECT_EQ(cfg.identity_dir, t + "/identity");
  EXPECT_THAT(cfg.labels,
              ElementsAre(Pair("env", "prod"), Pair("pool", "edge-eu")));
  EXPECT_EQ(cfg.metrics_listen, "127.0.0.1:9465");
  EXPECT_EQ(cfg.reconnect_initial, absl::Seconds(2));
  EXPECT_EQ(cfg.reconnect_max, absl::Minutes(5));
  ASSERT_EQ(cfg.targets.size(), 2u);

  const TargetSpec& www = cfg.targets[0];
  EXPECT_EQ(www.name, "www");
  EXPECT_EQ(www.directory, t + "/www");
  EXPECT_THAT(www.require_names,
              ElementsAre("www.example.test", "*.example.test"));
  ASSERT_EQ(www.files.size(), 3u);
  EXPECT_EQ(www.files[0].format, FileSpec::Format::kKey);
  EXPECT_EQ(www.EffectiveMode(www.files[0]), 0640u);  // the target's mode
  EXPECT_EQ(www.files[1].mode, 0644u);
  EXPECT_EQ(www.files[2].path, "tls/www.p12");
  EXPECT_EQ(www.files[2].format, FileSpec::Format::kPkcs12);
  EXPECT_EQ(www.files[2].password_file, t + "/p12.pass");
  EXPECT_EQ(www.group, "nogroup");
  EXPECT_EQ(www.gid, 65534u);
  EXPECT_FALSE(www.uid.has_value());
  EXPECT_EQ(www.mode, 0640u);
  EXPECT_THAT(www.reload_command, ElementsAre("/bin/true", "reload"));
  EXPECT_EQ(www.reload_timeout, absl::Seconds(10));
  EXPECT_EQ(www.grace, absl::ZeroDuration());
  ASSERT_EQ(www.health.size(), 3u);
  EXPECT_EQ(www.health[0].kind, HealthCheckSpec::Kind::kTls);
  EXPECT_EQ(www.health[0].address, "127.0.0.1:8443");
  // SNI defaults to the first required name that is not a wildcard.
  EXPECT_EQ(www.health[0].server_name, "www.example.test");
  EXPECT_EQ(www.health[1].kind, HealthCheckSpec::Kind::kHttp);
  EXPECT_EQ(www.health[1].url, "https://127.0.0.1:8443/");
  EXPECT_EQ(www.health[1].expect_status, 204);
  EXPECT_EQ(www.health[1].ca_file, t + "/ca.pem");
  EXPECT_EQ(www.health[2].kind, HealthCheckSpec::Kind::kCommand);
  EXPECT_THAT(www.health[2].command, ElementsAre("/bin/true"));
  EXPECT_EQ(www.health_timeout, absl::Seconds(20));
  EXPECT_EQ(www.keep_versions, 5);

  const TargetSpec& lb = cfg.targets[1];
  EXPECT_EQ(lb.EffectiveMode(lb.files[0]), 0600u);  // holds the key
  EXPECT_TRUE(lb.reload_command.empty());
  EXPECT_EQ(lb.grace, absl::Seconds(1));
  EXPECT_EQ(lb.reload_timeout, absl::Seconds(30));
  EXPECT_EQ(lb.health_timeout, absl::Seconds(15));
  EXPECT_EQ(lb.keep_versions, 3);
  EXPECT_EQ(cfg.FindTarget("lb"), &cfg.targets[1]);
  EXPECT_EQ(cfg.FindTarget("nope"), nullptr);
  // Where each directory was read, for check-config's report on it.
  EXPECT_EQ(www.directory_where, source_ + ":14:16");
  EXPECT_EQ(lb.directory_where, source_ + ":33:16");
}

TEST_F(AgentConfigTest, AnUnknownFormatNamesFileLineColumnAndField) {
  EXPECT_THAT(ParseValidWith({{"format: fullchain", "format: p7b"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("18:39",
                          "targets[0].files[1].format: \"p7b\" is not one of "
                          "key, cert, chain, fullchain, combined, pkcs12")));
}

// A token can never grant an empty label value, so enrollment would fail.
TEST_F(AgentConfigTest, AnEmptyLabelValueIsRefused) {
  EXPECT_THAT(ParseValidWith({{"env: prod", "env: \"\""}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("agent.yaml:8:8: labels.env: \"\" is not "
                                 "a valid label value")));
}

TEST_F(AgentConfigTest, HealthIntervalIsOptionalAndBounded) {
  ASSERT_OK_AND_ASSIGN(
      AgentConfig cfg,
      ParseValidWith({{"    keep_versions: 5\n",
                       "    keep_versions: 5\n    health_interval: 5m\n"}}));
  EXPECT_EQ(cfg.targets[0].health_interval, absl::Minutes(5));
  EXPECT_EQ(cfg.targets[1].health_interval, absl::ZeroDuration());
  EXPECT_THAT(
      ParseValidWith({{"    keep_versions: 5\n",
                       "    keep_versions: 5\n    health_interval: 5s\n"}}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("targets[0].health_interval: must be at least 10s")));
}

TEST_F(AgentConfigTest, ReportsEveryProblemAtOnceInFileOrder) {
  absl::StatusOr<AgentConfig> cfg = ParseValidWith({
      {"Coordinator-1.example.test:7443", "coordinator-1"},
      {"identity_dir: identity", "identity_dir: \"\""},
      {"format: key}", "format: key, mode: \"0644\"}"},
      {"group: nogroup", "group: no-such-group-cf"},
      {"[/bin/true, reload]", "[true, reload]"},
      {"keep_versions: 5", "keep_versions: 1"},
      {"name: lb", "name: www"},
  });
  ASSERT_FALSE(cfg.ok());
  const std::vector<std::string> lines =
      absl::StrSplit(cfg.status().message(), '\n');
  EXPECT_THAT(
      lines,
      ElementsAre(
          At("2:5",
             "coordinators[0]: \"coordinator-1\" is not host:port (a "
             "DNS name or IP address, and a port from 1 to 65535)"),
          At("5:15", "identity_dir: must not be empty"),
          At("17:44",
             "targets[0].files[0].mode: 0644 gives others access to "
             "a file holding the private key"),
          At("20:12",
             "targets[0].group: group \"no-such-group-cf\" does not "
             "exist on this host"),
          At("23:17",
             "targets[0].reload.command[0]: \"true\" is not an "
             "absolute path (the command runs without a shell or "
             "PATH lookup)"),
          At("31:20", "targets[0].keep_versions: must be from 2 to 100, got 1"),
          At("32:11", "targets[1].name: target name given twice (first at " +
                          source_ + ":13:11)")));
}

TEST_F(AgentConfigTest, ModesAreOctalWhetherQuotedOrNot) {
  for (const char* text : {"\"0640\"", "0640", "640", "0o640"}) {
    ASSERT_OK_AND_ASSIGN(
        AgentConfig cfg,
        ParseValidWith({{"mode: 0640", absl::StrCat("mode: ", text)}}));
    EXPECT_EQ(cfg.targets[0].mode, 0640u) << text;
  }
  EXPECT_THAT(ParseValidWith({{"mode: 0640", "mode: \"0890\""}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("21:11",
                          "targets[0].mode: \"0890\" is not a file "
                          "mode (octal digits, such as \"0640\")")));
  EXPECT_THAT(ParseValidWith({{"mode: 0640", "mode: 4755"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("targets[0].mode: \"4755\" sets setuid")));
  EXPECT_THAT(
      ParseValidWith({{"mode: 0640", "mode: 0644"}}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("targets[0].mode: 0644 would give others access to "
                         "\"key.pem\", which holds the private key")));
}

TEST_F(AgentConfigTest, Pkcs12NeedsAPrivatePasswordFile) {
  EXPECT_THAT(ParseValidWith({{", password_file: p12.pass}", "}"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("19:9",
                          "targets[0].files[2].password_file: required for "
                          "format pkcs12 (a file, private to its owner, whose "
                          "first line is the password)")));
  EXPECT_THAT(ParseValidWith(
                  {{"format: key}", "format: key, password_file: p12.pass}"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("17:53",
                          "targets[0].files[0].password_file: only for "
                          "format pkcs12, not key")));
  ASSERT_EQ(chmod(tmp_.File("p12.pass").c_str(), 0640), 0);
  EXPECT_THAT(ParseValidWith({}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("targets[0].files[2].password_file: \"" +
                                 tmp_.File("p12.pass") +
                                 "\" is accessible by group or others (mode "
                                 "0640)")));
  WriteFileOrDie(tmp_.File("p12.pass"), "\nsecond line\n", 0600);
  EXPECT_THAT(ParseValidWith({}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the first line (the password) is empty")));
}

TEST_F(AgentConfigTest, FilePathsStayInsideTheTargetDirectory) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/etc/ssl/key.pem",
       "must be relative to the target's directory, not absolute"},
      {"../key.pem",
       "must be a plain relative path inside the target's directory (no "
       "empty, \".\" or \"..\" parts)"},
      {"a//key.pem",
       "must be a plain relative path inside the target's directory (no "
       "empty, \".\" or \"..\" parts)"},
      {"current/key.pem",
       "\"current\" is reserved for the agent's own use in the target's "
       "directory"},
      {".versions",
       "\".versions\" is reserved for the agent's own use in the target's "
       "directory"},
      {".certfleet-state",
       "\".certfleet-state\" is reserved for the agent's own use in the "
       "target's directory"},
  };
  for (const auto& [path, message] : cases) {
    EXPECT_THAT(ParseValidWith({{"path: key.pem", "path: \"" + path + "\""}}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         At("17:16", "targets[0].files[0].path: " + message)))
        << path;
  }
  EXPECT_THAT(ParseValidWith({{"path: fullchain.pem", "path: key.pem"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("18:16",
                          "targets[0].files[1].path: path given twice (first "
                          "at " +
                              source_ + ":17:16)")));
  EXPECT_THAT(
      ParseValidWith({{"path: key.pem", "path: tls"}}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("targets[0].files[2].path: \"tls/www.p12\" and "
                         "\"tls\" cannot both be files")));
}

TEST_F(AgentConfigTest, TargetDirectoriesAreAbsoluteAndTheirOwn) {
  EXPECT_THAT(ParseValidWith({{"directory: /srv/lb", "directory: srv/lb"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("33:16",
                          "targets[1].directory: \"srv/lb\" must be "
                          "an absolute path")));
  EXPECT_THAT(ParseValidWith({{"directory: /srv/lb", "directory: /srv/../lb"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must not hold \".\" or \"..\" parts")));
  EXPECT_THAT(
      ParseValidWith({{"directory: /srv/lb", "directory: ${T}/www/lb"}}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               At("33:16", absl::StrCat("targets[1].directory: \"", tmp_.path(),
                                        "/www/lb\" overlaps the directory of "
                                        "target \"www\" (",
                                        tmp_.path(),
                                        "/www); each target needs its own"))));
}

TEST_F(AgentConfigTest, HealthChecksAreCheckedByKind) {
  EXPECT_THAT(
      ParseValidWith(
          {{"- command: [/bin/true]",
            "- {command: [/bin/true], tls: {address: \"127.0.0.1:1\"}}"}}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               At("29:9",
                  "targets[0].health[2]: give exactly one of tls, "
                  "http, command")));
  EXPECT_THAT(ParseValidWith({{"address: \"127.0.0.1:8443\"",
                               "address: \"www.example.test:443\""}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("targets[0].health[0].tls.address: ")));
  EXPECT_THAT(
      ParseValidWith(
          {{"url: \"https://127.0.0.1:8443/\"", "url: \"ftp://127.0.0.1/\""}}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("targets[0].health[1].http.url: \"ftp://127.0.0.1/\" "
                         "is not an http:// or https:// URL with a host")));
  EXPECT_THAT(
      ParseValidWith({{"url: \"https://127.0.0.1:8443/\"",
                       "url: \"http://127.0.0.1:8080/\""}}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("targets[0].health[1].http.ca_file: only for https:// "
                         "URLs")));
  EXPECT_THAT(
      ParseValidWith({{"- tls: {address: \"127.0.0.1:8443\"}", "- tsl: {}"}}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               At("27:9",
                  "targets[0].health[0].tsl: unknown field \"tsl\"; "
                  "did you mean \"tls\"?")));
}

TEST_F(AgentConfigTest, OwnersAndCommandsMustExistOnTheHost) {
  EXPECT_THAT(ParseValidWith({{"group: nogroup", "owner: no-such-user-cf"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("20:12",
                          "targets[0].owner: user \"no-such-user-cf\" does "
                          "not exist on this host")));
  WriteFileOrDie(tmp_.File("reload.sh"), "#!/bin/sh\n", 0644);
  EXPECT_THAT(ParseValidWith({{"[/bin/true, reload]", "[\"${T}/reload.sh\"]"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("23:17", "targets[0].reload.command[0]: \"" +
                                       tmp_.File("reload.sh") +
                                       "\" is not executable")));
}

TEST_F(AgentConfigTest, FileLevelProblems) {
  EXPECT_THAT(Parse(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                  source_ + ": the file is empty "
                                            "(deploy/examples/agent.yaml is "
                                            "a commented example)"));
  EXPECT_THAT(Parse("coordinators: [\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(source_ + ":2:1: ")));
  EXPECT_THAT(ParseValidWith({{"coordinator_ca: ${T}/ca.pem",
                               "coordinator_ca: ${T}/none.pem"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("4:17", "coordinator_ca: \"" + tmp_.File("none.pem") +
                                      "\" does not exist")));
  WriteFileOrDie(tmp_.File("junk.pem"), "not a certificate\n");
  EXPECT_THAT(ParseValidWith({{"coordinator_ca: ${T}/ca.pem",
                               "coordinator_ca: ${T}/junk.pem"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       At("4:17", "coordinator_ca: \"" + tmp_.File("junk.pem") +
                                      "\" holds no PEM certificate (no "
                                      "CERTIFICATE block in PEM text); it "
                                      "is the coordinator's internal-ca.pem")));
  EXPECT_THAT(ParseValidWith({{"coordinator_ca: ${T}/ca.pem",
                               "coordinator_ca: ${NOPE}/ca.pem"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("environment variable NOPE is not set")));
}

TEST_F(AgentConfigTest, LoadReadsTheFileAndResolvesRelativePaths) {
  std::string text = absl::StrReplaceAll(kValid, {{"${T}", tmp_.path()}});
  WriteFileOrDie(source_, text);
  LocalFilesystem fs;
  ASSERT_OK_AND_ASSIGN(AgentConfig cfg, LoadAgentConfig(source_, fs));
  EXPECT_EQ(cfg.source_path, source_);
  EXPECT_EQ(cfg.identity_dir, tmp_.File("identity"));
  EXPECT_EQ(cfg.targets[0].files[2].password_file, tmp_.File("p12.pass"));
  EXPECT_THAT(LoadAgentConfig(tmp_.File("missing.yaml"), fs),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("configuration file: open " +
                                 tmp_.File("missing.yaml"))));
}

// The example in deploy/examples, parsed with the environment the demo
// gives its first agent.
TEST(AgentConfigExampleTest, ShippedExampleParses) {
  certfleet::testing::TempDir demo("agent-example");
  certfleet::testing::WriteFileOrDie(demo.File("internal-ca.pem"), CaPem(),
                                     0644);
  const std::map<std::string, std::string> env = {
      {"CERTFLEET_COORDINATOR_PORT", "7443"},
      {"CERTFLEET_DEMO_DIR", demo.path()},
      {"CERTFLEET_AGENT_DIR", demo.File("agent-1")},
      {"CERTFLEET_NGINX_PORT", "8443"},
      {"CERTFLEET_NGINX_CONF", "/tmp/nginx-1/nginx.conf"},
      {"CERTFLEET_NGINX_PREFIX", "/tmp/nginx-1/"},
      {"CERTFLEET_NGINX_LOG", "/tmp/nginx-1/error.log"}};
  const std::string path =
      std::string(CERTFLEET_SOURCE_DIR) + "/deploy/examples/agent.yaml";
  LocalFilesystem fs;
  ASSERT_OK_AND_ASSIGN(std::string text, fs.ReadFile(path));
  absl::StatusOr<AgentConfig> parsed = ParseAgentConfig(
      text, path, fs,
      [&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      });
  if (!parsed.ok() &&
      absl::StrContains(parsed.status().message(), "/usr/sbin/nginx")) {
    GTEST_SKIP() << "nginx is not installed: " << parsed.status();
  }
  ASSERT_OK(parsed);
  EXPECT_THAT(parsed->coordinators, ElementsAre("127.0.0.1:7443"));
  EXPECT_EQ(parsed->coordinator_ca, demo.File("internal-ca.pem"));
  EXPECT_EQ(parsed->identity_dir, demo.File("agent-1/identity"));
  EXPECT_THAT(parsed->labels, ElementsAre(Pair("role", "web")));
  ASSERT_EQ(parsed->targets.size(), 1u);
  const TargetSpec& nginx = parsed->targets[0];
  EXPECT_EQ(nginx.name, "nginx");
  EXPECT_EQ(nginx.directory, demo.File("agent-1/nginx"));
  EXPECT_THAT(nginx.require_names, ElementsAre("*.example.test"));
  EXPECT_THAT(nginx.reload_command,
              ElementsAre("/usr/sbin/nginx", "-c", "/tmp/nginx-1/nginx.conf",
                          "-p", "/tmp/nginx-1/", "-e", "/tmp/nginx-1/error.log",
                          "-s", "reload"));
  ASSERT_EQ(nginx.health.size(), 1u);
  EXPECT_EQ(nginx.health[0].kind, HealthCheckSpec::Kind::kTls);
  EXPECT_EQ(nginx.health[0].address, "127.0.0.1:8443");
  EXPECT_EQ(nginx.health[0].server_name, "www.example.test");
  EXPECT_EQ(nginx.keep_versions, 3);
}

}  // namespace
}  // namespace certfleet::agent
