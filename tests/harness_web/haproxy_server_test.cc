// HAProxy 2.6 in the lab: serving, reloading a swapped combined PEM,
// failed reloads keeping the old certificate, clean stop.
#include "tests/harness/haproxy_server.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/context.h"
#include "common/process_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/harness_files.h"
#include "tests/harness/tls_probe.h"
#include "tests/harness_web/web_test_support.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

namespace certfleet::harness {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::certfleet::testing::WaitFor;
using ::testing::Contains;
using testing::GetNoVerify;
using ::testing::HasSubstr;
using testing::IssuedCert;
using testing::IssueWwwLeaf;
using testing::Report;
using testing::ServedFiles;
using testing::TrackServer;

constexpr char kName[] = "www.example.test";
constexpr absl::Duration kProbeTimeout = absl::Seconds(2);

absl::StatusOr<ProcessResult> RunArgv(const std::vector<std::string>& argv) {
  SubprocessRunner runner;
  return runner.Run({.argv = argv, .timeout = absl::Seconds(30)},
                    Context::Background());
}

class HaproxyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_.Install(a_);
    auto server =
        HaproxyServer::Start({.combined_pem_path = files_.combined_path()});
    ASSERT_THAT(server, IsOk());
    haproxy_ = std::move(*server);
    TrackServer(haproxy_->pid(), haproxy_->dir());
  }

  std::string Served() {
    auto served = ProbeTls(haproxy_->address(), kName, kProbeTimeout);
    EXPECT_THAT(served, IsOk());
    return served.ok() ? served->serial_hex : "";
  }

  TempDir dir_{"haproxy-test"};
  ServedFiles files_{dir_.path()};
  IssuedCert a_ = IssueWwwLeaf();
  IssuedCert b_ = IssueWwwLeaf();
  std::unique_ptr<HaproxyServer> haproxy_;
};

TEST_F(HaproxyServerTest, ServesTheInstalledCertificateAndHealthz) {
  auto served = ProbeTls(haproxy_->address(), kName, kProbeTimeout);
  ASSERT_THAT(served, IsOk());
  EXPECT_EQ(served->serial_hex, a_.cert.SerialHex());
  EXPECT_EQ(served->subject_cn, kName);
  EXPECT_THAT(served->dns_names, Contains(kName));
  EXPECT_EQ(served->leaf_der, a_.cert.ToDer());

  auto health =
      GetNoVerify(absl::StrCat("https://", haproxy_->address(), "/healthz"));
  ASSERT_THAT(health, IsOk());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok");
  auto other = GetNoVerify(absl::StrCat("https://", haproxy_->address(), "/x"));
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(other->status, 404);
}

TEST_F(HaproxyServerTest, ReloadServesOnlyTheReplacedCertificateAfterwards) {
  files_.Install(b_);
  EXPECT_EQ(Served(), a_.cert.SerialHex()) << "HAProxy reads crt at reload";
  const absl::Time start = absl::Now();
  ASSERT_THAT(haproxy_->Reload(), IsOk());
  Report("haproxy Reload() (check, signal, verdict, ready again)",
         absl::Now() - start);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Served(), b_.cert.SerialHex()) << i;
  EXPECT_TRUE(haproxy_->process()->Running()) << "the master keeps its PID";
  EXPECT_TRUE(haproxy_->ReadyForReload());
}

TEST_F(HaproxyServerTest, ReloadCommandsBackToBackAreNotDropped) {
  // A bare SIGUSR2 right after start-up or right after a reload is
  // dropped by HAProxy 2.6; the reload command waits for the master.
  const IssuedCert c = IssueWwwLeaf();
  for (const IssuedCert* next : {&std::as_const(b_), &c, &std::as_const(a_)}) {
    files_.Install(*next);
    auto result = RunArgv(haproxy_->ReloadCommand());
    ASSERT_THAT(result, IsOk());
    ASSERT_TRUE(result->success())
        << result->Describe() << ": " << result->stderr_data;
    EXPECT_EQ(Served(), next->cert.SerialHex());
  }
}

TEST_F(HaproxyServerTest, AgentStyleReloadCommandSwitchOverWindow) {
  std::vector<absl::Duration> first_new;
  std::vector<absl::Duration> last_old;
  absl::Duration max_overlap;  // old certificate served after the new one
  std::vector<absl::Duration> command;
  for (int i = 0; i < 10; ++i) {
    const IssuedCert& next = i % 2 == 0 ? b_ : a_;
    const IssuedCert& previous = i % 2 == 0 ? a_ : b_;
    files_.Install(next);
    testing::SerialWatcher watcher(haproxy_->address(), kName);
    ASSERT_OK(WaitFor("the watcher to see the previous certificate", [&] {
      return watcher.LastSeen(previous.cert.SerialHex()).has_value();
    }));
    const absl::Time start = absl::Now();
    auto result = RunArgv(haproxy_->ReloadCommand());
    ASSERT_THAT(result, IsOk());
    ASSERT_TRUE(result->success())
        << result->Describe() << ": " << result->stderr_data;
    command.push_back(absl::Now() - start);
    ASSERT_OK(WaitFor("the watcher to see the new certificate", [&] {
      return watcher.FirstSeen(next.cert.SerialHex()).has_value();
    }));
    absl::SleepFor(absl::Milliseconds(100));  // let old-worker answers show
    watcher.Stop();
    EXPECT_EQ(watcher.failures(), 0) << watcher.first_error();
    first_new.push_back(*watcher.FirstSeen(next.cert.SerialHex()) - start);
    last_old.push_back(
        std::max(*watcher.LastSeen(previous.cert.SerialHex()) - start,
                 absl::ZeroDuration()));
    max_overlap = std::max(max_overlap, last_old.back() - first_new.back());
    EXPECT_LE(last_old.back(), command.back())
        << "the old certificate was served after the command returned";
  }
  Report("haproxy: longest time both certificates were served", max_overlap);
  std::sort(first_new.begin(), first_new.end());
  std::sort(last_old.begin(), last_old.end());
  std::sort(command.begin(), command.end());
  Report("haproxy reload command duration, min", command.front());
  Report("  median", command[5]);
  Report("  max", command.back());
  Report("haproxy reload command start → first new-serial handshake, min",
         first_new.front());
  Report("  median", first_new[5]);
  Report("  max", first_new.back());
  Report("haproxy reload command start → last old-serial handshake, min",
         last_old.front());
  Report("  median", last_old[5]);
  Report("  max", last_old.back());
}

