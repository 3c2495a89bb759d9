// Agent enrollment and identity renewal, below the gRPC layer: a new host
// presents a bootstrap token and a CSR and leaves with an agent id, an
// identity certificate from the internal CA, and the labels the token
// granted. Later the agent renews that certificate over its stream.
//
// The token is the authority on labels: an agent may claim a subset of the
// token's labels (its configuration may list them), never a label the token
// does not grant. The token is used up only when everything else has
// succeeded, so a host with a bad CSR or a wrong label can retry with the
// same token once fixed.
//
// Identities are revocable: the agent record holds the serial of the one
// identity certificate the coordinator accepts (AgentRecord::
// identity_serial). A renewal must present that serial and replaces it in
// one compare-and-set (Store::UpdateAgent), so of two renewals racing — the
// agent and a thief holding a copy of its certificate, or two streams — one
// wins and the other is refused; a disabled or removed agent is never
// renewed. A token made for an existing agent (BootstrapTokens::
// CreateForAgent) re-enrolls it: same id, labels, target states and
// history, a new serial, and every earlier certificate refused from then
// on. Enrollments and re-enrollments are audited ("agent.enroll",
// "agent.reenroll", actor "bootstrap-token:<token id>").
//
//   EnrollmentService enrollment(store, ca, tokens, clock,
//                                {.identity_lifetime = absl::Hours(720)});
//   ASSIGN_OR_RETURN(EnrollmentService::EnrollResult r,
//                    enrollment.Enroll(req.token(), req.csr_der(),
//                                      req.hostname(), claimed_labels));
//   ASSIGN_OR_RETURN(EnrollmentService::Renewed renewed,
//                    enrollment.RenewIdentity(agent_id, stream_serial, csr));
#ifndef CERTFLEET_COORDINATOR_IDENTITY_ENROLLMENT_H_
#define CERTFLEET_COORDINATOR_IDENTITY_ENROLLMENT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/identity/internal_ca.h"
#include "coordinator/identity/tokens.h"
#include "coordinator/store/store.h"

namespace certfleet::identity {

// agents.identity_ttl when the configuration does not say (docs/agent.md,
// "Identity lifetime"): agents renew with a third of it left, so a host can
// be off for ten days — a long weekend and a coordinator outage on top —
// and still come back with a valid identity.
inline constexpr absl::Duration kDefaultIdentityTtl = absl::Hours(24 * 30);

struct EnrollmentOptions {
  // Lifetime of identity certificates (config agents.identity_ttl).
  absl::Duration identity_lifetime = kDefaultIdentityTtl;
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
    // The token's (new agent), or the agent's own (re-enrollment).
    std::map<std::string, std::string> labels;
    // The token re-enrolled an existing agent (CreateForAgent).
    bool reenrolled = false;
    // The serial of the new identity certificate.
    std::string serial;
  };

  // Enrolls a host with `token`. A token for a new agent gives it the id
  // "agt-" + 12 random hex characters; a token made for an existing agent
  // (TokenRecord::for_agent) re-enrolls that agent (reenrollment.cc). In
  // order: authenticates the token (BootstrapTokens::Check errors); checks
  // that every claimed label is granted — by the token, or for a
  // re-enrollment the agent's current labels (kPermissionDenied naming the
  // label); checks `hostname` (kInvalidArgument); signs the CSR
  // (kInvalidArgument when it does not verify); uses up the token (Redeem);
  // stores the agent (a re-enrollment: its new serial, hostname and token,
  // by UpdateAgent). A re-enrollment of an agent that no longer exists is
  // kFailedPrecondition, of a removed agent kPermissionDenied.
  absl::StatusOr<EnrollResult> Enroll(
      absl::string_view token, absl::string_view csr_der,
      const std::string& hostname,
      const std::map<std::string, std::string>& claimed_labels);

  // A renewed identity.
  struct Renewed {
    std::string certificate_pem;
    std::string serial;  // lower-case hex
    absl::Time not_after;
  };

  // A fresh identity certificate for agent `agent_id`, asked for over a
  // stream whose client certificate has serial `presented_serial` (or that
  // was issued it by an earlier renewal on the same stream). Recorded in
  // the agent's record (serial, expiry; last_seen_at = now) only if the
  // record still holds `presented_serial` and the agent is active, in one
  // compare-and-set. kNotFound when the agent is not enrolled;
  // kPermissionDenied when it is disabled or removed, or when
  // `presented_serial` is not (or no longer) its current serial — an old
  // certificate, a thief's copy, or a renewal that lost a race;
  // kInvalidArgument for a bad CSR.
  absl::StatusOr<Renewed> RenewIdentity(const std::string& agent_id,
                                        const std::string& presented_serial,
                                        absl::string_view csr_der);

  // True when less than a third of the certificate's lifetime
  // [not_before, not_after] remains at `now` (the agent should renew).
  static bool NeedsRenewal(absl::Time not_before, absl::Time not_after,
                           absl::Time now);

 private:
  // Enroll for a token made for an existing agent (reenrollment.cc).
  absl::StatusOr<EnrollResult> Reenroll(
      absl::string_view token, const store::TokenRecord& granted,
      absl::string_view csr_der, const std::string& hostname,
      const std::map<std::string, std::string>& claimed_labels);
  // Appends an audit record by the token `token_id`; a record that cannot
  // be written is logged (the enrollment stands).
  void Audit(const std::string& token_id, const std::string& action,
             const std::string& detail);

  store::Store& store_;
  InternalCa& ca_;
  BootstrapTokens& tokens_;
  Clock& clock_;
  const EnrollmentOptions options_;
};

// kPermissionDenied unless `claimed` is a subset of `granted`, naming the
// first label that is not granted and what `by` ("bootstrap token <id>",
// "agent <id>") grants.
absl::Status CheckClaimedLabels(
    const std::map<std::string, std::string>& claimed,
    const std::map<std::string, std::string>& granted, const std::string& by);

// kInvalidArgument unless `hostname` is 1-253 printable ASCII characters
// without spaces (it is shown to operators in tables and logs).
absl::Status CheckHostname(const std::string& hostname);

}  // namespace certfleet::identity

#endif  // CERTFLEET_COORDINATOR_IDENTITY_ENROLLMENT_H_
