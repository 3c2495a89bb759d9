// Agent enrollment and identity renewal, below the gRPC layer: a new host
// presents a bootstrap token and a CSR and leaves with an agent id, a
// short-lived identity certificate from the internal CA, and the labels the
// token granted. Later the agent renews that certificate over its stream.
//
// The token is the authority on labels: an agent may claim a subset of the
// token's labels (its configuration may list them), never a label the token
// does not grant. The token is used up only when everything else has
// succeeded, so a host with a bad CSR or a wrong label can retry with the
// same token once fixed.
//
//   EnrollmentService enrollment(store, ca, tokens, clock,
//                                {.identity_lifetime = absl::Hours(24)});
//   ASSIGN_OR_RETURN(EnrollmentService::EnrollResult r,
//                    enrollment.Enroll(req.token(), req.csr_der(),
//                                      req.hostname(), claimed_labels));
#ifndef CERTFLEET_COORDINATOR_FLEET_ENROLLMENT_H_
#define CERTFLEET_COORDINATOR_FLEET_ENROLLMENT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/fleet/internal_ca.h"
#include "coordinator/fleet/tokens.h"
#include "coordinator/store/store.h"

namespace certfleet::fleet {

struct EnrollmentOptions {
  // Lifetime of identity certificates (config agents.identity_lifetime).
  absl::Duration identity_lifetime = absl::Hours(24);
};

class EnrollmentService {
 public:
  EnrollmentService(store::Store& store, InternalCa& ca,
                    BootstrapTokens& tokens, Clock& clock,
                    EnrollmentOptions options = {});

  struct EnrollResult {
    std::string agent_id;
    std::string certificate_pem;
    std::string ca_pem;
    std::map<std::string, std::string> labels;  // the token's
  };

  // Enrolls a new agent: "agt-" + 12 random hex characters. In order:
  // authenticates the token (BootstrapTokens::Check errors); checks that
  // every claimed label is granted by the token (kPermissionDenied naming
  // the label); checks `hostname` (kInvalidArgument); signs the CSR
  // (kInvalidArgument when it does not verify); uses up the token (Redeem);
  // stores the AgentRecord.
  absl::StatusOr<EnrollResult> Enroll(
      absl::string_view token, absl::string_view csr_der,
      const std::string& hostname,
      const std::map<std::string, std::string>& claimed_labels);

  // A fresh identity certificate (PEM) for an enrolled agent, recorded in
  // its AgentRecord (serial, expiry; last_seen_at = now). kNotFound when the
  // agent is not enrolled; kInvalidArgument for a bad CSR.
  absl::StatusOr<std::string> RenewIdentity(const std::string& agent_id,
                                            absl::string_view csr_der);

  // True when less than a third of the certificate's lifetime
  // [not_before, not_after] remains at `now` (the agent should renew).
  static bool NeedsRenewal(absl::Time not_before, absl::Time not_after,
                           absl::Time now);

 private:
  store::Store& store_;
  InternalCa& ca_;
  BootstrapTokens& tokens_;
  Clock& clock_;
  const EnrollmentOptions options_;
};

}  // namespace certfleet::fleet

#endif  // CERTFLEET_COORDINATOR_FLEET_ENROLLMENT_H_
