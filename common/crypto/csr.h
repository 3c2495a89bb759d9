// PKCS#10 certificate signing requests for ACME finalize (RFC 8555 §7.4).
//
//   ASSIGN_OR_RETURN(std::string der,
//                    BuildCsrDer(cert_key, {"example.com", "*.example.com"}));
//   std::string csr_field = Base64UrlEncode(der);
#ifndef CERTFLEET_COMMON_CRYPTO_CSR_H_
#define CERTFLEET_COMMON_CRYPTO_CSR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/crypto/private_key.h"

namespace certfleet::crypto {

// A DER CSR carrying every name (wildcards allowed) in a subjectAltName
// extension, in the given order. The subject is CN=<first name> when that
// name fits the 64-character commonName limit (RFC 5280 ub-common-name),
// otherwise empty. Signed with SHA-256 (SHA-384 for a P-384 key).
// kInvalidArgument when `dns_names` is empty or a name is empty or longer
// than 253 characters.
absl::StatusOr<std::string> BuildCsrDer(
    const PrivateKey& key, const std::vector<std::string>& dns_names);

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_CSR_H_
