// The agent's identity on disk, in its identity directory:
//   identity.pem  the identity key and its certificate from the
//                 coordinator's internal CA, in one file (mode 0600)
//   ca.pem        that CA
//   agent.txt     the agent id
// Key and certificate share one file replaced atomically, so a crash during
// a renewal leaves the old pair or the new one, never a mismatched mix.
//
// ca.pem is the trust anchor: the coordinator_ca of the agent's
// configuration at enrollment. No answer of a coordinator replaces it, and
// every certificate a coordinator issues to the agent is checked against it
// (CheckIssuedIdentity) before it is stored.
#ifndef CERTFLEET_AGENT_CLIENT_IDENTITY_H_
#define CERTFLEET_AGENT_CLIENT_IDENTITY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto/certificate.h"
#include "common/crypto/private_key.h"
#include "common/filesystem.h"

namespace certfleet::agent {

struct Identity {
  std::string agent_id;
  std::string key_pem;
  std::string cert_pem;
  std::string ca_pem;
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfinitePast();
};

// The URI SAN of every agent identity: "spiffe://certfleet/agent/<id>"
// (the coordinator's internal CA writes it;
// coordinator/identity/internal_ca.h).
inline constexpr char kAgentIdentityUriPrefix[] = "spiffe://certfleet/agent/";

// Checks of an identity certificate a coordinator issued to this agent (at
// enrollment or renewal), made before the agent stores it. Each is OK or
// kFailedPrecondition saying what is wrong, with the certificate's serial
// and subject.
//
// It verifies at `now` up to a certificate of `trusted_ca_pem` (the
// agent's own ca.pem or configured coordinator_ca, never one a coordinator
// sent).
absl::Status CheckIdentityChain(const crypto::Certificate& cert,
                                absl::string_view trusted_ca_pem,
                                absl::Time now);
// Its CN is `agent_id` and its only URI SAN is kAgentIdentityUriPrefix +
// `agent_id`.
absl::Status CheckIdentityNames(const crypto::Certificate& cert,
                                const std::string& agent_id);
// It certifies `key`'s public key, and both checks above.
absl::Status CheckIssuedIdentity(const crypto::Certificate& cert,
                                 const crypto::PrivateKey& key,
                                 absl::string_view trusted_ca_pem,
                                 const std::string& agent_id, absl::Time now);

// True when every certificate in `sent` is one of `trusted` (compared as
// DER, so PEM line breaks and text around the blocks do not matter): a
// coordinator naming its CA adds no trust anchor. False when `sent` holds
// none or either does not parse.
bool WithinTrustedCertificates(absl::string_view sent,
                               absl::string_view trusted);

class IdentityStore {
 public:
  IdentityStore(std::string dir, Filesystem& fs)
      : dir_(std::move(dir)), fs_(fs) {}

  // kNotFound (naming the directory) when the agent has not enrolled; the
  // key must match the certificate.
  absl::StatusOr<Identity> Load();
  // Writes a whole identity (enrollment, renewal). The CA and id first, the
  // key+certificate file last: its atomic rename is the commit point.
  absl::Status Save(const Identity& identity);
  const std::string& dir() const { return dir_; }

 private:
  std::string Path(const char* name) const { return dir_ + "/" + name; }
  const std::string dir_;
  Filesystem& fs_;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CLIENT_IDENTITY_H_
