// The ACME Renewal Information certificate identifier (RFC 9773 §4.1), used
// in renewalInfo URLs and in a new order's "replaces" field.
//
//   ASSIGN_OR_RETURN(std::string id, AriCertId(current_cert));
//   std::string url = absl::StrCat(directory.renewal_info, "/", id);
#ifndef CERTFLEET_COMMON_CRYPTO_ARI_H_
#define CERTFLEET_COMMON_CRYPTO_ARI_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/crypto/certificate.h"

namespace certfleet::crypto {

// base64url(AKI keyIdentifier) "." base64url(serial DER content octets),
// both unpadded. kFailedPrecondition when the certificate has no Authority
// Key Identifier keyIdentifier (ARI cannot name it).
absl::StatusOr<std::string> AriCertId(const Certificate& cert);

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_ARI_H_
