// Crash safety of installs: install_driver (a stand-in for the agent) is
// SIGKILLed at random instants while it installs bundles A and B in turn into
// two targets, with a real reload script and a real health-check script.
// After every kill, and again after a recovery run, every target must serve
// a key and a certificate that match (old or new version, never a mix), and
// after recovery the journal must be settled. A second test kills the
// driver at each failpoint and checks that recovery completes or reverts
// the install as designed.
//
// The random delays come from a seed printed in the output; set
// CERTFLEET_CRASH_SEED to replay a run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/install/health_checker.h"
#include "agent/install/state_files.h"
#include "common/crypto/verify.h"
#include "common/filesystem.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

extern char** environ;

namespace certfleet::agent {
namespace {

using ::certfleet::testing::TempDir;
using ::certfleet::testing::WaitFor;
using ::certfleet::testing::WaitForOk;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kDriver[] = CERTFLEET_INSTALL_DRIVER;
constexpr char kSerialA[] = "0a0a0a0a0a0a";
constexpr char kSerialB[] = "0b0b0b0b0b0b";
constexpr uint64_t kDefaultSeed = 20261128;

struct Child {
  pid_t pid = -1;
  int out = -1;  // the child's stdout
};

// Starts the driver with `args`, stdout to a pipe, stderr appended to `log`.
Child StartDriver(const std::vector<std::string>& args, const std::string& log,
                  const std::string& failpoint = "") {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) abort();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<std::string> argv_s = {kDriver};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("CERTFLEET_FAILPOINT=", 0) != 0) {
      env_s.push_back(*e);
    }
  }
  if (!failpoint.empty()) env_s.push_back("CERTFLEET_FAILPOINT=" + failpoint);
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  Child child;
  if (posix_spawn(&child.pid, kDriver, &actions, nullptr, argv.data(),
                  envp.data()) != 0) {
    abort();
  }
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  child.out = pipe_fds[0];
  return child;
}

// True when the child printed "ready" within `timeout`.
bool WaitReady(const Child& child, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string seen;
  while (absl::Now() < deadline) {
    pollfd p{.fd = child.out, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, 10) <= 0) continue;
    char buf[64];
    const ssize_t n = read(child.out, buf, sizeof buf);
    if (n <= 0) return false;
    seen.append(buf, static_cast<size_t>(n));
    if (seen.find("ready\n") != std::string::npos) return true;
  }
  return false;
}

// The wait status, or -1 when the child did not end within `timeout` (it is
// then killed).
int WaitExit(Child& child, absl::Duration timeout) {
  int status = 0;
  if (!WaitFor(
           "the driver to exit",
           [&] { return waitpid(child.pid, &status, WNOHANG) != 0; }, timeout)
           .ok()) {
    kill(child.pid, SIGKILL);
    waitpid(child.pid, &status, 0);
    status = -1;
  }
  close(child.out);
  return status;
}

