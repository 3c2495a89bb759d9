// A certificate version as the issuance module stores it, made from a test
// CA instead of an ACME order: a fresh P-256 leaf and its key sealed under
// the KEK with the certificate's associated data. Shared by the tests and
// benchmarks that publish versions to agents without a CA.
//
//   ASSIGN_OR_RETURN(TestVersion v,
//                    MakeTestVersion(ca, kek, {.certificate = "web",
//                                              .names = {"www.example.test"},
//                                              .not_before = now - 1h,
//                                              .not_after = now + 720h}));
//   ASSIGN_OR_RETURN(int64_t n, store.AddVersion(v.record));
#ifndef CERTFLEET_TESTS_DELIVERY_TEST_VERSIONS_H_
#define CERTFLEET_TESTS_DELIVERY_TEST_VERSIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/kek.h"
#include "coordinator/store/store.h"
#include "tests/crypto/test_certs.h"

namespace certfleet::delivery::testing {

struct TestVersionSpec {
  std::string certificate;  // the configured name
  std::vector<std::string> names;
  absl::Time not_before;
  absl::Time not_after;
  std::string serial_hex;  // "" = random
  absl::Time created_at = absl::UnixEpoch();
};

// The record to store (version number unset) and the plaintext key, which
// a delivered bundle must carry.
struct TestVersion {
  store::VersionRecord record;
  std::string key_pem;
};

absl::StatusOr<TestVersion> MakeTestVersion(
    const crypto::testing::TestCa& issuer, const crypto::Kek& kek,
    const TestVersionSpec& spec);

}  // namespace certfleet::delivery::testing

#endif  // CERTFLEET_TESTS_DELIVERY_TEST_VERSIONS_H_
