// The coordinator's internal CA: the trust root of the agent channel. It
// signs the agents' short-lived identity certificates (mTLS client
// certificates) and the coordinator's own serving certificate; agents trust
// only it (their `coordinator_ca`), and the coordinator accepts only client
// certificates it signed.
//
// Created on the first start (EC P-256, 10 years, CA:TRUE pathlen 0) and
// kept in the store, its key sealed with the KEK like every other key.
// Coordinators sharing a store share the CA: the first to start creates it,
// the others load it.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<InternalCa> ca,
//                    InternalCa::LoadOrCreate(store, kek, clock));
//   ASSIGN_OR_RETURN(std::string cert_pem,
//                    ca->SignAgentCsr(csr_der, "agt-0a1b2c3d4e5f",
//                                     absl::Hours(24)));
//   ASSIGN_OR_RETURN(auto identity,
//                    ca->IssueServerIdentity({"127.0.0.1"}, absl::Hours(24)));
//   ASSIGN_OR_RETURN(std::string admin_pem,
//                    ca->IssueAdminIdentity("alice", public_key,
//                                           absl::Hours(720)));
#ifndef CERTFLEET_COORDINATOR_IDENTITY_INTERNAL_CA_H_
#define CERTFLEET_COORDINATOR_IDENTITY_INTERNAL_CA_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/crypto/certificate.h"
#include "common/crypto/kek.h"
#include "common/crypto/private_key.h"
#include "common/crypto/public_key.h"
#include "coordinator/store/store.h"

namespace certfleet::identity {

// AAD binding the sealed CA key to its purpose (see issuance::AccountKeyAad).
inline constexpr char kInternalCaKeyAad[] = "certfleet:internal-ca";

// The URI SAN every agent identity carries: "spiffe://certfleet/agent/<id>".
inline constexpr char kAgentUriPrefix[] = "spiffe://certfleet/agent/";

// The URI SAN every admin identity carries: "spiffe://certfleet/admin/<name>".
// Only these may call the admin API (coordinator/adminapi).
inline constexpr char kAdminUriPrefix[] = "spiffe://certfleet/admin/";

// Certificates start this long before they are signed, so a peer whose clock
// is a little behind already accepts them.
inline constexpr absl::Duration kClockSkewAllowance = absl::Minutes(5);

// Agent ids: 1–64 letters, digits, ".", "_" and "-" (they go into a URI).
bool IsValidAgentId(absl::string_view id);

// Admin names: 1–32 lower-case letters, digits and "-" ([a-z0-9-]{1,32}).
bool IsValidAdminName(absl::string_view name);

class InternalCa {
 public:
  // Loads the CA from `store`, or creates it there when there is none. If
  // another coordinator creates one at the same moment, the one stored first
  // wins and is loaded. Errors: the store's; kFailedPrecondition when the
  // stored key was sealed under another KEK or the CA has expired;
  // kDataLoss when the stored certificate or key is unreadable or they do
  // not belong together.
  static absl::StatusOr<std::unique_ptr<InternalCa>> LoadOrCreate(
      store::Store& store, const crypto::Kek& kek, Clock& clock);

  // The CA certificate (PEM): agents' `coordinator_ca`, and the roots the
  // coordinator checks client certificates against.
  const std::string& ca_pem() const { return ca_pem_; }
  const crypto::Certificate& certificate() const { return cert_; }

  // An agent identity certificate (PEM) for the key of `csr_der`, whose
  // self-signature must verify (its subject and names are ignored):
  // CN=<agent_id>, URI SAN spiffe://certfleet/agent/<agent_id>, EKU
  // clientAuth, keyUsage digitalSignature, valid from now - 5 min for
  // `lifetime` (never beyond the CA's own expiry). kInvalidArgument for a
  // bad CSR, agent id or lifetime.
  absl::StatusOr<std::string> SignAgentCsr(absl::string_view csr_der,
                                           const std::string& agent_id,
                                           absl::Duration lifetime);

  // An admin identity certificate (PEM) for `public_key`: CN=<name>, URI
  // SAN spiffe://certfleet/admin/<name>, EKU clientAuth, keyUsage
  // digitalSignature, valid from now - 5 min for `lifetime` (never beyond
  // the CA's own expiry). kInvalidArgument for a bad name or lifetime.
  absl::StatusOr<std::string> IssueAdminIdentity(
      const std::string& name, const crypto::PublicKey& public_key,
      absl::Duration lifetime);

  // The coordinator's serving certificate and its fresh EC P-256 key (both
  // PEM; the key PKCS#8). cert_pem holds the leaf only: agents trust the CA
  // directly.
  struct ServerIdentity {
    std::string cert_pem;
    std::string key_pem;
  };
  // A serving certificate with EKU serverAuth for `names`: each an IP
  // literal (iPAddress SAN) or a DNS name (dNSName SAN), as agents dial the
  // coordinator. kInvalidArgument when `names` is empty or one is invalid.
  absl::StatusOr<ServerIdentity> IssueServerIdentity(
      const std::vector<std::string>& names, absl::Duration lifetime);

  // The agent id a verified client certificate speaks for: from its
  // spiffe://certfleet/agent/<id> URI, which must be the only one and agree
  // with the CN. kPermissionDenied (naming the certificate) otherwise, e.g.
  // for the coordinator's own serving certificate. Does not check the
  // signature: the TLS layer has done that against ca_pem().
  static absl::StatusOr<std::string> AgentIdFromCertificate(
      const crypto::Certificate& cert);

  // The admin name a verified client certificate speaks for: from its
  // spiffe://certfleet/admin/<name> URI, which must be its only URI and
  // agree with the CN. kPermissionDenied otherwise; for an agent identity
  // the message is "agent identities cannot use the admin API". Like
  // AgentIdFromCertificate, does not check the signature.
  static absl::StatusOr<std::string> AdminNameFromCertificate(
      const crypto::Certificate& cert);

 private:
  InternalCa(crypto::Certificate cert, crypto::PrivateKey key, Clock& clock);

  const crypto::Certificate cert_;
  const crypto::PrivateKey key_;
  const std::string ca_pem_;
  Clock& clock_;
  // Signing is rare (an agent's identity once per ~16 h); one at a time
  // keeps OpenSSL's lazily cached state of the CA certificate out of races.
  absl::Mutex sign_mu_;
};

}  // namespace certfleet::identity

#endif  // CERTFLEET_COORDINATOR_IDENTITY_INTERNAL_CA_H_
