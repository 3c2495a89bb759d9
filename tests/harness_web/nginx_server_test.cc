// nginx 1.22 in the lab: serving, reloading a swapped certificate, failed
// reloads keeping the old certificate, many servers at once, clean stop.
#include "tests/harness/nginx_server.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/context.h"
#include "common/process_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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
using ::testing::Not;
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

// Probes until `serial` is served; how long that took, or the last error.
absl::StatusOr<absl::Duration> WaitForSerial(const std::string& address,
                                             const std::string& serial,
                                             absl::Duration timeout) {
  const absl::Time start = absl::Now();
  std::string last = "nothing probed";
  while (absl::Now() - start < timeout) {
    auto served = ProbeTls(address, kName, kProbeTimeout);
    if (served.ok() && served->serial_hex == serial) return absl::Now() - start;
    last = served.ok() ? "serial " + served->serial_hex
                       : std::string(served.status().message());
    absl::SleepFor(absl::Microseconds(200));
  }
  return absl::DeadlineExceededError(
      absl::StrCat(address, " did not serve ", serial, "; last: ", last));
}

class NginxServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_.Install(a_);
    auto server = NginxServer::Start(
        {.cert_path = files_.cert_path(), .key_path = files_.key_path()});
    ASSERT_THAT(server, IsOk());
    nginx_ = std::move(*server);
    TrackServer(nginx_->pid(), nginx_->dir());
  }

  std::string Served() {
    auto served = ProbeTls(nginx_->address(), kName, kProbeTimeout);
    EXPECT_THAT(served, IsOk());
    return served.ok() ? served->serial_hex : "";
  }

  TempDir dir_{"nginx-test"};
  ServedFiles files_{dir_.path()};
  IssuedCert a_ = IssueWwwLeaf();
  IssuedCert b_ = IssueWwwLeaf();
  std::unique_ptr<NginxServer> nginx_;
};

TEST_F(NginxServerTest, ServesTheInstalledCertificateAndHealthz) {
  auto served = ProbeTls(nginx_->address(), kName, kProbeTimeout);
  ASSERT_THAT(served, IsOk());
  EXPECT_EQ(served->serial_hex, a_.cert.SerialHex());
  EXPECT_EQ(served->subject_cn, kName);
  EXPECT_THAT(served->dns_names, Contains(kName));
  EXPECT_EQ(served->not_after, a_.cert.NotAfter());
  EXPECT_EQ(served->leaf_der, a_.cert.ToDer());
  EXPECT_EQ(nginx_->address(), absl::StrCat("127.0.0.1:", nginx_->port()));

  auto health =
      GetNoVerify(absl::StrCat("https://", nginx_->address(), "/healthz"));
  ASSERT_THAT(health, IsOk());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok");
  auto other = GetNoVerify(absl::StrCat("https://", nginx_->address(), "/x"));
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(other->status, 404);
}

TEST_F(NginxServerTest, PlainHttpListenerAnswersHealthz) {
  auto server = NginxServer::Start({.cert_path = files_.cert_path(),
                                    .key_path = files_.key_path(),
                                    .http_port = -1});
  ASSERT_THAT(server, IsOk());
  TrackServer((*server)->pid(), (*server)->dir());
  ASSERT_GT((*server)->http_port(), 0);
  auto health = GetNoVerify(
      absl::StrCat("http://127.0.0.1:", (*server)->http_port(), "/healthz"));
  ASSERT_THAT(health, IsOk());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok");
}

TEST_F(NginxServerTest, ReloadServesOnlyTheReplacedCertificateAfterwards) {
  files_.Install(b_);
  EXPECT_EQ(Served(), a_.cert.SerialHex()) << "nginx reads files at reload";
  const absl::Time start = absl::Now();
  ASSERT_THAT(nginx_->Reload(), IsOk());
  Report("nginx Reload() until the old worker stops accepting",
         absl::Now() - start);
  // Reload() returns once only the new worker accepts.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Served(), b_.cert.SerialHex()) << i;
}

