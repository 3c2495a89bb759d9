#include "bench/fleet_coordinator.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "common/filesystem.h"
#include "common/status_macros.h"
#include "coordinator/store/version_id.h"
#include "tests/delivery/test_versions.h"

namespace certfleet::bench {

void FleetCoordinator::Counter::OnDeliveryResult(
    const v1::DeliveryResult& result) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu);
  Tally& t = by_version[result.version_id()];
  if (result.ok()) {
    ++t.ok;
    t.last_ok = now;
  } else {
    ++t.failed;
    if (t.first_error.empty()) {
      t.first_error = absl::StrCat(result.failed_step(), ": ", result.error());
    }
  }
}

absl::StatusOr<std::unique_ptr<FleetCoordinator>> FleetCoordinator::Start(
    const std::string& dir) {
  std::unique_ptr<FleetCoordinator> c(new FleetCoordinator());
  LocalFilesystem fs;
  ASSIGN_OR_RETURN(crypto::Kek kek,
                   crypto::Kek::LoadOrCreate(dir + "/kek", fs));
  c->kek_.emplace(std::move(kek));
  ASSIGN_OR_RETURN(c->store_, store::SqliteStore::Open(dir + "/store.db"));
  ASSIGN_OR_RETURN(c->ca_, identity::InternalCa::LoadOrCreate(
                               *c->store_, *c->kek_, c->clock_));
  c->tokens_ =
      std::make_unique<identity::BootstrapTokens>(*c->store_, c->clock_);
  c->enrollment_ = std::make_unique<identity::EnrollmentService>(
      *c->store_, *c->ca_, *c->tokens_, c->clock_,
      identity::EnrollmentOptions{.identity_lifetime = absl::Hours(24)});
  config::CertificateConfig cert;
  cert.name = kBenchCertificate;
  cert.names = {"www.bench.test"};
  cert.issuer = "bench";
  cert.targets = {config::TargetSelector{.target = kBenchTarget}};
  c->assignments_ = std::make_unique<delivery::Assignments>(
      std::vector<config::CertificateConfig>{cert});
  c->hub_ = std::make_unique<delivery::AgentHub>(
      *c->store_, *c->kek_, *c->assignments_, *c->enrollment_, c->ca_->ca_pem(),
      c->clock_, &c->counter_);
  ASSIGN_OR_RETURN(c->server_,
                   agentapi::AgentServer::Start(
                       {.listen = "127.0.0.1:0", .server_names = {"127.0.0.1"}},
                       *c->ca_, *c->enrollment_, *c->hub_));
  c->test_ca_.emplace(crypto::testing::TestCa::Create("Certfleet Bench"));
  return c;
}

FleetCoordinator::~FleetCoordinator() {
  // Streams first (their reactors post to the hub), then the hub.
  if (server_) server_->Shutdown(absl::ZeroDuration());
  server_.reset();
  hub_.reset();
}

std::string FleetCoordinator::address() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

absl::StatusOr<std::string> FleetCoordinator::CreateToken() {
  return tokens_->Create({}, absl::Hours(24), "benchmark agent");
}

absl::StatusOr<FleetCoordinator::Identity> FleetCoordinator::EnrollDirect(
    const std::string& hostname) {
  ASSIGN_OR_RETURN(std::string token, CreateToken());
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEc256));
  ASSIGN_OR_RETURN(std::string csr, crypto::BuildCsrDer(key, {hostname}));
  ASSIGN_OR_RETURN(identity::EnrollmentService::EnrollResult r,
                   enrollment_->Enroll(token, csr, hostname, {}));
  ASSIGN_OR_RETURN(std::string key_pem, key.ToPem());
  return Identity{r.agent_id, std::move(key_pem), r.certificate_pem};
}

absl::StatusOr<FleetCoordinator::Published> FleetCoordinator::PublishVersion() {
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(delivery::testing::TestVersion v,
                   delivery::testing::MakeTestVersion(
                       *test_ca_, *kek_,
                       {.certificate = kBenchCertificate,
                        .names = {"www.bench.test"},
                        .not_before = now - absl::Hours(1),
                        .not_after = now + absl::Hours(24 * 30),
                        .created_at = now}));
  ASSIGN_OR_RETURN(int64_t number, store_->AddVersion(v.record));
  Published p{store::VersionId(kBenchCertificate, number), absl::Now()};
  hub_->NotifyVersion(kBenchCertificate);
  return p;
}

absl::StatusOr<absl::Time> FleetCoordinator::WaitForOk(
    const std::string& version_id, size_t n, absl::Duration timeout) {
  absl::MutexLock lock(&counter_.mu);
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(counter_.mu) {
    return counter_.by_version[version_id].ok >= n;
  };
  if (!counter_.mu.AwaitWithTimeout(absl::Condition(&done), timeout)) {
    const Counter::Tally& t = counter_.by_version[version_id];
    return absl::DeadlineExceededError(absl::StrCat(
        version_id, ": ", t.ok, " of ", n,
        " agents reported it installed "
        "within ",
        absl::FormatDuration(timeout), " (", t.failed, " failed",
        t.first_error.empty() ? "" : ", first: " + t.first_error, ")"));
  }
  return counter_.by_version[version_id].last_ok;
}

size_t FleetCoordinator::Failed(const std::string& version_id,
                                std::string* first_error) {
  absl::MutexLock lock(&counter_.mu);
  const Counter::Tally& t = counter_.by_version[version_id];
  if (first_error) *first_error = t.first_error;
  return t.failed;
}

absl::Status FleetCoordinator::WaitConnected(size_t n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (hub_->connected() < n) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          hub_->connected(), " of ", n, " agents connected within ",
          absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

}  // namespace certfleet::bench
