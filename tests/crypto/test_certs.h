// A small certificate authority for tests, built with OpenSSL: a self-signed
// root and one intermediate, issuing leaf certificates with chosen names,
// key, validity, serial and Authority Key Identifier. Every failure aborts
// (these are fixtures, not code under test).
//
//   TestCa ca = TestCa::Create();
//   IssuedCert leaf = ca.IssueLeaf({.dns_names = {"a.example.test"},
//                                   .serial_hex = "87654321"});
//   std::string fullchain = ca.ChainPem(leaf.cert);   // leaf + intermediate
//   EXPECT_OK(VerifyChain(leaf.cert, {ca.intermediate()}, {ca.root()},
//                         kTestNow));
#ifndef CERTFLEET_TESTS_CRYPTO_TEST_CERTS_H_
#define CERTFLEET_TESTS_CRYPTO_TEST_CERTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/crypto/certificate.h"
#include "common/crypto/key_type.h"
#include "common/crypto/private_key.h"

namespace certfleet::crypto::testing {

// FakeClock's default start (tests/testing/fake_clock.h); default leaf
// validity is centred on it so fake-clock tests see a valid certificate.
inline const absl::Time kTestNow = absl::FromUnixSeconds(1'800'000'000);

struct LeafOptions {
  std::vector<std::string> dns_names = {"example.test"};
  // The leaf's key; a fresh P-256 key when unset.
  std::optional<PrivateKey> key;
  absl::Time not_before = kTestNow - absl::Hours(24);
  absl::Time not_after = kTestNow + absl::Hours(24 * 89);
  // Serial as hex magnitude ("87654321"); 16 random bytes when empty.
  std::string serial_hex;
  // Raw AKI keyIdentifier; the issuer's subject key id when unset.
  std::optional<std::string> authority_key_id;
  // No AKI extension at all (overrides authority_key_id).
  bool omit_authority_key_id = false;
  // Subject CN; the first DNS name when empty (and no CN when that is empty).
  std::string common_name;
};

struct IssuedCert {
  Certificate cert;
  PrivateKey key;
};

// Everything needed to issue one certificate; the general form behind TestCa.
struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  const PrivateKey* subject_key = nullptr;  // Required.
  // Issuer certificate and key; both null for a self-signed certificate.
  const Certificate* issuer = nullptr;
  const PrivateKey* issuer_key = nullptr;
  bool is_ca = false;
  absl::Time not_before;
  absl::Time not_after;
  std::string serial_hex;                       // Random when empty.
  std::optional<std::string> authority_key_id;  // Default: issuer's SKI.
  bool omit_authority_key_id = false;
};

// Builds and signs one certificate (SHA-384 for a P-384 issuer key, else
// SHA-256) with basicConstraints, keyUsage, SKI, AKI and SAN as asked.
Certificate IssueCertificateOrDie(const CertSpec& spec);

class TestCa {
 public:
  // Root "CN=<name> Root" and intermediate "CN=<name> Intermediate", valid
  // 2020-01-01 to 2060-01-01, both with `key_type` keys.
  static TestCa Create(const std::string& name = "Certfleet Test",
                       KeyType key_type = KeyType::kEc256);

  IssuedCert IssueLeaf(const LeafOptions& options = {}) const;

  const Certificate& root() const { return root_; }
  const PrivateKey& root_key() const { return root_key_; }
  const Certificate& intermediate() const { return intermediate_; }
  const PrivateKey& intermediate_key() const { return intermediate_key_; }

  // `leaf` PEM followed by the intermediate's, as an ACME server serves it.
  std::string ChainPem(const Certificate& leaf) const;
  std::string RootPem() const { return root_.ToPem(); }

 private:
  TestCa(Certificate root, PrivateKey root_key, Certificate intermediate,
         PrivateKey intermediate_key)
      : root_(std::move(root)),
        root_key_(std::move(root_key)),
        intermediate_(std::move(intermediate)),
        intermediate_key_(std::move(intermediate_key)) {}

  Certificate root_;
  PrivateKey root_key_;
  Certificate intermediate_;
  PrivateKey intermediate_key_;
};

// A fresh key or abort.
PrivateKey GenerateKeyOrDie(KeyType type = KeyType::kEc256);

}  // namespace certfleet::crypto::testing

#endif  // CERTFLEET_TESTS_CRYPTO_TEST_CERTS_H_
