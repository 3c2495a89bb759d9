// `certfleetctl rollout status CERT --watch` as operators run it, against
// the real admin server over the 12-agent rollout fleet of tests/rollouts
// (used read-only): a rollout that completes while watched ends the
// command with exit 0 after at least two snapshots (tables or JSON Lines);
// SIGINT ends it with 130; a coordinator that goes away ends it with 1.
#include <signal.h>
#include <sys/types.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "tests/rollout/runner/rollout_admin_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::rollout::testing {
namespace {

using ::certfleet::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

// The file's content; "" while it does not exist.
std::string ReadIfExists(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// certfleetctl started in the background: its stdout goes to a file the
// test can read while it runs, its pid to another (so the test can signal
// it); Finish() waits for it and gives its exit status.
class BackgroundCtl {
 public:
  BackgroundCtl(const std::string& dir, std::vector<std::string> args,
                std::vector<std::pair<std::string, std::string>> env)
      : out_(dir + "/watch.out"), pid_file_(dir + "/watch.pid") {
    // The shell writes its pid, then becomes certfleetctl (same pid).
    std::vector<std::string> argv = {
        "/bin/sh", "-c",
        "echo $$ > \"$PID_FILE\"; exec \"$0\" \"$@\" > \"$OUT\"",
        CERTFLEETCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    env.push_back({"OUT", out_});
    env.push_back({"PID_FILE", pid_file_});
    thread_ = std::thread([this, argv, env] {
      SubprocessRunner runner;
      absl::StatusOr<ProcessResult> r =
          runner.Run({.argv = argv, .env = env, .timeout = absl::Seconds(60)},
                     Context::Background());
      result_ =
          r.ok() ? *r : ProcessResult{.stderr_data = r.status().ToString()};
    });
  }
  ~BackgroundCtl() {
    if (thread_.joinable()) thread_.join();
  }

  // Waits (real time) until its output contains `text`.
  absl::Status WaitForOutput(const std::string& text) {
    return WaitFor(
        absl::StrCat("\"", text, "\" in the output"),
        [&] { return absl::StrContains(ReadIfExists(out_), text); },
        absl::Seconds(30));
  }
  pid_t pid() const {
    int pid = 0;
    EXPECT_TRUE(absl::SimpleAtoi(
        absl::StripAsciiWhitespace(ReadIfExists(pid_file_)), &pid));
    return pid;
  }
  // Waits for it to end; stdout_data is what it printed.
  ProcessResult Finish() {
    thread_.join();
    result_.stdout_data = ReadIfExists(out_);
    return result_;
  }

 private:
  const std::string out_;
  const std::string pid_file_;
  ProcessResult result_;
  std::thread thread_;
};

class RolloutWatchTest : public RolloutAdminTest {
 protected:
  // certfleetctl `args` as alice, in the background.
  std::unique_ptr<BackgroundCtl> Watch(std::vector<std::string> args) {
    const std::string identity = dir_.File("alice.pem");
    ::certfleet::testing::WriteFileOrDie(
        identity, absl::StrCat(alice_.key_pem, alice_.cert_pem, alice_.ca_pem));
    return std::make_unique<BackgroundCtl>(
        dir_.path(), std::move(args),
        std::vector<std::pair<std::string, std::string>>{
            {"CERTFLEET_COORDINATOR", Address()},
            {"CERTFLEET_IDENTITY", identity}});
  }
};

TEST_F(RolloutWatchTest, ExitsZeroOnceTheWatchedRolloutCompletes) {
  const int canary = StartRollout();
  ASSERT_GE(canary, 0);
  std::unique_ptr<BackgroundCtl> ctl =
      Watch({"rollout", "status", "web", "--watch", "--interval", "100ms"});
  ASSERT_OK(ctl->WaitForOutput("phase:         delivering (wave 1 of 3)\n"))
      << ctl->Finish().stderr_data;
  CompleteFrom(canary);
  const ProcessResult r = ctl->Finish();
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  EXPECT_EQ(r.stderr_data, "");
  const std::vector<std::string> snapshots =
      absl::StrSplit(r.stdout_data, "\n--- ");
  ASSERT_GE(snapshots.size(), 2u) << r.stdout_data;
  EXPECT_THAT(r.stdout_data, StartsWith("--- "));
  EXPECT_THAT(snapshots.front(),
              HasSubstr("phase:         delivering (wave 1 of 3)\n"));
  EXPECT_THAT(snapshots.back(),
              HasSubstr("phase:         complete (wave 3 of 3)\n"));
  EXPECT_THAT(snapshots.back(), HasSubstr("hosts:         healthy 12\n"));
  // Printed on change only: never the same phase and wave twice in a row.
  for (size_t i = 1; i < snapshots.size(); ++i) {
    auto phase = [](const std::string& s) {
      const size_t at = s.find("phase:");
      return s.substr(at, s.find('\n', at) - at);
    };
    EXPECT_NE(phase(snapshots[i]), phase(snapshots[i - 1]))
        << "snapshot " << i << " of\n"
        << r.stdout_data;
  }
}

TEST_F(RolloutWatchTest, JsonLinesOneObjectPerChange) {
  const int canary = StartRollout();
  ASSERT_GE(canary, 0);
  std::unique_ptr<BackgroundCtl> ctl = Watch(
      {"rollout", "status", "web", "-w", "--interval=100ms", "-o", "json"});
  ASSERT_OK(ctl->WaitForOutput("\"phase\":\"delivering\""))
      << ctl->Finish().stderr_data;
  CompleteFrom(canary);
  const ProcessResult r = ctl->Finish();
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  std::vector<std::string> lines = absl::StrSplit(r.stdout_data, '\n');
  ASSERT_EQ(lines.back(), "");  // ends with a newline
  lines.pop_back();
  ASSERT_GE(lines.size(), 2u) << r.stdout_data;
  int64_t last_revision = 0;
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j["certificate"], "web");
    EXPECT_GT(j["revision"].get<int64_t>(), last_revision) << line;
    last_revision = j["revision"].get<int64_t>();
    EXPECT_TRUE(j["observed_at"].is_string());
  }
  EXPECT_EQ(nlohmann::json::parse(lines.front())["phase"], "delivering");
  EXPECT_EQ(nlohmann::json::parse(lines.back())["phase"], "complete");
}

TEST_F(RolloutWatchTest, InterruptExits130) {
  ASSERT_GE(StartRollout(), 0);
  std::unique_ptr<BackgroundCtl> ctl =
      Watch({"rollout", "status", "web", "--watch", "--interval", "100ms"});
  ASSERT_OK(ctl->WaitForOutput("delivering (wave 1 of 3)"))
      << ctl->Finish().stderr_data;
  const pid_t pid = ctl->pid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGINT), 0);
  const ProcessResult r = ctl->Finish();
  EXPECT_EQ(r.term_signal, 0) << r.Describe();
  EXPECT_EQ(r.exit_code, 130) << r.Describe() << r.stderr_data;
  EXPECT_EQ(r.stderr_data, "");
  // The one snapshot, whole.
  const std::vector<std::string> snapshots =
      absl::StrSplit(r.stdout_data, "--- ");
  EXPECT_THAT(snapshots, SizeIs(2));
  EXPECT_THAT(r.stdout_data, HasSubstr("\nnot in a wave (11 hosts)\n"));
}

TEST_F(RolloutWatchTest, ACoordinatorGoneForThreePollsExitsOne) {
  ASSERT_GE(StartRollout(), 0);
  const std::string address = Address();
  std::unique_ptr<BackgroundCtl> ctl =
      Watch({"rollout", "status", "web", "--watch", "--interval", "100ms",
             "--timeout", "2s"});
  ASSERT_OK(ctl->WaitForOutput("delivering (wave 1 of 3)"))
      << ctl->Finish().stderr_data;
  server_.reset();
  const ProcessResult r = ctl->Finish();
  EXPECT_EQ(r.exit_code, 1) << r.Describe() << r.stderr_data;
  EXPECT_THAT(r.stderr_data,
              HasSubstr("(1 of 3 polls in a row; trying again in 100ms)\n"));
  EXPECT_THAT(r.stderr_data,
              HasSubstr(absl::StrCat(
                  "certfleetctl: gave up watching: 3 polls in a row could not "
                  "reach the coordinator; last: coordinator ",
                  address, ": GetRollout: ")));
}

}  // namespace
}  // namespace certfleet::rollout::testing
