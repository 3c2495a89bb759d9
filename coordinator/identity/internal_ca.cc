#include "coordinator/identity/internal_ca.h"

#include <arpa/inet.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/certificate_builder.h"
#include "common/crypto/csr_verify.h"
#include "common/crypto/encoding.h"
#include "common/crypto/public_key.h"
#include "common/crypto/verify.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "common/status_macros.h"

namespace certfleet::identity {
namespace {

using crypto::Certificate;
using crypto::CertificateSpec;
using crypto::ExtendedKeyUsage;
using crypto::PrivateKey;

// 10 years of 365 days; the CA is not rotated automatically.
constexpr absl::Duration kCaLifetime = absl::Hours(24 * 365 * 10);
constexpr size_t kMaxAgentId = 64;
constexpr size_t kMaxAdminName = 32;
// RFC 5280 Appendix A: ub-common-name.
constexpr size_t kMaxCommonName = 64;

bool IsIpLiteral(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// Creates a fresh CA record: key, self-signed certificate, sealed key.
absl::StatusOr<store::InternalCaRecord> NewCaRecord(const crypto::Kek& kek,
                                                    absl::Time now) {
  ASSIGN_OR_RETURN(PrivateKey key,
                   PrivateKey::Generate(crypto::KeyType::kEc256));
  // A random suffix tells the CAs of different installations apart in
  // `openssl x509 -text` and in trust stores.
  const CertificateSpec spec{
      .common_name = absl::StrCat("certfleet internal CA ",
                                  crypto::HexEncode(crypto::RandomBytes(4))),
      .not_before = now - kClockSkewAllowance,
      .not_after = now + kCaLifetime,
      .is_ca = true,
      .path_length = 0,
      .key_usage = {.key_cert_sign = true, .crl_sign = true}};
  ASSIGN_OR_RETURN(Certificate cert, crypto::SelfSignCertificate(spec, key));
  ASSIGN_OR_RETURN(std::string key_pem, key.ToPem());
  ASSIGN_OR_RETURN(std::string sealed, kek.Seal(key_pem, kInternalCaKeyAad));
  return store::InternalCaRecord{
      .cert_pem = cert.ToPem(), .key_sealed = sealed, .created_at = now};
}

}  // namespace

bool IsValidAgentId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxAgentId) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsValidAdminName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxAdminName) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return false;
    }
  }
  return true;
}

InternalCa::InternalCa(Certificate cert, PrivateKey key, Clock& clock)
    : cert_(std::move(cert)),
      key_(std::move(key)),
      ca_pem_(cert_.ToPem()),
      clock_(clock) {}

absl::StatusOr<std::unique_ptr<InternalCa>> InternalCa::LoadOrCreate(
    store::Store& store, const crypto::Kek& kek, Clock& clock) {
  ASSIGN_OR_RETURN(std::optional<store::InternalCaRecord> record,
                   store.GetInternalCa());
  if (!record.has_value()) {
    ASSIGN_OR_RETURN(store::InternalCaRecord fresh,
                     NewCaRecord(kek, clock.Now()));
    // Another coordinator may have stored one meanwhile; theirs wins.
    ASSIGN_OR_RETURN(record, store.CreateInternalCaIfAbsent(fresh));
    if (record->cert_pem == fresh.cert_pem) {
      CF_LOG_INFO("created the internal CA (key sealed under KEK %s)",
                  kek.KeyId());
    }
  }
  absl::StatusOr<Certificate> cert = Certificate::FromPem(record->cert_pem);
  if (!cert.ok()) {
    return absl::DataLossError(
        absl::StrCat("internal CA: the certificate in the store does not "
                     "parse: ",
                     cert.status().message()));
  }
  absl::StatusOr<std::string> key_pem =
      kek.Open(record->key_sealed, kInternalCaKeyAad);
  if (!key_pem.ok()) {
    return Annotate(key_pem.status(), "internal CA: open the sealed key");
  }
  absl::StatusOr<PrivateKey> key = PrivateKey::FromPem(*key_pem);
  if (!key.ok()) {
    return absl::DataLossError(
        absl::StrCat("internal CA: the stored key does not parse: ",
                     key.status().message()));
  }
  if (absl::Status match = crypto::CheckKeyMatches(*key, *cert); !match.ok()) {
    return absl::DataLossError(absl::StrCat("internal CA: ", match.message()));
  }
  const absl::Time now = clock.Now();
  if (cert->NotAfter() <= now) {
    return absl::FailedPreconditionError(
        absl::StrCat("internal CA ", cert->SubjectCommonName(), " expired at ",
                     FormatRfc3339(cert->NotAfter()),
                     "; every agent must be enrolled again under a new CA"));
  }
  return std::unique_ptr<InternalCa>(
      new InternalCa(*std::move(cert), *std::move(key), clock));
}

absl::StatusOr<std::string> InternalCa::SignAgentCsr(
    absl::string_view csr_der, const std::string& agent_id,
    absl::Duration lifetime) {
  if (!IsValidAgentId(agent_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", agent_id, "\" is not a valid agent id"));
  }
  if (lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("identity lifetime ", absl::FormatDuration(lifetime),
                     " is not positive"));
  }
  absl::StatusOr<crypto::PublicKey> key = crypto::VerifyCsrDer(csr_der);
  if (!key.ok()) {
    return Annotate(key.status(), absl::StrCat("agent ", agent_id));
  }
  const absl::Time now = clock_.Now();
  const CertificateSpec spec{
      .common_name = agent_id,
      .uris = {absl::StrCat(kAgentUriPrefix, agent_id)},
      .not_before = now - kClockSkewAllowance,
      .not_after = std::min(now + lifetime, cert_.NotAfter()),
      .key_usage = {.digital_signature = true},
      .extended_key_usage = {ExtendedKeyUsage::kClientAuth}};
  absl::MutexLock lock(&sign_mu_);
  ASSIGN_OR_RETURN(Certificate issued,
                   crypto::IssueCertificate(spec, *key, cert_, key_));
  return issued.ToPem();
}

