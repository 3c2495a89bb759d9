#include "tests/agentapi/e2e_fixture.h"

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "agent/client/enroll.h"
#include "common/crypto/certificate.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "common/crypto/verify.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agentapi::testing {
namespace {

// Target "www": key and full chain, a reload, one TLS health check (fake).
agent::TargetSpec WwwTarget(const std::string& directory) {
  using Format = agent::FileSpec::Format;
  agent::TargetSpec t;
  t.name = "www";
  t.directory = directory;
  t.require_names = {"www.example.test"};
  t.files = {{.path = "key.pem", .format = Format::kKey},
             {.path = "cert.pem", .format = Format::kCert},
             {.path = "fullchain.pem", .format = Format::kFullchain}};
  t.reload_command = {"/usr/sbin/reload-www"};
  t.grace = absl::Seconds(1);
  t.health = {{.kind = agent::HealthCheckSpec::Kind::kTls,
               .address = "127.0.0.1:8443",
               .server_name = "www.example.test"}};
  t.health_timeout = absl::Seconds(5);
  return t;
}

}  // namespace

void RecordingSessionObserver::OnConnected(const std::string& coordinator) {
  absl::MutexLock lock(&mu_);
  ++connects_;
  connected_to_.push_back(coordinator);
}

std::vector<std::string> RecordingSessionObserver::connected_to() const {
  absl::MutexLock lock(&mu_);
  return connected_to_;
}

void RecordingSessionObserver::OnDisconnected(const std::string&,
                                              const std::string& why) {
  absl::MutexLock lock(&mu_);
  disconnects_.push_back(why);
}

void RecordingSessionObserver::OnIdentityRefused(const std::string&,
                                                 const std::string& reason) {
  absl::MutexLock lock(&mu_);
  identity_refusals_.push_back(reason);
}

std::vector<std::string> RecordingSessionObserver::identity_refusals() const {
  absl::MutexLock lock(&mu_);
  return identity_refusals_;
}

int RecordingSessionObserver::connects() const {
  absl::MutexLock lock(&mu_);
  return connects_;
}

std::vector<std::string> RecordingSessionObserver::disconnects() const {
  absl::MutexLock lock(&mu_);
  return disconnects_;
}

AgentApiE2eTest::AgentApiE2eTest()
    : clock_(absl::Now()),
      c_(clock_, {delivery::testing::WebCertificate()}),
      install_clock_(absl::Now()),
      identities_(tmp_.File("identity"), fs_) {
  config_.coordinators = {"unused"};
  config_.identity_dir = tmp_.File("identity");
  config_.targets.push_back(WwwTarget(tmp_.File("www")));
}

AgentApiE2eTest::~AgentApiE2eTest() {
  StopAgent();
  StopServer();
}

void AgentApiE2eTest::StartServer(int port) {
  absl::StatusOr<std::unique_ptr<AgentServer>> server =
      AgentServer::Start({.listen = absl::StrCat("127.0.0.1:", port),
                          .server_names = {"127.0.0.1"},
                          .limits = server_limits_,
                          .observer = &c_.observer,
                          .clock = &clock_},
                         *c_.ca, *c_.enrollment, *c_.hub);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  port_ = server_->port();
}

void AgentApiE2eTest::StopServer() {
  if (server_ == nullptr) return;
  server_->Shutdown(absl::ZeroDuration());
  server_.reset();
}

std::string AgentApiE2eTest::Address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::StatusOr<agent::Identity> AgentApiE2eTest::EnrollWith(
    const std::string& token,
    const std::map<std::string, std::string>& labels) {
  return agent::Enroll({.coordinators = {Address()},
                        .coordinator_ca_pem = c_.ca->ca_pem(),
                        .token = token,
                        .hostname = "web-1",
                        .labels = labels,
                        .timeout = absl::Seconds(10)});
}

absl::StatusOr<agent::Identity> AgentApiE2eTest::EnrollAgent(
    const std::map<std::string, std::string>& labels) {
  absl::StatusOr<agent::Identity> id = EnrollWith(c_.NewToken(labels), labels);
  if (!id.ok()) return id;
  if (absl::Status s = identities_.Save(*id); !s.ok()) return s;
  agent_id_ = id->agent_id;
  return id;
}

void AgentApiE2eTest::StartAgent() {
  absl::StatusOr<std::unique_ptr<agent::TargetManager>> targets =
      agent::TargetManager::Create(config_, runner_, install_clock_, checker_,
                                   nullptr);
  ASSERT_TRUE(targets.ok()) << targets.status();
  targets_ = *std::move(targets);
  session_ = std::make_unique<agent::AgentSession>(
      agent::SessionOptions{.coordinators = coordinators_.empty()
                                                ? std::vector{Address()}
                                                : coordinators_,
                            .reconnect = {.initial = absl::Milliseconds(20),
                                          .max = absl::Milliseconds(200),
                                          .jitter = 0.5},
                            .hostname = "web-1"},
      identities_, *targets_, session_clock_, &session_observer_);
  cancel_ = std::make_shared<Cancellation>();
  const Context ctx = Context::Background().WithCancellation(cancel_);
  session_thread_ = std::thread([this, ctx] { session_->Run(ctx); });
}

void AgentApiE2eTest::StopAgent() {
  if (session_ == nullptr) return;
  cancel_->Cancel();
  session_thread_.join();
  session_.reset();
  targets_.reset();
}

std::optional<store::TargetStateRecord> AgentApiE2eTest::WwwState() {
  return c_.store.TargetState(agent_id_, "www");
}

absl::Status AgentApiE2eTest::WaitInstalled(const std::string& version_id,
                                            const std::string& serial) {
  return ::certfleet::testing::WaitFor(
      absl::StrCat("www recorded as serving ", version_id, " (serial ", serial,
                   "), healthy"),
      [&] {
        std::optional<store::TargetStateRecord> s = WwwState();
        return s && s->installed_version_id == version_id &&
               s->serial == serial && s->healthy;
      });
}

std::string AgentApiE2eTest::ServedSerial() const {
  LocalFilesystem fs;
  const std::string dir = config_.targets[0].directory;
  absl::StatusOr<std::string> key_pem = fs.ReadFile(dir + "/key.pem");
  absl::StatusOr<std::string> cert_pem = fs.ReadFile(dir + "/cert.pem");
  if (!key_pem.ok() || !cert_pem.ok()) return "";
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::FromPem(*key_pem);
  absl::StatusOr<crypto::Certificate> cert =
      crypto::Certificate::FromPem(*cert_pem);
  if (!key.ok() || !cert.ok()) return "";
  if (!crypto::CheckKeyMatches(*key, *cert).ok()) return "mismatch";
  return cert->SerialHex();
}

std::map<std::string, std::string> AgentApiE2eTest::Snapshot() const {
  const std::string dir = config_.targets[0].directory;
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    const std::string rel = e.path().string().substr(dir.size());
    if (e.is_symlink()) {
      out[rel] = "-> " + std::filesystem::read_symlink(e.path(), ec).string();
    } else if (e.is_regular_file()) {
      out[rel] = ::certfleet::testing::ReadFileOrDie(e.path().string());
    } else {
      out[rel] = "(directory)";
    }
  }
  return out;
}

}  // namespace certfleet::agentapi::testing
