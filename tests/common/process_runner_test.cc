#include "common/process_runner.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(SubprocessRunnerTest, CapturesOutputAndExitCode) {
  SubprocessRunner runner;
  ProcessSpec spec{.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}};
  ASSERT_OK_AND_ASSIGN(ProcessResult r,
                       runner.Run(spec, Context::Background()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.success());
  EXPECT_EQ(r.stdout_data, "out\n");
  EXPECT_EQ(r.StderrExcerpt(), "err");
  EXPECT_EQ(r.Describe(), "exited with status 3");
}

TEST(SubprocessRunnerTest, PassesArgvWithoutShell) {
  SubprocessRunner runner;
  ProcessSpec spec{.argv = {"/bin/echo", "a b", "$HOME;", "c"}};
  ASSERT_OK_AND_ASSIGN(ProcessResult r,
                       runner.Run(spec, Context::Background()));
  EXPECT_TRUE(r.success());
  EXPECT_EQ(r.stdout_data, "a b $HOME; c\n");
}

TEST(SubprocessRunnerTest, FeedsStdinAndEnvironment) {
  SubprocessRunner runner;
  ProcessSpec spec{.argv = {"/bin/sh", "-c", "cat; printf %s \"$CF_X\""},
                   .extra_env = {{"CF_X", "value"}},
                   .stdin_data = "input-"};
  ASSERT_OK_AND_ASSIGN(ProcessResult r,
                       runner.Run(spec, Context::Background()));
  EXPECT_EQ(r.stdout_data, "input-value");
}

TEST(SubprocessRunnerTest, TimeoutKillsTheProcessGroup) {
  SubprocessRunner runner;
  // The child shell spawns a grandchild that would keep the pipe open.
  ProcessSpec spec{.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30"},
                   .timeout = absl::Milliseconds(200)};
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(ProcessResult r,
                       runner.Run(spec, Context::Background()));
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.success());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_THAT(r.Describe(), HasSubstr("timed out"));
}

TEST(SubprocessRunnerTest, CancellationStopsTheProcess) {
  SubprocessRunner runner;
  auto cancel = std::make_shared<Cancellation>();
  cancel->Cancel();
  ProcessSpec spec{.argv = {"/bin/sleep", "30"}};
  ASSERT_OK_AND_ASSIGN(
      ProcessResult r,
      runner.Run(spec, Context::Background().WithCancellation(cancel)));
  EXPECT_TRUE(r.cancelled);
}

TEST(SubprocessRunnerTest, MissingProgramIsNotFound) {
  SubprocessRunner runner;
  ProcessSpec spec{.argv = {"/nonexistent/program"}};
  EXPECT_THAT(
      runner.Run(spec, Context::Background()),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/program")));
}

TEST(SubprocessRunnerTest, OutputIsCapped) {
  SubprocessRunner runner;
  ProcessSpec spec{.argv = {"/bin/sh", "-c", "head -c 100000 /dev/zero"},
                   .max_output_bytes = 1000};
  ASSERT_OK_AND_ASSIGN(ProcessResult r,
                       runner.Run(spec, Context::Background()));
  EXPECT_TRUE(r.success());
  EXPECT_EQ(r.stdout_data.size(), 1000u);
}

}  // namespace
}  // namespace certfleet
