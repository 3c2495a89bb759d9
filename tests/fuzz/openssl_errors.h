// For the targets that reach OpenSSL: OpenSSL 3 keeps the file and function
// names of an error it has already handed out (ERR_get_error) allocated
// until that slot of its per-thread error ring is reused. A run that raised
// an error then ends with more allocations than frees, and libFuzzer
// answers that with a full leak scan of the heap — 30 times slower. No
// leak: ERR_clear_error frees them, so each run ends by calling it.
//
//   fuzz::ReleaseOpenSslErrors release;  // first thing in the target
#ifndef CERTFLEET_TESTS_FUZZ_OPENSSL_ERRORS_H_
#define CERTFLEET_TESTS_FUZZ_OPENSSL_ERRORS_H_

#include <openssl/err.h>

namespace certfleet::fuzz {

struct ReleaseOpenSslErrors {
  ReleaseOpenSslErrors() = default;
  ReleaseOpenSslErrors(const ReleaseOpenSslErrors&) = delete;
  ReleaseOpenSslErrors& operator=(const ReleaseOpenSslErrors&) = delete;
  ~ReleaseOpenSslErrors() { ERR_clear_error(); }
};

}  // namespace certfleet::fuzz

#endif  // CERTFLEET_TESTS_FUZZ_OPENSSL_ERRORS_H_
