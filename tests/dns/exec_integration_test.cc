// ExecProvider running real shell scripts through SubprocessRunner.
#include <stdlib.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "coordinator/dns/providers/exec_provider.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::dns {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::ReadFileOrDie;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsSubsetOf;
using ::testing::Not;

TEST(ExecIntegrationTest, ScriptSeesArgumentsAndEnvironment) {
  TempDir dir("exec");
  const std::string log = dir.File("calls.log");
  const std::string script = dir.File("hook.sh");
  WriteFileOrDie(script,
                 "#!/bin/sh\n"
                 "echo \"args=$* action=$CERTFLEET_ACTION fqdn=$CERTFLEET_FQDN "
                 "value=$CERTFLEET_VALUE zone=$CERTFLEET_ZONE "
                 "extra=$HOOK_EXTRA\" >> \"$HOOK_LOG\"\n",
                 0755);
  SubprocessRunner runner;
  ExecProvider provider("hook",
                        {.argv = {script, "--account", "a1"},
                         .timeout = absl::Seconds(10),
                         .env = {{"HOOK_LOG", log}, {"HOOK_EXTRA", "x"}}},
                        runner);
  const TxtRecord r{"_acme-challenge.example.test.", "v1"};
  ASSERT_THAT(provider.Present("example.test.", {r}, Context()), IsOk());
  ASSERT_THAT(provider.CleanUp("example.test.", {r}, Context()), IsOk());
  EXPECT_EQ(ReadFileOrDie(log),
            "args=--account a1 present _acme-challenge.example.test. v1 "
            "action=present fqdn=_acme-challenge.example.test. value=v1 "
            "zone=example.test. extra=x\n"
            "args=--account a1 cleanup _acme-challenge.example.test. v1 "
            "action=cleanup fqdn=_acme-challenge.example.test. value=v1 "
            "zone=example.test. extra=x\n");
}

// The coordinator's environment holds secrets (the ${VAR} values of its
// configuration); a hook gets only what its `env` lists, the CERTFLEET_*
// record variables, PATH and the locale.
TEST(ExecIntegrationTest, ScriptGetsOnlyItsConfiguredEnvironment) {
  TempDir dir("exec");
  setenv("CERTFLEET_TEST_TSIG_SECRET", "coordinator-secret", 1);
  setenv("LC_MESSAGES", "C.UTF-8", 1);
  const std::string dump = dir.File("env.txt");
  const std::string script = dir.File("hook.sh");
  WriteFileOrDie(script, "#!/bin/sh\nenv > \"$DUMP\"\n", 0755);
  SubprocessRunner runner;
  ExecProvider provider(
      "hook",
      {.argv = {script}, .env = {{"DUMP", dump}, {"API_TOKEN", "listed"}}},
      runner);
  ASSERT_THAT(
      provider.Present("example.test.",
                       {{"_acme-challenge.example.test.", "v1"}}, Context()),
      IsOk());
  unsetenv("CERTFLEET_TEST_TSIG_SECRET");
  unsetenv("LC_MESSAGES");
  const std::string text = ReadFileOrDie(dump);
  EXPECT_THAT(text, Not(HasSubstr("coordinator-secret")));
  EXPECT_THAT(text, HasSubstr("API_TOKEN=listed\n"));
  EXPECT_THAT(text, HasSubstr("LC_MESSAGES=C.UTF-8\n"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("PATH=", getenv("PATH"), "\n")));
  std::set<std::string> names;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    names.insert(std::string(line.substr(0, line.find('='))));
  }
  // dash adds PWD itself; everything else was given.
  names.erase("PWD");
  EXPECT_THAT(
      names,
      IsSubsetOf({"API_TOKEN", "CERTFLEET_ACTION", "CERTFLEET_FQDN",
                  "CERTFLEET_VALUE", "CERTFLEET_ZONE", "DUMP", "PATH", "LANG",
                  "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "LC_COLLATE",
                  "LC_NUMERIC", "LC_TIME", "LC_MONETARY"}));
}

TEST(ExecIntegrationTest, FailingScriptReportsItsStderr) {
  TempDir dir("exec");
  const std::string script = dir.File("fail.sh");
  WriteFileOrDie(script,
                 "#!/bin/sh\necho 'zone example.test is locked' >&2\nexit 4\n",
                 0755);
  SubprocessRunner runner;
  ExecProvider provider("hook", {.argv = {script}}, runner);
  EXPECT_THAT(
      provider.Present("example.test.",
                       {{"_acme-challenge.example.test.", "v1"}}, Context()),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr(script + " present"),
                     HasSubstr("exited with status 4"),
                     HasSubstr("zone example.test is locked"))));
}

TEST(ExecIntegrationTest, SlowScriptTimesOutAsUnavailable) {
  TempDir dir("exec");
  const std::string script = dir.File("slow.sh");
  WriteFileOrDie(script, "#!/bin/sh\nsleep 10\n", 0755);
  SubprocessRunner runner;
  ExecProvider provider(
      "hook", {.argv = {script}, .timeout = absl::Milliseconds(200)}, runner);
  const absl::Time start = absl::Now();
  EXPECT_THAT(
      provider.Present("example.test.",
                       {{"_acme-challenge.example.test.", "v1"}}, Context()),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("timed out")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace certfleet::dns
