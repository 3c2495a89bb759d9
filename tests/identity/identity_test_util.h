// Shared by the fleet tests: CSRs for fresh keys, a tampered CSR, and
// OpenSSL's own verdict on a certificate for a TLS purpose — the check a TLS
// stack makes on a peer's certificate.
//
//   ASSERT_OK(VerifyForPurpose(cert_pem, ca->ca_pem(),
//                              X509_PURPOSE_SSL_CLIENT, clock.Now()));
#ifndef CERTFLEET_TESTS_IDENTITY_IDENTITY_TEST_UTIL_H_
#define CERTFLEET_TESTS_IDENTITY_IDENTITY_TEST_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/crypto/private_key.h"

namespace certfleet::identity::testing {

// A fresh P-256 key, or abort.
crypto::PrivateKey NewKey();

// A DER CSR signed by `key` (names as an agent would put them: ignored).
std::string CsrFor(const crypto::PrivateKey& key);

// `csr` with one bit of its signature flipped.
std::string TamperedCsr(std::string csr);

// X509_verify_cert of `leaf_pem` against the single root `ca_pem` at `at`,
// with X509_PURPOSE_SSL_CLIENT / _SSL_SERVER as `purpose`. kPermissionDenied
// with OpenSSL's reason when it fails.
absl::Status VerifyForPurpose(const std::string& leaf_pem,
                              const std::string& ca_pem, int purpose,
                              absl::Time at);

// The subjectPublicKeyInfo of the certificate in `pem` and of `key` match.
bool CertifiesKey(const std::string& pem, const crypto::PrivateKey& key);

}  // namespace certfleet::identity::testing

#endif  // CERTFLEET_TESTS_IDENTITY_IDENTITY_TEST_UTIL_H_
