// Enrollment of simulated agents straight into a store, for benchmarks
// that need thousands of enrolled agents before any coordinator runs (or
// beside one): the key-encryption key from its file, the internal CA
// (created in the store when absent, as a coordinator does at its first
// start), bootstrap tokens and the EnrollmentService the Enroll RPC calls —
// each agent gets a token, a fresh P-256 key and a CSR, exactly as
// certfleet-agent enroll sends them, without an RPC per agent. Works on any
// Store (SQLite, etcd): the records are those a coordinator writes.
//
//   ASSIGN_OR_RETURN(auto direct, DirectEnrollment::Create(*store,
//                                                          dir + "/kek"));
//   ASSIGN_OR_RETURN(DirectEnrollment::Identity id, direct->Enroll("sim-1"));
//   ... id.key_pem, id.cert_pem, direct->ca_pem() ...
#ifndef CERTFLEET_BENCH_DIRECT_ENROLLMENT_H_
#define CERTFLEET_BENCH_DIRECT_ENROLLMENT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/crypto/kek.h"
#include "coordinator/identity/enrollment.h"
#include "coordinator/identity/internal_ca.h"
#include "coordinator/identity/tokens.h"
#include "coordinator/store/store.h"

namespace certfleet::bench {

class DirectEnrollment {
 public:
  // `store` must outlive this. The KEK file is created when absent. Errors:
  // the KEK's, the store's, the internal CA's.
  static absl::StatusOr<std::unique_ptr<DirectEnrollment>> Create(
      store::Store& store, const std::string& kek_path);

  struct Identity {
    std::string agent_id;
    std::string key_pem;   // PKCS#8
    std::string cert_pem;  // signed by the internal CA
  };
  // One agent enrolled under `hostname` (no labels). Thread-safe as the
  // enrollment service and the store are.
  absl::StatusOr<Identity> Enroll(const std::string& hostname);
  // A bootstrap token (no labels, valid for a day).
  absl::StatusOr<std::string> CreateToken();

  const crypto::Kek& kek() const { return *kek_; }
  identity::InternalCa& ca() { return *ca_; }
  const std::string& ca_pem() const { return ca_->ca_pem(); }
  identity::EnrollmentService& enrollment() { return *enrollment_; }
  Clock& clock() { return clock_; }

 private:
  DirectEnrollment() = default;

  SystemClock clock_;
  std::optional<crypto::Kek> kek_;
  std::unique_ptr<identity::InternalCa> ca_;
  std::unique_ptr<identity::BootstrapTokens> tokens_;
  std::unique_ptr<identity::EnrollmentService> enrollment_;
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_DIRECT_ENROLLMENT_H_
