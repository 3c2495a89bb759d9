// Feeds: arbitrary bytes as a sealed private key ("cfk1" || KEK id || nonce
// || ciphertext || tag, common/crypto/kek.h) to Kek::Open, as the
// coordinator opens every account and certificate key it reads back from the
// store; and the same bytes as a plaintext to Kek::Seal.
// Checks, beyond no crash, leak or sanitizer report: Open refuses with
// kDataLoss or kFailedPrecondition (another KEK) and never accepts bytes it
// did not seal; Seal → Open gives the plaintext back, and Open refuses it
// under another name (the AAD).
#include <cstdint>
#include <string>

#include "common/crypto/kek.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/openssl_errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using certfleet::crypto::Kek;
  certfleet::fuzz::ReleaseOpenSslErrors release;
  static const Kek* kek = new Kek(Kek::FromBytes(std::string(32, 'k')));
  const absl::string_view input = certfleet::fuzz::AsView(data, size);

  absl::StatusOr<std::string> opened = kek->Open(input, "www");
  if (!opened.ok()) {
    FUZZ_CHECK(
        opened.status().code() == absl::StatusCode::kDataLoss ||
            opened.status().code() == absl::StatusCode::kFailedPrecondition,
        "a bad sealed key is kDataLoss or kFailedPrecondition");
  }

  absl::StatusOr<std::string> sealed = kek->Seal(input, "www");
  FUZZ_CHECK(sealed.ok(), "any bytes can be sealed");
  absl::StatusOr<std::string> back = kek->Open(*sealed, "www");
  FUZZ_CHECK(back.ok() && *back == input, "Open(Seal(x)) == x");
  FUZZ_CHECK(!kek->Open(*sealed, "api").ok(),
             "a key sealed for one name does not open under another");
  return 0;
}
