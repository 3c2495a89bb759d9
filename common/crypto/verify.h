// Checks applied to a certificate before it is installed or reported:
// key match, chain validity at a given time, name coverage and validity
// period.
//
//   RETURN_IF_ERROR(CheckKeyMatches(key, leaf));
//   RETURN_IF_ERROR(VerifyChain(leaf, intermediates, /*roots=*/{},
//   clock.Now())); RETURN_IF_ERROR(CheckNamesCover(leaf, spec.dns_names));
#ifndef CERTFLEET_COMMON_CRYPTO_VERIFY_H_
#define CERTFLEET_COMMON_CRYPTO_VERIFY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/crypto/certificate.h"
#include "common/crypto/private_key.h"

namespace certfleet::crypto {

// OK when `cert` certifies `key`'s public key; otherwise kFailedPrecondition
// "private key does not match certificate (serial ...)".
absl::Status CheckKeyMatches(const PrivateKey& key, const Certificate& cert);

// Builds and verifies the path leaf → intermediates → a root at time `at`
// (OpenSSL X509_verify_cert, no purpose check). With `roots` empty the last
// intermediate is taken as the trust anchor (partial chain): that checks a
// downloaded chain is internally consistent without knowing the root.
// kFailedPrecondition with OpenSSL's reason, the depth and the subject of the
// certificate that failed; kInvalidArgument when there is no anchor at all.
absl::Status VerifyChain(const Certificate& leaf,
                         const std::vector<Certificate>& intermediates,
                         const std::vector<Certificate>& roots, absl::Time at);

// OK when every name in `required` is covered by a subjectAltName dNSName of
// `cert`: equal ignoring case, or a SAN "*.<rest>" matching exactly one
// leftmost label (RFC 6125 §6.4.3: "*.example.com" covers "a.example.com",
// not "example.com" nor "a.b.example.com"). A required wildcard name must
// appear literally. kFailedPrecondition listing every name not covered.
absl::Status CheckNamesCover(const Certificate& cert,
                             const std::vector<std::string>& required);

// OK when notBefore <= at <= notAfter (RFC 5280 §4.1.2.5, both inclusive);
// otherwise kFailedPrecondition stating which bound failed, with the dates.
absl::Status CheckValidAt(const Certificate& cert, absl::Time at);

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_VERIFY_H_
