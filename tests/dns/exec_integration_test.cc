// ExecProvider running real shell scripts through SubprocessRunner.
#include "coordinator/dns/exec_provider.h"
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