// The journal of the target in `dir`, as the agent reads it (none: idle,
// serving nothing).
absl::StatusOr<Journal> ReadJournalOf(const std::string& dir) {
  LocalFilesystem fs;
  absl::StatusOr<std::string> text =
      fs.ReadFile(absl::StrCat(dir, "/", kJournalFileName));
  if (absl::IsNotFound(text.status())) return Journal{};
  if (!text.ok()) return text.status();
  return DecodeJournal(*text);
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const crypto::testing::TestCa ca = crypto::testing::TestCa::Create();
    const absl::Time now = absl::Now();
    WriteBundle(ca, "A", "cert/1", kSerialA, now);
    WriteBundle(ca, "B", "cert/2", kSerialB, now);
    WriteFileOrDie(tmp_.File("ca.pem"), ca.RootPem());
    WriteFileOrDie(tmp_.File("reload.sh"),
                   "#!/bin/sh\n"
                   "# A reload that takes a few milliseconds.\n"
                   "sleep 0.00$(( $$ % 9 + 1 ))\n",
                   0755);
    WriteFileOrDie(
        tmp_.File("health.sh"),
        "#!/bin/sh\n"
        "# $1: the served certificate, through its stable path.\n"
        "dir=$(dirname \"$0\")\n"
        "if [ -f \"$dir/fail-serial\" ] && "
        "[ \"$(cat \"$dir/fail-serial\")\" = \"$CERTFLEET_EXPECTED_SERIAL\" ];"
        " then\n"
        "  echo \"failing on purpose\" >&2; exit 1\n"
        "fi\n"
        "served=$(openssl x509 -in \"$1\" -noout -serial | cut -d= -f2 | "
        "tr A-F a-f)\n"
        "[ \"$served\" = \"$CERTFLEET_EXPECTED_SERIAL\" ] || "
        "{ echo \"serves $served\" >&2; exit 1; }\n",
        0755);
    const std::string t = tmp_.path();
    WriteFileOrDie(
        config_,
        absl::StrCat("coordinators: [\"127.0.0.1:1\"]\n"
                     "coordinator_ca: ca.pem\n"
                     "identity_dir: identity\n"
                     "targets:\n"
                     "  - name: web\n"
                     "    directory: ",
                     t,
                     "/web\n"
                     "    require_names: [www.example.test]\n"
                     "    files:\n"
                     "      - {path: key.pem, format: key}\n"
                     "      - {path: cert.pem, format: cert}\n"
                     "      - {path: fullchain.pem, format: fullchain}\n"
                     "    reload: {command: [\"",
                     t,
                     "/reload.sh\"], timeout: 5s}\n"
                     "    grace: 0s\n"
                     "    health:\n"
                     "      - command: [\"",
                     t, "/health.sh\", \"", t,
                     "/web/cert.pem\"]\n"
                     "    health_timeout: 1s\n"
                     "  - name: lb\n"
                     "    directory: ",
                     t,
                     "/lb\n"
                     "    require_names: [www.example.test]\n"
                     "    files:\n"
                     "      - {path: haproxy.pem, format: combined}\n"
                     "      - {path: tls/key.pem, format: key}\n"
                     "      - {path: tls/cert.pem, format: cert}\n"
                     "    reload: {command: [\"",
                     t,
                     "/reload.sh\"], timeout: 5s}\n"
                     "    grace: 0s\n"
                     "    health:\n"
                     "      - command: [\"",
                     t, "/health.sh\", \"", t,
                     "/lb/tls/cert.pem\"]\n"
                     "    health_timeout: 1s\n"
                     "    keep_versions: 2\n"));
  }

  void WriteBundle(const crypto::testing::TestCa& ca, const std::string& name,
                   const std::string& version_id, const std::string& serial,
                   absl::Time now) {
    const crypto::testing::IssuedCert leaf =
        ca.IssueLeaf({.dns_names = {"www.example.test"},
                      .not_before = now - absl::Hours(1),
                      .not_after = now + absl::Hours(24 * 30),
                      .serial_hex = serial});
    const std::string dir = tmp_.File(name);
    std::filesystem::create_directory(dir);
    WriteFileOrDie(dir + "/version_id", version_id);
    WriteFileOrDie(dir + "/leaf.pem", leaf.cert.ToPem());
    WriteFileOrDie(dir + "/chain.pem", ca.intermediate().ToPem());
    WriteFileOrDie(dir + "/key.pem", leaf.key.ToPem().value(), 0600);
  }

  // Runs the driver to its end; returns its exit status (-1: it hung) and
  // (when `out` is set) what it printed.
  int RunDriver(const std::vector<std::string>& args,
                const std::string& failpoint = "", std::string* out = nullptr) {
    std::vector<std::string> all = {"--config", config_};
    all.insert(all.end(), args.begin(), args.end());
    Child child = StartDriver(all, log_, failpoint);
    if (out != nullptr) {
      char buf[4096];
      ssize_t n;
      while ((n = read(child.out, buf, sizeof buf)) > 0) {
        out->append(buf, static_cast<size_t>(n));
      }
    }
    const int status = WaitExit(child, absl::Seconds(60));
    return status;
  }

  std::string LogTail() const {
    LocalFilesystem fs;
    std::string log = fs.ReadFile(log_).value_or("");
    return log.size() > 3000 ? log.substr(log.size() - 3000) : log;
  }

  // The serial every file of target `name` serves, after checking that each
  // key file matches its certificate and all files are of one version.
  // Records a test failure (with `when`) and returns "" otherwise.
  std::string CheckTarget(const std::string& name, const std::string& when) {
    const std::string dir = tmp_.File(name);
    // Pairs of (file with the key, file with the certificate).
    const std::vector<std::pair<std::string, std::string>> pairs =
        name == "web"
            ? std::vector<
                  std::pair<std::string, std::string>>{{"key.pem", "cert.pem"},
                                                       {"key.pem",
                                                        "fullchain.pem"}}
            : std::vector<std::pair<std::string, std::string>>{
                  {"tls/key.pem", "tls/cert.pem"},
                  {"haproxy.pem", "haproxy.pem"},
                  {"tls/key.pem", "haproxy.pem"}};
    LocalFilesystem fs;
    std::set<std::string> serials;
    for (const auto& [key_file, cert_file] : pairs) {
      absl::StatusOr<std::string> key_pem = fs.ReadFile(dir + "/" + key_file);
      absl::StatusOr<std::string> cert_pem = fs.ReadFile(dir + "/" + cert_file);
      if (!key_pem.ok() || !cert_pem.ok()) {
        ADD_FAILURE() << when << ": " << name << ": "
                      << (key_pem.ok() ? cert_pem.status() : key_pem.status());
        return "";
      }
      absl::StatusOr<crypto::PrivateKey> key =
          crypto::PrivateKey::FromPem(*key_pem);
      absl::StatusOr<crypto::Certificate> cert =
          crypto::Certificate::FromPem(*cert_pem);
      if (!key.ok() || !cert.ok()) {
        ADD_FAILURE() << when << ": " << name << ": "
                      << (key.ok() ? cert.status() : key.status());
        return "";
      }
      const absl::Status match = crypto::CheckKeyMatches(*key, *cert);
      EXPECT_TRUE(match.ok()) << when << ": " << name << " " << key_file
                              << " / " << cert_file << ": " << match;
      serials.insert(cert->SerialHex());
    }
    EXPECT_EQ(serials.size(), 1u)
        << when << ": " << name
        << " mixes versions: " << absl::StrJoin(serials, ", ");
    return serials.size() == 1 ? *serials.begin() : "";
  }

  // After a recovery: the journal is settled on what `current` points at,
  // and nothing half-written is left.
  void CheckSettled(const std::string& name, const std::string& when) {
    const std::string dir = tmp_.File(name);
    absl::StatusOr<Journal> j = ReadJournalOf(dir);
    ASSERT_TRUE(j.ok()) << when << ": " << j.status();
    EXPECT_EQ(j->phase, Journal::Phase::kIdle) << when << ": " << name;
    char buf[512];
    const ssize_t n = readlink((dir + "/current").c_str(), buf, sizeof buf);
    const std::string current =
        n > 10 ? std::string(buf + 10, static_cast<size_t>(n) - 10) : "";
    EXPECT_EQ(j->serving, current) << when << ": " << name;
    EXPECT_EQ(j->candidate, "") << when << ": " << name;
    for (const auto& e :
         std::filesystem::directory_iterator(dir + "/.versions")) {
      EXPECT_NE(e.path().filename().string()[0], '.')
          << when << ": leftover " << e.path();
    }
  }

  std::string Phase(const std::string& name) {
    absl::StatusOr<Journal> j = ReadJournalOf(tmp_.File(name));
    return j.ok() ? std::string(PhaseName(j->phase)) : "unreadable";
  }

  TempDir tmp_{"agent-crash"};
  std::string config_ = tmp_.File("agent.yaml");
  std::string log_ = tmp_.File("driver.log");
};

