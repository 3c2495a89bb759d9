// Feeds: arbitrary bytes as a DER PKCS#10 request (RFC 2986) to
// VerifyCsrDer, which the coordinator runs on the CSR of every enrollment
// and identity renewal — before the agent is authenticated, for enrollment.
// Checks, beyond no crash, leak or sanitizer report: errors are
// kInvalidArgument; an accepted CSR yields a key of a supported type whose
// SubjectPublicKeyInfo parses back to the same bytes; no OpenSSL error is
// left on the thread's queue.
#include <cstdint>
#include <string>

#include "common/crypto/csr_verify.h"
#include "common/crypto/public_key.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/openssl_errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  certfleet::fuzz::ReleaseOpenSslErrors release;
  using namespace certfleet::crypto;
  absl::StatusOr<PublicKey> key =
      VerifyCsrDer(certfleet::fuzz::AsView(data, size));
  FUZZ_CHECK(ERR_peek_error() == 0, "no OpenSSL error is left on the queue");
  if (!key.ok()) {
    FUZZ_CHECK(key.status().code() == absl::StatusCode::kInvalidArgument,
               "a refused CSR is kInvalidArgument");
    return 0;
  }
  absl::StatusOr<std::string> spki = key->SubjectPublicKeyInfoDer();
  FUZZ_CHECK(spki.ok(), "the CSR's key can be written as DER");
  absl::StatusOr<PublicKey> back =
      PublicKey::FromSubjectPublicKeyInfoDer(*spki);
  FUZZ_CHECK(back.ok() && back->type() == key->type() &&
                 back->SubjectPublicKeyInfoDer().value_or("") == *spki,
             "the CSR's key survives a DER round trip");
  return 0;
}