TEST_F(NginxServerTest, AgentStyleReloadCommandSwitchOverWindow) {
  std::vector<absl::Duration> first_new;
  std::vector<absl::Duration> last_old;
  absl::Duration max_overlap;  // old certificate served after the new one
  for (int i = 0; i < 10; ++i) {
    const IssuedCert& next = i % 2 == 0 ? b_ : a_;
    const IssuedCert& previous = i % 2 == 0 ? a_ : b_;
    files_.Install(next);
    testing::SerialWatcher watcher(nginx_->address(), kName);
    ASSERT_OK(WaitFor("the watcher to see the previous certificate", [&] {
      return watcher.LastSeen(previous.cert.SerialHex()).has_value();
    }));
    const absl::Time start = absl::Now();
    auto result = RunArgv(nginx_->ReloadCommand());
    ASSERT_THAT(result, IsOk());
    ASSERT_TRUE(result->success())
        << result->Describe() << ": " << result->stderr_data;
    ASSERT_THAT(WaitForSerial(nginx_->address(), next.cert.SerialHex(),
                              absl::Seconds(5)),
                IsOk());
    ASSERT_OK(WaitFor("the watcher to see the new certificate", [&] {
      return watcher.FirstSeen(next.cert.SerialHex()).has_value();
    }));
    absl::SleepFor(absl::Milliseconds(250));  // let old-worker answers show
    watcher.Stop();
    EXPECT_EQ(watcher.failures(), 0) << watcher.first_error();
    first_new.push_back(*watcher.FirstSeen(next.cert.SerialHex()) - start);
    last_old.push_back(
        std::max(*watcher.LastSeen(previous.cert.SerialHex()) - start,
                 absl::ZeroDuration()));
    max_overlap = std::max(max_overlap, last_old.back() - first_new.back());
  }
  Report("nginx: longest time both certificates were served", max_overlap);
  std::sort(first_new.begin(), first_new.end());
  std::sort(last_old.begin(), last_old.end());
  Report("nginx -s reload start → first new-serial handshake, min/median/max",
         first_new.front());
  Report("  median", first_new[5]);
  Report("  max", first_new.back());
  Report("nginx -s reload start → last old-serial handshake, min/median/max",
         last_old.front());
  Report("  median", last_old[5]);
  Report("  max", last_old.back());
}

TEST_F(NginxServerTest, BrokenConfigFailsReloadAndKeepsServing) {
  files_.Install(b_);
  ASSERT_THAT(nginx_->BreakConfig(), IsOk());
  EXPECT_THAT(
      nginx_->TestConfig(),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("unknown directive \"certfleet_broken_directive\"")));

  auto result = RunArgv(nginx_->ReloadCommand());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->exit_code, 1);
  EXPECT_THAT(
      result->stderr_data,
      HasSubstr("[emerg] unknown directive \"certfleet_broken_directive\""));
  EXPECT_THAT(nginx_->Reload(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("certfleet_broken_directive")));
  EXPECT_EQ(Served(), a_.cert.SerialHex());
  EXPECT_TRUE(nginx_->process()->Running());

  ASSERT_THAT(nginx_->RestoreConfig(), IsOk());
  EXPECT_THAT(nginx_->TestConfig(), IsOk());
  ASSERT_THAT(nginx_->Reload(), IsOk());
  EXPECT_EQ(Served(), b_.cert.SerialHex());
}

TEST_F(NginxServerTest, MismatchedKeyFailsReloadAndKeepsServing) {
  files_.InstallMismatched(b_, a_);
  auto result = RunArgv(nginx_->ReloadCommand());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->exit_code, 1);
  EXPECT_THAT(result->stderr_data, HasSubstr("key values mismatch"));
  EXPECT_EQ(Served(), a_.cert.SerialHex());

  files_.Install(b_);
  ASSERT_THAT(nginx_->Reload(), IsOk());
  EXPECT_EQ(Served(), b_.cert.SerialHex());
}

TEST_F(NginxServerTest, BackToBackReloadsEndOnTheLastCertificate) {
  const IssuedCert c = IssueWwwLeaf();
  files_.Install(b_);
  auto first = RunArgv(nginx_->ReloadCommand());
  files_.Install(c);
  auto second = RunArgv(nginx_->ReloadCommand());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(first->success()) << first->stderr_data;
  EXPECT_TRUE(second->success()) << second->stderr_data;
  EXPECT_THAT(
      WaitForSerial(nginx_->address(), c.cert.SerialHex(), absl::Seconds(5)),
      IsOk());
}

