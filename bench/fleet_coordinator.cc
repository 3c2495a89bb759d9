#include "bench/fleet_coordinator.h"

#include "absl/strings/str_cat.h"
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
  ASSIGN_OR_RETURN(c->store_, store::SqliteStore::Open(dir + "/store.db"));
  ASSIGN_OR_RETURN(c->direct_,
                   DirectEnrollment::Create(*c->store_, dir + "/kek"));
  config::CertificateConfig cert;
  cert.name = kBenchCertificate;
  cert.names = {"www.bench.test"};
  cert.issuer = "bench";
  cert.targets = {config::TargetSelector{.target = kBenchTarget}};
  c->assignments_ = std::make_unique<delivery::Assignments>(
      std::vector<config::CertificateConfig>{cert});
  c->hub_ = std::make_unique<delivery::AgentHub>(
      *c->store_, c->direct_->kek(), *c->assignments_, c->direct_->enrollment(),
      c->direct_->ca_pem(), c->direct_->clock(), &c->counter_);
  ASSIGN_OR_RETURN(c->server_,
                   agentapi::AgentServer::Start(
                       {.listen = "127.0.0.1:0", .server_names = {"127.0.0.1"}},
                       c->direct_->ca(), c->direct_->enrollment(), *c->hub_));
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
  return direct_->CreateToken();
}

absl::StatusOr<FleetCoordinator::Published> FleetCoordinator::PublishVersion() {
  const absl::Time now = direct_->clock().Now();
  ASSIGN_OR_RETURN(delivery::testing::TestVersion v,
                   delivery::testing::MakeTestVersion(
                       *test_ca_, direct_->kek(),
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