TEST_F(HaproxyServerTest, BrokenConfigFailsReloadAndKeepsServing) {
  files_.Install(b_);
  ASSERT_THAT(haproxy_->BreakConfig(), IsOk());
  EXPECT_THAT(
      haproxy_->CheckConfig(),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("unknown keyword 'certfleet_broken_keyword'")));

  auto result = RunArgv(haproxy_->ReloadCommand());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->exit_code, 1);
  EXPECT_THAT(result->stderr_data,
              HasSubstr("unknown keyword 'certfleet_broken_keyword'"));
  EXPECT_THAT(haproxy_->Reload(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("certfleet_broken_keyword")));
  EXPECT_EQ(Served(), a_.cert.SerialHex());

  ASSERT_THAT(haproxy_->RestoreConfig(), IsOk());
  ASSERT_THAT(haproxy_->Reload(), IsOk());
  EXPECT_EQ(Served(), b_.cert.SerialHex());
}

TEST_F(HaproxyServerTest, MasterReportsLoadingFailureWhenSignalledBlindly) {
  // What happens to an agent that signals without checking first.
  files_.InstallMismatched(b_, a_);
  ASSERT_TRUE(haproxy_->ReadyForReload()) << "Start() waits for it";
  LogCursor cursor(haproxy_->log_path());
  ASSERT_EQ(kill(haproxy_->pid(), SIGUSR2), 0);
  std::string log;
  EXPECT_OK(WaitFor("haproxy to log the failed reload", [&] {
    log += cursor.ReadNewLines();
    return absl::StrContains(log, "Loading failure!");
  }));
  EXPECT_THAT(log, HasSubstr("inconsistencies between private key and "
                             "certificate"));
  EXPECT_THAT(log, HasSubstr("Loading failure!"));
  EXPECT_EQ(Served(), a_.cert.SerialHex());
  EXPECT_TRUE(haproxy_->process()->Running());

  files_.Install(b_);
  ASSERT_THAT(haproxy_->Reload(), IsOk());
  EXPECT_EQ(Served(), b_.cert.SerialHex());
}

TEST_F(HaproxyServerTest, MismatchedKeyFailsReloadCommand) {
  files_.InstallMismatched(b_, a_);
  auto result = RunArgv(haproxy_->ReloadCommand());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->exit_code, 1);
  EXPECT_THAT(result->stderr_data,
              HasSubstr("inconsistencies between private key and certificate"));
  EXPECT_EQ(Served(), a_.cert.SerialHex());
}

TEST_F(HaproxyServerTest, HandshakesDuringReloadsSucceed) {
  testing::SerialWatcher watcher(haproxy_->address(), kName);
  for (int i = 0; i < 10; ++i) {
    files_.Install(i % 2 == 0 ? b_ : a_);
    EXPECT_THAT(haproxy_->Reload(), IsOk());
  }
  watcher.Stop();
  printf("[ MEASURED ] haproxy: %d handshakes during 10 reloads, %d failed\n",
         watcher.handshakes(), watcher.failures());
  EXPECT_GT(watcher.handshakes(), 10);
  EXPECT_EQ(watcher.failures(), 0) << watcher.first_error();
}

TEST_F(HaproxyServerTest, ConnectionOpenedBeforeReloadStillHandshakes) {
  auto pending = PendingTlsConnection::Open(haproxy_->address(), kProbeTimeout);
  ASSERT_THAT(pending, IsOk());
  // The old worker has accepted it (else the new one would, after the
  // reload, with the new certificate).
  ASSERT_OK(WaitFor("the old worker to accept the connection", [&] {
    absl::StatusOr<int> n = testing::PendingAccepts(haproxy_->port());
    return n.ok() && *n == 0;
  }));
  files_.Install(b_);
  ASSERT_THAT(haproxy_->Reload(), IsOk());
  auto served = pending->Handshake(kName, kProbeTimeout);
  ASSERT_THAT(served, IsOk());
  EXPECT_EQ(served->serial_hex, a_.cert.SerialHex());
  EXPECT_EQ(Served(), b_.cert.SerialHex());
}

TEST_F(HaproxyServerTest, DestructorStopsMasterAndWorkers) {
  const pid_t master = haproxy_->pid();
  const std::string dir = haproxy_->dir();
  const std::vector<pid_t> before = testing::LiveProcesses(master, dir);
  EXPECT_GE(before.size(), 2u) << "master and worker";
  EXPECT_THAT(before, Contains(master));
  haproxy_.reset();
  EXPECT_THAT(testing::LiveProcesses(master, dir), ::testing::IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(HaproxyServerStartTest, MissingPemFailsWithHaproxyMessage) {
  TempDir dir("haproxy-test");
  auto server =
      HaproxyServer::Start({.combined_pem_path = dir.File("absent.pem")});
  EXPECT_THAT(server, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("absent.pem")));
}

}  // namespace
}  // namespace certfleet::harness