absl::StatusOr<std::string> InternalCa::IssueAdminIdentity(
    const std::string& name, const crypto::PublicKey& public_key,
    absl::Duration lifetime) {
  if (!IsValidAdminName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name,
                     "\" is not a valid admin name (1-32 lower-case letters, "
                     "digits and \"-\")"));
  }
  if (lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin identity lifetime ", absl::FormatDuration(lifetime),
                     " is not positive"));
  }
  const absl::Time now = clock_.Now();
  const CertificateSpec spec{
      .common_name = name,
      .uris = {absl::StrCat(kAdminUriPrefix, name)},
      .not_before = now - kClockSkewAllowance,
      .not_after = std::min(now + lifetime, cert_.NotAfter()),
      .key_usage = {.digital_signature = true},
      .extended_key_usage = {ExtendedKeyUsage::kClientAuth}};
  absl::MutexLock lock(&sign_mu_);
  ASSIGN_OR_RETURN(Certificate issued,
                   crypto::IssueCertificate(spec, public_key, cert_, key_));
  return issued.ToPem();
}

absl::StatusOr<InternalCa::ServerIdentity> InternalCa::IssueServerIdentity(
    const std::vector<std::string>& names, absl::Duration lifetime) {
  if (names.empty()) {
    return absl::InvalidArgumentError(
        "a serving certificate needs at least one name");
  }
  if (lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("serving certificate lifetime ",
                     absl::FormatDuration(lifetime), " is not positive"));
  }
  const absl::Time now = clock_.Now();
  CertificateSpec spec{.not_before = now - kClockSkewAllowance,
                       .not_after = std::min(now + lifetime, cert_.NotAfter()),
                       .key_usage = {.digital_signature = true},
                       .extended_key_usage = {ExtendedKeyUsage::kServerAuth}};
  for (const std::string& name : names) {
    if (IsIpLiteral(name)) {
      spec.ip_addresses.push_back(name);
    } else if (!name.empty() &&
               name.find_first_of(" */") == std::string::npos) {
      spec.dns_names.push_back(absl::AsciiStrToLower(name));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("serving certificate name \"", name,
                       "\" is neither an IP address nor a DNS name"));
    }
  }
  if (names.front().size() <= kMaxCommonName) spec.common_name = names.front();
  ASSIGN_OR_RETURN(PrivateKey key,
                   PrivateKey::Generate(crypto::KeyType::kEc256));
  ASSIGN_OR_RETURN(std::string key_pem, key.ToPem());
  absl::MutexLock lock(&sign_mu_);
  ASSIGN_OR_RETURN(
      Certificate issued,
      crypto::IssueCertificate(spec, crypto::PublicKey::Of(key), cert_, key_));
  return ServerIdentity{.cert_pem = issued.ToPem(), .key_pem = key_pem};
}

absl::StatusOr<std::string> InternalCa::AgentIdFromCertificate(
    const Certificate& cert) {
  auto refuse = [&](absl::string_view why) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate ", cert.SubjectDn(), " (serial ",
                     cert.SerialHex(), ") is not an agent identity: ", why));
  };
  std::vector<std::string> ids;
  for (const std::string& uri : cert.UriNames()) {
    if (absl::StartsWith(uri, kAgentUriPrefix)) {
      ids.push_back(uri.substr(sizeof(kAgentUriPrefix) - 1));
    }
  }
  if (ids.empty()) {
    return refuse(absl::StrCat("it has no ", kAgentUriPrefix, "<id> URI"));
  }
  if (ids.size() > 1) {
    return refuse(absl::StrCat("it names several agents (",
                               absl::StrJoin(ids, ", "), ")"));
  }
  if (!IsValidAgentId(ids.front())) {
    return refuse(
        absl::StrCat("\"", ids.front(), "\" is not a valid agent id"));
  }
  if (cert.SubjectCommonName() != ids.front()) {
    return refuse(absl::StrCat("its URI names agent ", ids.front(),
                               " but its CN is \"", cert.SubjectCommonName(),
                               "\""));
  }
  return ids.front();
}

absl::StatusOr<std::string> InternalCa::AdminNameFromCertificate(
    const Certificate& cert) {
  const std::vector<std::string> uris = cert.UriNames();
  for (const std::string& uri : uris) {
    if (absl::StartsWith(uri, kAgentUriPrefix)) {
      return absl::PermissionDeniedError(
          "agent identities cannot use the admin API");
    }
  }
  auto refuse = [&](absl::string_view why) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate ", cert.SubjectDn(), " (serial ",
                     cert.SerialHex(), ") is not an admin identity: ", why));
  };
  if (uris.size() > 1) {
    return refuse(absl::StrCat("it has ", uris.size(), " URIs (",
                               absl::StrJoin(uris, ", "), "); one is allowed"));
  }
  if (uris.empty() || !absl::StartsWith(uris.front(), kAdminUriPrefix)) {
    return refuse(absl::StrCat("it has no ", kAdminUriPrefix, "<name> URI"));
  }
  const std::string name = uris.front().substr(sizeof(kAdminUriPrefix) - 1);
  if (!IsValidAdminName(name)) {
    return refuse(absl::StrCat("\"", name, "\" is not a valid admin name"));
  }
  if (cert.SubjectCommonName() != name) {
    return refuse(absl::StrCat("its URI names admin ", name,
                               " but its CN is \"", cert.SubjectCommonName(),
                               "\""));
  }
  return name;
}

}  // namespace certfleet::identity
