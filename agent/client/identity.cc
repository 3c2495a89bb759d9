#include "agent/client/identity.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
      return absl::NotFoundError(
          absl::StrCat("no agent identity in ", dir_,
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

namespace {

std::string Describe(const crypto::Certificate& cert) {
  return absl::StrCat("identity certificate (serial ", cert.SerialHex(),
                      ", subject ", cert.SubjectDn(), ")");
}

}  // namespace

absl::Status CheckIdentityChain(const crypto::Certificate& cert,
                                absl::string_view trusted_ca_pem,
                                absl::Time now) {
  absl::StatusOr<std::vector<crypto::Certificate>> roots =
      crypto::Certificate::ParsePemChain(trusted_ca_pem);
  if (!roots.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the trusted coordinator CA does not parse: ",
                     roots.status().message()));
  }
  if (absl::Status s = crypto::VerifyChain(cert, {}, *roots, now); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        Describe(cert),
        " does not verify against the trusted coordinator CA: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckIdentityNames(const crypto::Certificate& cert,
                                const std::string& agent_id) {
  const std::vector<std::string> uris = cert.UriNames();
  const std::string want = absl::StrCat(kAgentIdentityUriPrefix, agent_id);
  if (cert.SubjectCommonName() != agent_id || uris.size() != 1 ||
      uris.front() != want) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(cert), " names CN \"", cert.SubjectCommonName(),
                     "\" and URIs [", absl::StrJoin(uris, ", "),
                     "], not this agent (", want, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckIssuedIdentity(const crypto::Certificate& cert,
                                 const crypto::PrivateKey& key,
                                 absl::string_view trusted_ca_pem,
                                 const std::string& agent_id, absl::Time now) {
  if (!crypto::CheckKeyMatches(key, cert).ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(cert), " is not for the key this agent sent"));
  }
  RETURN_IF_ERROR(CheckIdentityChain(cert, trusted_ca_pem, now));
  return CheckIdentityNames(cert, agent_id);
}

bool WithinTrustedCertificates(absl::string_view sent,
                               absl::string_view trusted) {
  absl::StatusOr<std::vector<std::string>> s =
      crypto::Certificate::PemChainToDer(sent);
  absl::StatusOr<std::vector<std::string>> t =
      crypto::Certificate::PemChainToDer(trusted);
  if (!s.ok() || !t.ok() || s->empty()) return false;
  for (const std::string& der : *s) {
    if (std::find(t->begin(), t->end(), der) == t->end()) return false;
  }
  return true;
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
