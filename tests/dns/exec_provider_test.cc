#include "coordinator/dns/providers/exec_provider.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Returns scripted results in order and records every spec.
class ScriptedRunner : public ProcessRunner {
 public:
  absl::StatusOr<ProcessResult> Run(const ProcessSpec& spec,
                                    const Context&) override {
    specs.push_back(spec);
    if (results.empty()) return ProcessResult{.exit_code = 0};
    auto r = results.front();
    results.erase(results.begin());
    return r;
  }
  std::vector<ProcessSpec> specs;
  std::vector<absl::StatusOr<ProcessResult>> results;
};

const std::vector<TxtRecord> kRecords = {
    {"_acme-challenge.example.test.", "v1"},
    {"_acme-challenge.Example.test", "v2"}};

TEST(ExecProviderTest, RunsOncePerRecordWithArgumentsAndEnvironment) {
  ScriptedRunner runner;
  ExecProvider p("hook",
                 {.argv = {"/bin/hook", "--flag"},
                  .timeout = absl::Seconds(7),
                  .env = {{"HOOK_TOKEN", "t"}}},
                 runner);
  ASSERT_THAT(p.Present("example.test", kRecords, Context()), IsOk());
  ASSERT_EQ(runner.specs.size(), 2u);
  EXPECT_THAT(runner.specs[0].argv,
              ElementsAre("/bin/hook", "--flag", "present",
                          "_acme-challenge.example.test.", "v1"));
  EXPECT_THAT(runner.specs[1].argv,
              ElementsAre("/bin/hook", "--flag", "present",
                          "_acme-challenge.example.test.", "v2"));
  EXPECT_EQ(runner.specs[0].timeout, absl::Seconds(7));
  const auto& env = runner.specs[1].env;
  EXPECT_THAT(env, Contains(Pair("HOOK_TOKEN", "t")));
  EXPECT_THAT(env, Contains(Pair("CERTFLEET_ACTION", "present")));
  EXPECT_THAT(
      env, Contains(Pair("CERTFLEET_FQDN", "_acme-challenge.example.test.")));
  EXPECT_THAT(env, Contains(Pair("CERTFLEET_VALUE", "v2")));
  EXPECT_THAT(env, Contains(Pair("CERTFLEET_ZONE", "example.test.")));

  ASSERT_THAT(p.CleanUp("example.test.", {kRecords[0]}, Context()), IsOk());
  EXPECT_EQ(runner.specs[2].argv[2], "cleanup");
}

TEST(ExecProviderTest, NonZeroExitIsFailedPreconditionWithStderr) {
  ScriptedRunner runner;
  runner.results.push_back(
      ProcessResult{.exit_code = 3, .stderr_data = "api said: zone locked\n"});
  ExecProvider p("hook", {.argv = {"/bin/hook"}}, runner);
  EXPECT_THAT(
      p.Present("example.test.", kRecords, Context()),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          AllOf(HasSubstr("exec provider \"hook\""),
                HasSubstr("/bin/hook present _acme-challenge.example.test. v1"),
                HasSubstr("exited with status 3"),
                HasSubstr("stderr: api said: zone locked"))));
  EXPECT_EQ(runner.specs.size(), 1u);  // stops at the first failure
}

TEST(ExecProviderTest, TimeoutIsUnavailable) {
  ScriptedRunner runner;
  runner.results.push_back(
      ProcessResult{.timed_out = true, .elapsed = absl::Seconds(5)});
  ExecProvider p("hook", {.argv = {"/bin/hook"}}, runner);
  EXPECT_THAT(p.Present("example.test.", kRecords, Context()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("timed out after 5s")));
}

TEST(ExecProviderTest, MissingProgramIsFailedPrecondition) {
  ScriptedRunner runner;
  runner.results.push_back(absl::NotFoundError("no such file"));
  ExecProvider p("hook", {.argv = {"/bin/missing"}}, runner);
  EXPECT_THAT(p.Present("example.test.", kRecords, Context()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("could not start: no such file")));
}

TEST(ExecProviderTest, CleanUpRunsEveryRecordAndReportsEachFailure) {
  ScriptedRunner runner;
  runner.results.push_back(ProcessResult{.exit_code = 1, .stderr_data = "e1"});
  runner.results.push_back(ProcessResult{.exit_code = 2, .stderr_data = "e2"});
  ExecProvider p("hook", {.argv = {"/bin/hook"}}, runner);
  EXPECT_THAT(
      p.CleanUp("example.test.", kRecords, Context()),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("stderr: e1"), HasSubstr("stderr: e2"))));
  EXPECT_EQ(runner.specs.size(), 2u);
}

}  // namespace
}  // namespace certfleet::dns