TEST_F(CrashTest, KillsAtRandomInstantsLeaveMatchingKeysAndCertificates) {
  uint64_t seed = kDefaultSeed;
  if (const char* s = getenv("CERTFLEET_CRASH_SEED")) {
    ASSERT_TRUE(absl::SimpleAtoi(s, &seed)) << s;
  }
  std::cout << "crash test seed " << seed
            << " (set CERTFLEET_CRASH_SEED to replay)" << std::endl;
  std::mt19937_64 rng(seed);

  ASSERT_EQ(RunDriver({"--bundle", tmp_.File("A"), "--count", "1"}), 0)
      << LogTail();
  const std::vector<std::string> loop = {"--bundle", tmp_.File("A"), "--bundle",
                                         tmp_.File("B")};
  std::map<std::string, int> phases;  // journal phase at the kill
  std::set<std::string> served;
  const absl::Time start = absl::Now();
  int kills = 0;
  for (; kills < 120 && absl::Now() - start < absl::Seconds(50); ++kills) {
    const std::string when = absl::StrCat("kill ", kills + 1);
    std::vector<std::string> args = {"--config", config_};
    args.insert(args.end(), loop.begin(), loop.end());
    // Mostly during installs; one time in five during start-up and recovery.
    const bool during_start = rng() % 5 == 0;
    Child child = StartDriver(args, log_);
    if (!during_start) {
      ASSERT_TRUE(WaitReady(child, absl::Seconds(20)))
          << when << ": the driver never got ready\n"
          << LogTail();
    }
    const absl::Duration delay =
        absl::Microseconds(static_cast<int64_t>(rng() % 60000));
    absl::SleepFor(during_start ? delay / 2 : delay);
    kill(child.pid, SIGKILL);
    const int status = WaitExit(child, absl::Seconds(10));
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << when << ": the driver ended on its own (status " << status << ")\n"
        << LogTail();
    for (const std::string name : {"web", "lb"}) {
      ++phases[absl::StrCat(name, ":", Phase(name))];
      served.insert(CheckTarget(name, when));
    }
    ASSERT_EQ(RunDriver({"--recover-only"}), 0) << when << "\n" << LogTail();
    for (const std::string name : {"web", "lb"}) {
      CheckTarget(name, when + ", recovered");
      CheckSettled(name, when + ", recovered");
    }
    if (HasFailure()) break;
  }
  std::vector<std::string> histogram;
  int interrupted = 0;
  for (const auto& [phase, count] : phases) {
    histogram.push_back(absl::StrCat(phase, "=", count));
    if (phase.find(":idle") == std::string::npos) interrupted += count;
  }
  std::cout << kills << " kills in "
            << absl::FormatDuration(absl::Now() - start)
            << "; journal phase at the kill: " << absl::StrJoin(histogram, " ")
            << std::endl;
  EXPECT_GE(kills, 100);
  // Both versions were served at some point, and kills did land inside
  // installs (not only between them).
  EXPECT_TRUE(served.count(kSerialA) && served.count(kSerialB));
  EXPECT_GE(interrupted, 10);
}

