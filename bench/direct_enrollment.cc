#include "bench/direct_enrollment.h"

#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "common/filesystem.h"
#include "common/status_macros.h"

namespace certfleet::bench {

absl::StatusOr<std::unique_ptr<DirectEnrollment>> DirectEnrollment::Create(
    store::Store& store, const std::string& kek_path) {
  std::unique_ptr<DirectEnrollment> d(new DirectEnrollment());
  LocalFilesystem fs;
  ASSIGN_OR_RETURN(crypto::Kek kek, crypto::Kek::LoadOrCreate(kek_path, fs));
  d->kek_.emplace(std::move(kek));
  ASSIGN_OR_RETURN(
      d->ca_, identity::InternalCa::LoadOrCreate(store, *d->kek_, d->clock_));
  d->tokens_ = std::make_unique<identity::BootstrapTokens>(store, d->clock_);
  d->enrollment_ = std::make_unique<identity::EnrollmentService>(
      store, *d->ca_, *d->tokens_, d->clock_,
      identity::EnrollmentOptions{.identity_lifetime = absl::Hours(24)});
  return d;
}

absl::StatusOr<std::string> DirectEnrollment::CreateToken() {
  return tokens_->Create({}, absl::Hours(24), "benchmark agent");
}

absl::StatusOr<DirectEnrollment::Identity> DirectEnrollment::Enroll(
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

}  // namespace certfleet::bench
