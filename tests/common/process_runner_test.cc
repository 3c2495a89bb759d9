#include "common/process_runner.h"

#include <stdlib.h>

#include <map>
#include <optional>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Sets a variable of this process for one test; restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// The environment /usr/bin/env prints, as name → value.
std::map<std::string, std::string> ChildEnv(const ProcessSpec& spec) {
  SubprocessRunner runner;
  absl::StatusOr<ProcessResult> r = runner.Run(spec, Context::Background());
  EXPECT_OK(r);
  if (!r.ok()) return {};
  EXPECT_TRUE(r->success()) << r->Describe() << ": " << r->stderr_data;
  std::map<std::string, std::string> out;
  for (absl::string_view line :
       absl::StrSplit(r->stdout_data, '\n', absl::SkipEmpty())) {
    const size_t eq = line.find('=');
    out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return out;
}

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
                   .env = {{"CF_X", "value"}},
                   .stdin_data = "input-"};
  ASSERT_OK_AND_ASSIGN(ProcessResult r,
                       runner.Run(spec, Context::Background()));
  EXPECT_EQ(r.stdout_data, "input-value");
}

TEST(SubprocessRunnerTest, ChildGetsOnlyPathLocaleAndWhatTheSpecLists) {
  // What a daemon's environment typically holds: a secret its config
  // expands, cloud credentials, a home directory.
  ScopedEnv secret("CERTFLEET_TEST_DNS_TOKEN", "s3cret");
  ScopedEnv aws("AWS_SECRET_ACCESS_KEY", "aws-s3cret");
  ScopedEnv home("HOME", "/root");
  ScopedEnv lang("LANG", "de_DE.UTF-8");
  ScopedEnv lc_all("LC_ALL", "C.UTF-8");
  ScopedEnv path("PATH", "/opt/hooks/bin:/usr/bin:/bin");
  const std::map<std::string, std::string> env =
      ChildEnv({.argv = {"/usr/bin/env"}, .env = {{"API_TOKEN", "listed"}}});
  EXPECT_THAT(env, UnorderedElementsAre(
                       Pair("PATH", "/opt/hooks/bin:/usr/bin:/bin"),
                       Pair("LANG", "de_DE.UTF-8"), Pair("LC_ALL", "C.UTF-8"),
                       Pair("API_TOKEN", "listed")));
}

TEST(SubprocessRunnerTest, ListedVariablesReplacePathAndLocale) {
  ScopedEnv path("PATH", "/usr/bin:/bin");
  ScopedEnv lang("LANG", "de_DE.UTF-8");
  const std::map<std::string, std::string> env =
      ChildEnv({.argv = {"/usr/bin/env"},
                .env = {{"PATH", "/opt/hook"}, {"LANG", "C"}}});
  EXPECT_EQ(env.at("PATH"), "/opt/hook");
  EXPECT_EQ(env.at("LANG"), "C");
}

TEST(ChildEnvironmentTest, BuiltFromScratchWithADefaultPath) {
  const char* parent[] = {"HOME=/root",  "KEK=secret",       "LC_TIME=C",
                          "LANGUAGE=de", "LCX=not-a-locale", "junk",
                          nullptr};
  EXPECT_THAT(ChildEnvironment(parent, {{"A", "1"}, {"A", "2"}}),
              ElementsAre("A=2", "LANGUAGE=de", "LC_TIME=C",
                          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                          "/usr/bin:/sbin:/bin"));
  const char* empty[] = {nullptr};
  EXPECT_THAT(ChildEnvironment(empty, {}), ElementsAre(HasSubstr("PATH=")));
  EXPECT_THAT(ChildEnvironment(nullptr, {}), ElementsAre(HasSubstr("PATH=")));
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
