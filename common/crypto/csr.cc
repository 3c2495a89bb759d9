#include "common/crypto/csr.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/der.h"
#include "common/status_macros.h"

namespace certfleet::crypto {
namespace {

// RFC 5280 Appendix A: ub-common-name INTEGER ::= 64.
constexpr size_t kMaxCommonName = 64;
constexpr size_t kMaxDnsName = 253;

absl::Status CheckNames(const std::vector<std::string>& names) {
  if (names.empty()) {
    return absl::InvalidArgumentError("a CSR needs at least one DNS name");
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("DNS name ", i + 1, " of the CSR is empty"));
    }
    if (names[i].size() > kMaxDnsName) {
      return absl::InvalidArgumentError(
          absl::StrCat("DNS name ", names[i].substr(0, 40), "... is ",
                       names[i].size(), " characters; the limit is 253"));
    }
  }
  return absl::OkStatus();
}

// The signatureAlgorithm matching PrivateKey::SignNative.
std::string SignatureAlgorithm(KeyType type) {
  switch (type) {
    case KeyType::kEc256:
      return der::Sequence({der::Oid(der::kOidEcdsaSha256)});
    case KeyType::kEc384:
      return der::Sequence({der::Oid(der::kOidEcdsaSha384)});
    default:
      return der::Sequence({der::Oid(der::kOidSha256WithRsa), der::Null()});
  }
}

}  // namespace

// PKCS#10 (RFC 2986) written directly rather than through X509_REQ: with
// OpenSSL 3.0 setting the request's public key runs a provider encoder and
// decoder per call, the largest single cost of an order on the coordinator.
absl::StatusOr<std::string> BuildCsrDer(
    const PrivateKey& key, const std::vector<std::string>& dns_names) {
  RETURN_IF_ERROR(CheckNames(dns_names));

  // Subject: CN = the first name when it fits (RFC 5280 ub-common-name),
  // else empty; the names that matter are in subjectAltName (RFC 8555 §7.4).
  std::string subject_rdns;
  if (dns_names.front().size() <= kMaxCommonName) {
    subject_rdns = der::Set({der::Sequence(
        {der::Oid(der::kOidCommonName), der::Utf8String(dns_names.front())})});
  }
  const std::string subject = der::Tlv(0x30, subject_rdns);

  ASSIGN_OR_RETURN(std::string spki, key.SubjectPublicKeyInfoDer());

  // GeneralNames with dNSName [2] IMPLICIT IA5String (RFC 5280 §4.2.1.6).
  std::string general_names;
  for (const std::string& name : dns_names) {
    general_names += der::Context(2, /*constructed=*/false, name);
  }
  const std::string san =
      der::Sequence({der::Oid(der::kOidSubjectAltName),
                     der::OctetString(der::Tlv(0x30, general_names))});
  // Attribute extensionRequest (PKCS#9) holding Extensions.
  const std::string extension_request = der::Sequence(
      {der::Oid(der::kOidExtensionRequest), der::Set({der::Sequence({san})})});
  const std::string info =
      der::Sequence({der::SmallInteger(0), subject, spki,
                     der::Context(0, /*constructed=*/true, extension_request)});

  absl::StatusOr<std::string> signature = key.SignNative(info);
  if (!signature.ok()) return Annotate(signature.status(), "sign CSR");
  return der::Sequence(
      {info, SignatureAlgorithm(key.type()), der::BitString(*signature)});
}

}  // namespace certfleet::crypto
