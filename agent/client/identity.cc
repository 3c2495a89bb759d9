#include "agent/client/identity.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/crypto/certificate.h"
#include "common/crypto/private_key.h"
#include "common/crypto/verify.h"
#include "common/status_macros.h"

namespace certfleet::agent {

absl::StatusOr<Identity> IdentityStore::Load() {
  Identity id;
  absl::StatusOr<std::string> agent_id = fs_.ReadFile(Path("agent.txt"));
  if (!agent_id.ok()) {
    if (agent_id.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat(
          "no agent identity in ", dir_,
          ": run `certfleet-agent enroll` first"));
    }
    return agent_id.status();
  }
  id.agent_id = std::string(absl::StripAsciiWhitespace(*agent_id));
  ASSIGN_OR_RETURN(std::string both, fs_.ReadFile(Path("identity.pem")));
  ASSIGN_OR_RETURN(id.ca_pem, fs_.ReadFile(Path("ca.pem")));
  absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromPem(both);
  if (!cert.ok()) return Annotate(cert.status(), Path("identity.pem"));
  absl::StatusOr<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(both);
  if (!key.ok()) return Annotate(key.status(), Path("identity.pem"));
  RETURN_IF_ERROR(
      Annotate(crypto::CheckKeyMatches(*key, *cert), Path("identity.pem")));
  ASSIGN_OR_RETURN(id.key_pem, key->ToPem());
  id.cert_pem = cert->ToPem();
  id.not_before = cert->NotBefore();
  id.not_after = cert->NotAfter();
  return id;
}

absl::Status IdentityStore::Save(const Identity& identity) {
  RETURN_IF_ERROR(fs_.MakeDirs(dir_, 0700));
  RETURN_IF_ERROR(fs_.WriteFileAtomic(Path("ca.pem"), identity.ca_pem, 0644));
  RETURN_IF_ERROR(
      fs_.WriteFileAtomic(Path("agent.txt"), identity.agent_id + "\n", 0644));
  return fs_.WriteFileAtomic(Path("identity.pem"),
                             identity.key_pem + identity.cert_pem, 0600);
}

}  // namespace certfleet::agent
