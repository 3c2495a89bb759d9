#include "tests/scheduler/fake_certificate_orders.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/crypto/key_type.h"

namespace certfleet::scheduler::testing {

FakeCertificateOrders::FakeCertificateOrders(store::Store& store, Clock& clock)
    : store_(store), clock_(clock) {}

std::string FakeCertificateOrders::AriCertId(const std::string& cert,
                                             int64_t version) {
  return absl::StrCat("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", cert, "v",
                      version);
}

void FakeCertificateOrders::Script(const std::string& certificate,
                                   std::vector<absl::Status> outcomes) {
  absl::MutexLock lock(&mu_);
  auto& queue = outcomes_[certificate];
  for (absl::Status& s : outcomes) queue.push_back(std::move(s));
}

void FakeCertificateOrders::ScriptAbandon(const std::string& certificate,
                                          absl::Status result) {
  absl::MutexLock lock(&mu_);
  abandon_results_[certificate] = std::move(result);
}

void FakeCertificateOrders::Hold() {
  absl::MutexLock lock(&mu_);
  held_ = true;
}

void FakeCertificateOrders::Release() {
  absl::MutexLock lock(&mu_);
  held_ = false;
}

bool FakeCertificateOrders::WaitForInFlight(int n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

int FakeCertificateOrders::in_flight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

int FakeCertificateOrders::max_in_flight() const {
  absl::MutexLock lock(&mu_);
  return max_in_flight_;
}

std::vector<FakeCertificateOrders::RunCall> FakeCertificateOrders::runs()
    const {
  absl::MutexLock lock(&mu_);
  return runs_;
}

std::vector<FakeCertificateOrders::AbandonCall>
FakeCertificateOrders::abandons() const {
  absl::MutexLock lock(&mu_);
  return abandons_;
}

absl::StatusOr<store::VersionRecord> FakeCertificateOrders::Run(
    const config::CertificateConfig& cert, issuance::Issuer& issuer,
    const std::string& replaces, const Context& ctx) {
  const absl::Time now = clock_.Now();
  absl::Status outcome;
  {
    absl::MutexLock lock(&mu_);
    runs_.push_back({cert.name, issuer.name(), replaces, now});
    auto it = outcomes_.find(cert.name);
    if (it != outcomes_.end() && !it->second.empty()) {
      outcome = it->second.front();
      it->second.pop_front();
    }
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    // Cancellation has no way to wake this mutex: re-check it every few
    // milliseconds of real time.
    auto released = [this]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !held_; };
    while (!released() && !ctx.IsCancelled()) {
      mu_.AwaitWithTimeout(absl::Condition(&released), absl::Milliseconds(5));
    }
    --in_flight_;
  }
  if (!outcome.ok()) return outcome;

  store::VersionRecord v;
  v.cert_name = cert.name;
  v.issuer = cert.issuer;
  v.names = cert.names;
  v.key_type = crypto::KeyTypeName(cert.key_type);
  v.serial_hex = "00c0ffee";
  v.not_before = now;
  v.not_after = now + kLifetime;
  v.leaf_pem = "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n";
  v.created_at = now;
  absl::StatusOr<std::optional<store::VersionRecord>> latest =
      store_.LatestVersion(cert.name);
  if (!latest.ok()) return latest.status();
  const int64_t next = *latest ? (*latest)->version + 1 : 1;
  v.ari_cert_id = AriCertId(cert.name, next);
  absl::StatusOr<int64_t> number = store_.AddVersion(v);
  if (!number.ok()) return number.status();
  v.version = *number;
  return v;
}

absl::Status FakeCertificateOrders::Abandon(const store::OrderRecord& order,
                                            issuance::Issuer* issuer) {
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    abandons_.push_back({order.cert_name, order.order_url, issuer});
    auto it = abandon_results_.find(order.cert_name);
    if (it != abandon_results_.end()) result = it->second;
  }
  if (!result.ok()) return result;
  return store_.DeleteOrder(order.cert_name);
}

}  // namespace certfleet::scheduler::testing
