// Checking a PKCS#10 certificate signing request (RFC 2986) received from
// someone else — an agent asking the internal CA for its identity: the
// request must parse and be signed by the key it carries (proof that the
// requester holds the private key). Only the key is taken from it; the
// issuer decides the subject and names itself.
//
//   ASSIGN_OR_RETURN(PublicKey key, VerifyCsrDer(request.csr_der()));
#ifndef CERTFLEET_COMMON_CRYPTO_CSR_VERIFY_H_
#define CERTFLEET_COMMON_CRYPTO_CSR_VERIFY_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/public_key.h"

namespace certfleet::crypto {

// The public key of the DER CSR `der`, once its self-signature verifies.
// kInvalidArgument for: malformed DER or trailing bytes ("malformed CSR"),
// a key that is not one of the KeyType choices ("CSR key: ..."), a signature
// that does not verify ("CSR signature does not verify ...").
absl::StatusOr<PublicKey> VerifyCsrDer(absl::string_view der);

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_CSR_VERIFY_H_
