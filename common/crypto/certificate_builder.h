// Issuing X.509 certificates (RFC 5280) ourselves: for the coordinator's
// internal CA, which signs agent identities and the coordinator's serving
// certificate. Not a hot path (a few certificates per agent per day), so
// this uses OpenSSL's X509 APIs directly.
//
//   CertificateSpec spec{.common_name = agent_id,
//                        .uris = {"spiffe://certfleet/agent/" + agent_id},
//                        .not_before = now - absl::Minutes(5),
//                        .not_after = now + absl::Hours(24),
//                        .key_usage = {.digital_signature = true},
//                        .extended_key_usage =
//                        {ExtendedKeyUsage::kClientAuth}};
//   ASSIGN_OR_RETURN(Certificate cert,
//                    IssueCertificate(spec, agent_key, ca_cert, ca_key));
#ifndef CERTFLEET_COMMON_CRYPTO_CERTIFICATE_BUILDER_H_
#define CERTFLEET_COMMON_CRYPTO_CERTIFICATE_BUILDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/certificate.h"
#include "common/crypto/private_key.h"
#include "common/crypto/public_key.h"

namespace certfleet::crypto {

// RFC 5280 §4.2.1.12 purposes certfleet issues for.
enum class ExtendedKeyUsage { kServerAuth, kClientAuth };

// RFC 5280 §4.2.1.3 bits; the extension is marked critical.
struct KeyUsage {
  bool digital_signature = false;
  bool key_encipherment = false;
  bool key_cert_sign = false;
  bool crl_sign = false;
};

// What goes into the certificate. The issuer's subject becomes the issuer
// name; the Subject Key Identifier is the SHA-1 of the subject public key
// (RFC 5280 §4.2.1.2 method 1) and the Authority Key Identifier the
// issuer's SKI.
struct CertificateSpec {
  // Subject CN; "" = an empty subject. At most 64 characters.
  std::string common_name;
  // subjectAltName entries, in this order: DNS names, IP addresses ("::1",
  // "127.0.0.1"), URIs.
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::vector<std::string> uris;
  absl::Time not_before = absl::UnixEpoch();
  absl::Time not_after = absl::UnixEpoch();
  // basicConstraints (critical): cA and, for a CA, pathLenConstraint
  // (-1 = none).
  bool is_ca = false;
  int path_length = -1;
  KeyUsage key_usage;
  // Empty: no extendedKeyUsage extension.
  std::vector<ExtendedKeyUsage> extended_key_usage;
  // Hex magnitude of the serial; "" = 16 random bytes (positive, non-zero).
  std::string serial_hex;
};

// A certificate for `subject_key` signed by `issuer_key`, whose certificate
// is `issuer` (SHA-384 for a P-384 issuer key, else SHA-256).
// kInvalidArgument for a bad spec (not_after not after not_before, an empty
// or unparsable name, a common name over 64 characters, an invalid serial);
// kFailedPrecondition when `issuer` is not a CA or `issuer_key` is not its
// key.
absl::StatusOr<Certificate> IssueCertificate(const CertificateSpec& spec,
                                             const PublicKey& subject_key,
                                             const Certificate& issuer,
                                             const PrivateKey& issuer_key);

// A self-signed certificate for `key` (a root CA). Errors as above.
absl::StatusOr<Certificate> SelfSignCertificate(const CertificateSpec& spec,
                                                const PrivateKey& key);

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_CERTIFICATE_BUILDER_H_
