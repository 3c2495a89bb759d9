// The agent's unit confines it with SystemCallFilter= (@system-service,
// minus a few groups). A system call outside the filter kills the agent —
// or the reload command it runs — with SIGSYS, which no unit test would
// notice. So a real agent is traced (strace -f -c, children included)
// through what it does in production: enroll, run, receive a version,
// install it, reload a real nginx (`nginx -s reload`), health-check it
// over TLS, report, and stop on SIGTERM; every system call it made must
// be allowed by the filter as the unit file states it, expanded by
// systemd-analyze.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/client/identity.h"
#include "common/filesystem.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent_web/agent_web_support.h"
#include "tests/agentapi/e2e_fixture.h"
#include "tests/harness/nginx_server.h"
#include "tests/harness/server_process.h"
#include "tests/harness/tls_probe.h"
#include "tests/hygiene/hygiene_support.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

namespace certfleet::hygiene {
namespace {

using ::certfleet::testing::ReadFileOrDie;
using ::certfleet::testing::WaitFor;
using ::certfleet::testing::WriteFileOrDie;

// The system calls of a filter entry: a name, or a @group expanded
// (recursively) by `systemd-analyze syscall-filter`.
class SyscallGroups {
 public:
  explicit SyscallGroups(std::string analyze) : analyze_(std::move(analyze)) {}

  std::set<std::string> Expand(const std::string& entry) {
    if (entry.empty() || entry[0] != '@') return {entry};
    std::set<std::string> out;
    const ProcessResult r = RunBinary({analyze_, "syscall-filter", entry});
    EXPECT_EQ(r.exit_code, 0) << entry << ": " << r.stderr_data;
    bool first = true;
    for (absl::string_view line : absl::StrSplit(r.stdout_data, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (first) {  // the group's own name
        first = false;
        continue;
      }
      if (line.empty() || line[0] == '#') continue;
      const std::set<std::string> sub = Expand(std::string(line));
      out.insert(sub.begin(), sub.end());
    }
    EXPECT_FALSE(out.empty()) << entry;
    return out;
  }

 private:
  std::string analyze_;
};

// What the unit's SystemCallFilter= lines allow: the union of the allow
// lists minus the union of the deny (~) lists.
std::set<std::string> AllowedByUnit(const std::string& unit_text,
                                    SyscallGroups& groups) {
  std::set<std::string> allowed, denied;
  for (absl::string_view line : absl::StrSplit(unit_text, '\n')) {
    if (!absl::ConsumePrefix(&line, "SystemCallFilter=")) continue;
    const bool deny = absl::ConsumePrefix(&line, "~");
    for (absl::string_view entry :
         absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      const std::set<std::string> calls = groups.Expand(std::string(entry));
      (deny ? denied : allowed).insert(calls.begin(), calls.end());
    }
  }
  for (const std::string& d : denied) allowed.erase(d);
  return allowed;
}

// The system call names of an `strace -c` summary.
std::set<std::string> StraceSummary(const std::string& path) {
  std::set<std::string> out;
  bool in_table = false;
  for (absl::string_view line :
       absl::StrSplit(ReadFileOrDie(path), '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "------")) {
      in_table = !in_table;
      continue;
    }
    if (!in_table) continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (!fields.empty() && fields.back() != "total") {
      out.insert(std::string(fields.back()));
    }
  }
  return out;
}

class AgentSyscallsTest : public agentapi::testing::AgentApiE2eTest {};

TEST_F(AgentSyscallsTest, EnrollRunInstallAndReloadStayInsideTheFilter) {
  ASSERT_OK_AND_ASSIGN(const std::string strace,
                       harness::FindProgram("strace"));
  ASSERT_OK_AND_ASSIGN(const std::string analyze,
                       harness::FindProgram("systemd-analyze"));
  SyscallGroups groups(analyze);
  const std::set<std::string> allowed = AllowedByUnit(
      ReadFileOrDie(absl::StrCat(CERTFLEET_SOURCE_DIR,
                                 "/deploy/systemd/certfleet-agent.service")),
      groups);
  ASSERT_GT(allowed.size(), 100u);

  // nginx serving the target's files, placeholders until the first install.
  const std::string dir = tmp_.File("host");
  const std::string www = dir + "/www";
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(www.c_str(), 0755), 0);
  agent::web_testing::WritePlaceholders(
      agent::web_testing::WwwBundle("www", "placeholder", "0a00"),
      www + "/fullchain.pem", www + "/key.pem");
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<harness::NginxServer> nginx,
      harness::NginxServer::Start(
          {.cert_path = www + "/fullchain.pem", .key_path = www + "/key.pem"}));
  const std::string config = WriteAgentYaml(
      dir, Address(), c_.ca->ca_pem(),
      absl::StrCat("targets:\n"
                   "  - name: www\n"
                   "    directory: ",
                   agent::web_testing::YamlString(www),
                   "\n"
                   "    require_names: [www.example.test]\n"
                   "    files:\n"
                   "      - {path: fullchain.pem, format: fullchain}\n"
                   "      - {path: key.pem, format: key}\n"
                   "    reload:\n"
                   "      command: ",
                   agent::web_testing::YamlList(nginx->ReloadCommand()),
                   "\n"
                   "      timeout: 20s\n"
                   "    grace: 250ms\n"
                   "    health:\n"
                   "      - tls: {address: ",
                   agent::web_testing::YamlString(nginx->address()),
                   ", server_name: www.example.test}\n"
                   "    health_timeout: 10s\n"));

