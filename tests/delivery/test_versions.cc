#include "tests/delivery/test_versions.h"

#include "common/status_macros.h"
#include "coordinator/issuance/issuer.h"

namespace certfleet::delivery::testing {

absl::StatusOr<TestVersion> MakeTestVersion(
    const crypto::testing::TestCa& issuer, const crypto::Kek& kek,
    const TestVersionSpec& spec) {
  const crypto::testing::IssuedCert leaf =
      issuer.IssueLeaf({.dns_names = spec.names,
                        .not_before = spec.not_before,
                        .not_after = spec.not_after,
                        .serial_hex = spec.serial_hex});
  TestVersion out;
  ASSIGN_OR_RETURN(out.key_pem, leaf.key.ToPem());
  ASSIGN_OR_RETURN(
      std::string sealed,
      kek.Seal(out.key_pem, issuance::CertificateKeyAad(spec.certificate)));
  out.record = {.cert_name = spec.certificate,
                .issuer = "test",
                .names = spec.names,
                .key_type = "ec256",
                .serial_hex = leaf.cert.SerialHex(),
                .not_before = leaf.cert.NotBefore(),
                .not_after = leaf.cert.NotAfter(),
                .leaf_pem = leaf.cert.ToPem(),
                .chain_pem = issuer.intermediate().ToPem(),
                .key_sealed = std::move(sealed),
                .created_at = spec.created_at};
  return out;
}

}  // namespace certfleet::delivery::testing
