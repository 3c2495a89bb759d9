#include "tests/agent_attack/attack_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "agent/client/identity.h"
#include "common/filesystem.h"
#include "common/process_runner.h"
#include "google/protobuf/util/time_util.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::agent_attack {
namespace {

using ::certfleet::testing::ReadFileOrDie;
using ::certfleet::testing::WriteFileOrDie;

constexpr char kSecret[] = "TOP SECRET: the root-only file\n";
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

const crypto::testing::TestCa& Issuer() {
  static const auto* ca = new crypto::testing::TestCa(
      crypto::testing::TestCa::Create("Agent Attack Test"));
  return *ca;
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

ProcessResult RunOrDie(const std::vector<std::string>& argv) {
  SubprocessRunner runner;
  absl::StatusOr<ProcessResult> r = runner.Run(
      {.argv = argv, .timeout = absl::Seconds(30)}, Context::Background());
  if (!r.ok()) {
    ADD_FAILURE() << argv[0] << ": " << r.status();
    return ProcessResult{};
  }
  return *std::move(r);
}

}  // namespace

void AttackTest::SetUp() {
  // Tests run as root here and in CI; the attacker is nobody.
  ASSERT_EQ(geteuid(), 0u) << "the attack tests need root (to be the agent)";
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0755), 0);
  ASSERT_OK_AND_ASSIGN(coordinator_, FakeCoordinator::Start());
  ASSERT_EQ(mkdir(File("agent").c_str(), 0700), 0);
  config_ = File("agent/agent.yaml");
  WriteFileOrDie(File("agent/ca.pem"), coordinator_->ca_pem());
  LocalFilesystem fs;
  ASSERT_OK_AND_ASSIGN(agent::Identity id,
                       coordinator_->NewIdentity("agt-attack"));
  ASSERT_OK(agent::IdentityStore(File("agent/identity"), fs).Save(id));

  WriteFileOrDie(File("secret"), kSecret, 0640);
  RootDir("decoy-etc/ssl/certs");
  WriteFileOrDie(File("decoy-etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  WriteFileOrDie(File("decoy-etc/shadow"), "root:$6$decoy:19000::::::\n", 0640);
  WriteFileOrDie(File("decoy-etc/ssl/certs/ca.pem"), Issuer().RootPem());
  RootDir("victim");
  WriteFileOrDie(File("victim/keep.txt"), "must survive\n");
}

void AttackTest::TearDown() {
  StopAgent();
  // The agent's log when the test failed (or CERTFLEET_SHOW_AGENT_LOG is
  // set, to read what an operator sees).
  if (HasFailure() || getenv("CERTFLEET_SHOW_AGENT_LOG") != nullptr) {
    fprintf(stderr, "agent log:\n%s\n", AgentLog().c_str());
  }
}

void AttackTest::AsNobody(const std::string& script) {
  const ProcessResult r =
      RunOrDie({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups", "/bin/sh", "-ec", script});
  EXPECT_TRUE(r.success()) << "as nobody: " << script << ": " << r.Describe()
                           << ": " << r.stderr_data;
}

void AttackTest::AsRoot(const std::string& script) {
  const ProcessResult r = RunOrDie({"/bin/sh", "-ec", script});
  EXPECT_TRUE(r.success()) << "as root: " << script << ": " << r.Describe()
                           << ": " << r.stderr_data;
}

std::string AttackTest::Foothold(const std::string& rel) {
  const std::string dir = RootDir(rel);
  EXPECT_EQ(chown(dir.c_str(), kNobody, kNogroup), 0);
  return dir;
}

std::string AttackTest::RootDir(const std::string& rel) {
  const std::string dir = File(rel);
  std::filesystem::create_directories(dir);
  // Every component up to the lab root, whatever the umask.
  for (std::string d = dir; d.size() > tmp_.path().size();
       d = d.substr(0, d.find_last_of('/'))) {
    EXPECT_EQ(chmod(d.c_str(), 0755), 0) << d;
  }
  return dir;
}

void AttackTest::WriteConfig(const std::string& www_dir,
                             const std::string& www_extra) {
  auto target = [](const std::string& name, const std::string& dir,
                   const std::string& extra) {
    return absl::StrCat("  - name: ", name, "\n",
                        "    directory: ", Quoted(dir), "\n",
                        "    require_names: [www.example.test]\n"
                        "    files:\n"
                        "      - {path: fullchain.pem, format: fullchain}\n"
                        "      - {path: privkey.pem, format: key}\n"
                        "    reload: {command: [/bin/true]}\n"
                        "    grace: 0s\n",
                        extra);
  };
  WriteFileOrDie(
      config_,
      absl::StrCat("coordinators: [", Quoted(coordinator_->address()), "]\n",
                   "coordinator_ca: ca.pem\n", "identity_dir: identity\n",
                   "reconnect: {initial: 100ms, max: 500ms}\n", "targets:\n",
                   target("www", www_dir, www_extra),
                   target("ok", File("ok"), "")));
}

void AttackTest::StartAgent(const std::string& failpoint) {
  harness::ServerSpec spec{.name = "certfleet-agent",
                           .argv = {CERTFLEET_AGENT_BINARY, "run", "--config",
                                    config_, "--log-level", "debug"},
                           .log_path = File("agent/agent.log")};
  if (!failpoint.empty()) {
    spec.extra_env.emplace_back("CERTFLEET_FAILPOINT", failpoint);
  }
  ASSERT_OK_AND_ASSIGN(agent_, harness::ServerProcess::Start(std::move(spec)));
}

void AttackTest::StopAgent() {
  if (agent_ == nullptr) return;
  agent_->Stop();
  agent_.reset();
}

std::pair<int, std::string> AttackTest::CheckConfig() {
  const ProcessResult r =
      RunOrDie({CERTFLEET_AGENT_BINARY, "check-config", config_});
  return {r.exit_code, r.stderr_data + r.stdout_data};
}

std::string AttackTest::AgentLog() const {
  LocalFilesystem fs;
  return fs.ReadFile(File("agent/agent.log")).value_or("");
}

std::vector<std::string> AttackTest::ErrorLines() const {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(AgentLog(), '\n')) {
    if (absl::StrContains(line, "Z E ")) out.emplace_back(line);
  }
  return out;
}

v1::DesiredBundle AttackTest::MakeBundle(const std::string& target,
                                         int n) const {
  const std::string serial = absl::StrFormat("5e%02x", n);
  const crypto::testing::IssuedCert leaf =
      Issuer().IssueLeaf({.dns_names = {"www.example.test"},
                          .not_before = absl::Now() - absl::Hours(1),
                          .not_after = absl::Now() + absl::Hours(24 * 30),
                          .serial_hex = serial});
  v1::DesiredBundle b;
  b.set_target(target);
  b.set_version_id(absl::StrCat("web/", n));
  b.set_certificate("web");
  b.set_leaf_pem(leaf.cert.ToPem());
  b.set_chain_pem(Issuer().intermediate().ToPem());
  b.set_key_pem(leaf.key.ToPem().value());
  *b.mutable_not_after() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
      absl::ToUnixSeconds(leaf.cert.NotAfter()));
  b.set_nonce(absl::StrCat("nonce-", target, "-", n));
  return b;
}

v1::DeliveryResult AttackTest::Deliver(const std::string& target, int n) {
  const v1::DesiredBundle b = MakeBundle(target, n);
  EXPECT_OK(coordinator_->SendBundle(b, kWait));
  absl::StatusOr<v1::DeliveryResult> r =
      coordinator_->WaitForResult(target, b.version_id(), kWait);
  EXPECT_OK(r);
  return r.value_or(v1::DeliveryResult{});
}

int AttackTest::Inventories() const {
  int n = 0;
  for (const v1::AgentMessage& m : coordinator_->Received()) {
    if (m.has_inventory()) ++n;
  }
  return n;
}

Snapshot AttackTest::TakeSnapshot(const std::set<std::string>& skip) const {
  Snapshot out;
  std::set<std::string> skipped = skip;
  skipped.insert(File("agent"));
  skipped.insert(File("ok"));
  std::error_code ec;
  auto it = std::filesystem::recursive_directory_iterator(tmp_.path(), ec);
  for (; it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string path = it->path().string();
    if (skipped.count(path)) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    std::string entry =
        absl::StrFormat("%c %04o %d:%d",
                        S_ISDIR(st.st_mode)   ? 'd'
                        : S_ISLNK(st.st_mode) ? 'l'
                        : S_ISREG(st.st_mode) ? 'f'
                                              : '?',
                        st.st_mode & 07777, st.st_uid, st.st_gid);
    if (S_ISREG(st.st_mode)) {
      // Short files verbatim (readable in a failure), others by digest.
      const std::string content = ReadFileOrDie(path);
      absl::StrAppend(
          &entry, " ",
          content.size() <= 64
              ? content
              : absl::StrFormat("%d bytes, hash %016x", content.size(),
                                std::hash<std::string>()(content)));
    } else if (S_ISLNK(st.st_mode)) {
      absl::StrAppend(&entry, " -> ",
                      std::filesystem::read_symlink(path, ec).string());
    }
    out[path.substr(tmp_.path().size())] = entry;
  }
  return out;
}

std::vector<std::string> AttackTest::Suspicious(const std::string& dir) const {
  std::vector<std::string> out;
  std::error_code ec;
  auto it = std::filesystem::recursive_directory_iterator(dir, ec);
  for (; it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string path = it->path().string();
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    if (st.st_mode & (S_ISUID | S_ISGID | S_ISVTX)) {
      out.push_back(
          absl::StrFormat("%s has mode %04o", path, st.st_mode & 07777));
    }
    if (S_ISREG(st.st_mode) && ReadFileOrDie(path) == kSecret) {
      out.push_back(path + " holds the secret");
    }
  }
  return out;
}

}  // namespace certfleet::agent_attack