  // Enroll, traced.
  WriteFileOrDie(dir + "/token", c_.NewToken({{"role", "web"}}), 0600);
  const ProcessResult enrolled = RunBinary(
      {strace, "-f", "-c", "-o", dir + "/enroll.strace", CERTFLEET_AGENT_BINARY,
       "enroll", "--config", config, "--token-file", dir + "/token"});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.stderr_data;
  LocalFilesystem fs;
  ASSERT_OK_AND_ASSIGN(agent::Identity id,
                       agent::IdentityStore(dir + "/identity", fs).Load());
  agent_id_ = id.agent_id;

  // Run, traced, with a version waiting for it.
  const delivery::testing::StoredVersion v =
      c_.AddVersion("web", "5e01", absl::Now());
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<harness::ServerProcess> traced,
      harness::ServerProcess::Start(
          {.name = "strace certfleet-agent run",
           .argv = {strace, "-f", "-c", "-o", dir + "/run.strace",
                    CERTFLEET_AGENT_BINARY, "run", "--config", config},
           .log_path = dir + "/agent.log"}));
  ASSERT_OK(WaitFor(
      "the traced agent to install the version, healthy",
      [&] {
        std::optional<store::TargetStateRecord> s = WwwState();
        return s && s->installed_version_id == v.version_id && s->healthy;
      },
      absl::Seconds(90)))
      << traced->LogTail();
  ASSERT_OK_AND_ASSIGN(harness::ServedCertificate served,
                       harness::ProbeTls(nginx->address(), "www.example.test",
                                         absl::Seconds(5)));
  EXPECT_EQ(served.serial_hex, v.serial);

  // Stop the agent as systemd would (SIGTERM to the agent, not to strace,
  // which would detach and leave it running); strace then writes its
  // summary and exits.
  const std::string children = ReadFileOrDie(absl::StrCat(
      "/proc/", traced->pid(), "/task/", traced->pid(), "/children"));
  pid_t agent_pid = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(absl::StripAsciiWhitespace(children), &agent_pid))
      << "children of strace: \"" << children << "\"";
  ASSERT_EQ(kill(agent_pid, SIGTERM), 0);
  ASSERT_OK(WaitFor(
      "the traced agent to exit after SIGTERM",
      [&] { return !traced->Running(); }, absl::Seconds(30)));

  std::set<std::string> used = StraceSummary(dir + "/enroll.strace");
  const std::set<std::string> run = StraceSummary(dir + "/run.strace");
  used.insert(run.begin(), run.end());
  // A summary this small means strace traced nothing useful.
  ASSERT_GT(run.size(), 30u) << ReadFileOrDie(dir + "/run.strace");
  std::vector<std::string> outside;
  for (const std::string& call : used) {
    if (!allowed.count(call)) outside.push_back(call);
  }
  EXPECT_THAT(outside, ::testing::IsEmpty())
      << "system calls outside the agent unit's SystemCallFilter (the "
         "agent or its reload command would be killed with SIGSYS)";
  std::cout << "system calls used (" << used.size()
            << "): " << absl::StrJoin(used, " ") << "\n";
}

}  // namespace
}  // namespace certfleet::hygiene