// The combined file is what haproxy 2.6 loads as `crt`, and the TLS health
// check reads the serial haproxy serves.
TEST_F(CrashTest, HaproxyServesTheCombinedFile) {
  if (access("/usr/sbin/haproxy", X_OK) != 0) GTEST_SKIP() << "no haproxy";
  ASSERT_EQ(RunDriver({"--bundle", tmp_.File("A"), "--count", "1"}), 0)
      << LogTail();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  const std::string cfg = tmp_.File("haproxy.cfg");
  WriteFileOrDie(cfg,
                 absl::StrCat("defaults\n"
                              "  mode http\n"
                              "  timeout connect 1s\n"
                              "  timeout client 1s\n"
                              "  timeout server 1s\n"
                              "frontend fe\n"
                              "  bind 127.0.0.1:",
                              port, " ssl crt ", tmp_.File("lb/haproxy.pem"),
                              "\n"
                              "  http-request return status 200\n"));
  pid_t pid = -1;
  std::vector<std::string> argv_s = {"/usr/sbin/haproxy", "-db", "-f", cfg};
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  absl::StatusOr<std::string> serial;
  const absl::Status served = WaitForOk(
      "the TLS server to serve the recovered files",
      [&] {
        serial = FetchServedSerial(
            absl::StrCat("127.0.0.1:", port), "www.example.test",
            Context::Background().WithDeadline(absl::Now() + absl::Seconds(2)));
        return serial.status();
      },
      absl::Seconds(30));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_OK(served) << LogTail();
  EXPECT_EQ(*serial, kSerialA);
}

// A host that served files before certfleet: killed while the first install
// keeps them as version "adopted", the target still serves them, and after
// recovery the install goes through.
class AdoptionKillTest : public CrashTest,
                         public ::testing::WithParamInterface<const char*> {};