TEST_F(NginxServerTest, HandshakesDuringReloadsSucceed) {
  testing::SerialWatcher watcher(nginx_->address(), kName);
  for (int i = 0; i < 10; ++i) {
    files_.Install(i % 2 == 0 ? b_ : a_);
    EXPECT_THAT(nginx_->Reload(), IsOk());
  }
  watcher.Stop();
  printf("[ MEASURED ] nginx: %d handshakes during 10 reloads, %d failed\n",
         watcher.handshakes(), watcher.failures());
  EXPECT_GT(watcher.handshakes(), 10);
  EXPECT_EQ(watcher.failures(), 0) << watcher.first_error();
}

TEST_F(NginxServerTest, ConnectionOpenedBeforeReloadStillHandshakes) {
  auto pending = PendingTlsConnection::Open(nginx_->address(), kProbeTimeout);
  ASSERT_THAT(pending, IsOk());
  // The old worker has accepted it (else the new one would, after the
  // reload, with the new certificate).
  ASSERT_OK(WaitFor("the old worker to accept the connection", [&] {
    absl::StatusOr<int> n = testing::PendingAccepts(nginx_->port());
    return n.ok() && *n == 0;
  }));
  files_.Install(b_);
  ASSERT_THAT(nginx_->Reload(), IsOk());
  auto served = pending->Handshake(kName, kProbeTimeout);
  ASSERT_THAT(served, IsOk());
  // The old worker owns the connection and still has the old certificate.
  EXPECT_EQ(served->serial_hex, a_.cert.SerialHex());
  EXPECT_EQ(Served(), b_.cert.SerialHex());
}

TEST_F(NginxServerTest, StartsSixServersQuickly) {
  std::vector<NginxOptions> options(
      6, NginxOptions{.cert_path = files_.cert_path(),
                      .key_path = files_.key_path()});
  absl::Time start = absl::Now();
  auto many = NginxServer::StartMany(options);
  Report("6 nginx with StartMany", absl::Now() - start);
  ASSERT_THAT(many, IsOk());
  ASSERT_EQ(many->size(), 6u);
  std::set<int> ports;
  for (const auto& server : *many) {
    TrackServer(server->pid(), server->dir());
    ports.insert(server->port());
    EXPECT_EQ(Served(), a_.cert.SerialHex());
    auto served = ProbeTls(server->address(), kName, kProbeTimeout);
    ASSERT_THAT(served, IsOk());
    EXPECT_EQ(served->serial_hex, a_.cert.SerialHex());
  }
  EXPECT_EQ(ports.size(), 6u);
  start = absl::Now();
  many->clear();
  Report("stopping 6 nginx", absl::Now() - start);

  start = absl::Now();
  std::vector<std::unique_ptr<NginxServer>> one_by_one;
  for (const NginxOptions& o : options) {
    auto server = NginxServer::Start(o);
    ASSERT_THAT(server, IsOk());
    TrackServer((*server)->pid(), (*server)->dir());
    one_by_one.push_back(std::move(*server));
  }
  Report("6 nginx one after another", absl::Now() - start);
}

TEST_F(NginxServerTest, DestructorStopsMasterAndWorkers) {
  const pid_t master = nginx_->pid();
  const std::string dir = nginx_->dir();
  ASSERT_THAT(nginx_->Reload(), IsOk());  // old + new worker generations
  const std::vector<pid_t> before = testing::LiveProcesses(master, dir);
  EXPECT_GE(before.size(), 2u) << "master and at least one worker";
  EXPECT_THAT(before, Contains(master));
  nginx_.reset();
  EXPECT_THAT(testing::LiveProcesses(master, dir), ::testing::IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(NginxServerStartTest, MissingCertificateFailsWithNginxMessage) {
  TempDir dir("nginx-test");
  auto server = NginxServer::Start({.cert_path = dir.File("absent.pem"),
                                    .key_path = dir.File("absent-key.pem")});
  EXPECT_THAT(server, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("absent.pem")));
}

TEST(NginxServerStartTest, RequiresCertificatePaths) {
  EXPECT_THAT(NginxServer::Start({}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cert_path and key_path")));
}

}  // namespace
}  // namespace certfleet::harness