TEST_P(AdoptionKillTest, KeepsServingTheFilesFoundThere) {
  LocalFilesystem fs;
  const std::string a = tmp_.File("A");
  const std::string leaf = fs.ReadFile(a + "/leaf.pem").value();
  const std::string chain = fs.ReadFile(a + "/chain.pem").value();
  std::filesystem::create_directories(tmp_.File("web"));
  WriteFileOrDie(tmp_.File("web/key.pem"), fs.ReadFile(a + "/key.pem").value(),
                 0600);
  WriteFileOrDie(tmp_.File("web/cert.pem"), leaf);
  WriteFileOrDie(tmp_.File("web/fullchain.pem"), leaf + chain);
  const int status =
      RunDriver({"--bundle", tmp_.File("B"), "--count", "1", "--target", "web"},
                GetParam());
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "failpoint " << GetParam() << " not reached (status " << status
      << ")\n"
      << LogTail();
  EXPECT_EQ(CheckTarget("web", "after the kill"), kSerialA);
  ASSERT_EQ(RunDriver({"--recover-only"}), 0) << LogTail();
  EXPECT_EQ(CheckTarget("web", "recovered"), kSerialA);
  CheckSettled("web", "recovered");
  ASSERT_EQ(RunDriver({"--bundle", tmp_.File("B"), "--count", "1", "--target",
                       "web"}),
            0)
      << LogTail();
  EXPECT_EQ(CheckTarget("web", "installed"), kSerialB);
}

INSTANTIATE_TEST_SUITE_P(Points, AdoptionKillTest,
                         ::testing::Values("agent.adopt.written",
                                           "agent.adopt.swapped"));

struct FailpointCase {
  const char* failpoint;
  bool fail_health_of_b;
  const char* serial_after_recovery;
  // What the driver reports after recovery for B's install, which no
  // delivery result answered ("" = nothing: B was installed or dropped).
  const char* last_failure = "";
};

constexpr char kLastFailureOfB[] = "last_failure web cert/2 health rolled_back";

class FailpointTest : public CrashTest,
                      public ::testing::WithParamInterface<FailpointCase> {};

TEST_P(FailpointTest, RecoveryCompletesOrReverts) {
  const FailpointCase& c = GetParam();
  ASSERT_EQ(RunDriver({"--bundle", tmp_.File("A"), "--count", "1"}), 0)
      << LogTail();
  if (c.fail_health_of_b) WriteFileOrDie(tmp_.File("fail-serial"), kSerialB);
  const int status =
      RunDriver({"--bundle", tmp_.File("B"), "--count", "1", "--target", "web"},
                c.failpoint);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "failpoint " << c.failpoint << " not reached (status " << status
      << ")\n"
      << LogTail();
  const std::string served = CheckTarget("web", "after the kill");
  EXPECT_TRUE(served == kSerialA || served == kSerialB) << served;
  std::string out;
  ASSERT_EQ(RunDriver({"--recover-only"}, "", &out), 0) << LogTail();
  EXPECT_EQ(CheckTarget("web", "recovered"), c.serial_after_recovery);
  CheckSettled("web", "recovered");
  EXPECT_EQ(CheckTarget("lb", "untouched"), kSerialA);
  // A version rolled back by recovery is reported as failed, with its step;
  // it stays reported after another restart.
  if (*c.last_failure == '\0') {
    EXPECT_THAT(out, Not(HasSubstr("last_failure"))) << out;
  } else {
    EXPECT_THAT(out, HasSubstr(c.last_failure)) << out;
    out.clear();
    ASSERT_EQ(RunDriver({"--recover-only"}, "", &out), 0) << LogTail();
    EXPECT_THAT(out, HasSubstr(c.last_failure)) << out;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Points, FailpointTest,
    ::testing::Values(
        FailpointCase{"agent.write", false, kSerialA},
        FailpointCase{"agent.written", false, kSerialA},
        FailpointCase{"agent.swap", false, kSerialA},
        FailpointCase{"agent.swapped", false, kSerialB},
        FailpointCase{"agent.reloaded", false, kSerialB},
        FailpointCase{"agent.healthy", false, kSerialB},
        FailpointCase{"agent.committed", false, kSerialB},
        FailpointCase{"agent.reloaded", true, kSerialA, kLastFailureOfB},
        FailpointCase{"agent.rolling_back", true, kSerialA, kLastFailureOfB},
        FailpointCase{"agent.swapped_back", true, kSerialA, kLastFailureOfB}),
    [](const auto& info) {
      std::string name = info.param.failpoint;
      for (char& ch : name) {
        if (ch == '.') ch = '_';
      }
      return name + (info.param.fail_health_of_b ? "_unhealthy" : "");
    });

}  // namespace
}  // namespace certfleet::agent
