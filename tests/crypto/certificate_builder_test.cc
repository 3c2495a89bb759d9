// Issuing certificates ourselves (certificate_builder.h), checking CSRs
// received from others (csr_verify.h) and public keys (public_key.h).
#include "common/crypto/certificate_builder.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <string>

#include "common/crypto/csr.h"
#include "common/crypto/csr_verify.h"
#include "common/crypto/der.h"
#include "common/crypto/public_key.h"
#include "common/crypto/verify.h"
#include "gmock/gmock.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::crypto {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using testing::GenerateKeyOrDie;
using ::testing::HasSubstr;
using testing::kTestNow;

CertificateSpec CaSpec() {
  return {.common_name = "Test Internal CA",
          .not_before = kTestNow - absl::Hours(1),
          .not_after = kTestNow + absl::Hours(24 * 365),
          .is_ca = true,
          .path_length = 0,
          .key_usage = {.key_cert_sign = true, .crl_sign = true}};
}

CertificateSpec LeafSpec() {
  return {.common_name = "agt-0a1b2c3d4e5f",
          .dns_names = {"coordinator.example.test"},
          .ip_addresses = {"127.0.0.1", "::1"},
          .uris = {"spiffe://certfleet/agent/agt-0a1b2c3d4e5f"},
          .not_before = kTestNow - absl::Minutes(5),
          .not_after = kTestNow + absl::Hours(24),
          .key_usage = {.digital_signature = true},
          .extended_key_usage = {ExtendedKeyUsage::kClientAuth,
                                 ExtendedKeyUsage::kServerAuth},
          .serial_hex = "0a1b2c"};
}

TEST(CertificateBuilderTest, SelfSignedCaHasTheConstraintsAsked) {
  const PrivateKey key = GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(Certificate ca, SelfSignCertificate(CaSpec(), key));
  EXPECT_TRUE(ca.IsCa());
  EXPECT_EQ(ca.SubjectCommonName(), "Test Internal CA");
  EXPECT_EQ(ca.IssuerCommonName(), "Test Internal CA");
  EXPECT_EQ(ca.NotBefore(), kTestNow - absl::Hours(1));
  EXPECT_EQ(ca.NotAfter(), kTestNow + absl::Hours(24 * 365));
  EXPECT_EQ(ca.SubjectKeyId(), ca.AuthorityKeyId());
  EXPECT_TRUE(ca.SubjectKeyId().has_value());
  EXPECT_EQ(X509_get_pathlen(ca.raw()), 0);
  EXPECT_EQ(X509_get_key_usage(ca.raw()), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  EXPECT_OK(CheckKeyMatches(key, ca));
  EXPECT_OK(VerifyChain(ca, {}, {ca}, kTestNow));
  EXPECT_EQ(ca.SerialHex().size(), 32u);  // 16 random bytes
}

TEST(CertificateBuilderTest, IssuedLeafCarriesEveryNameAndVerifies) {
  const PrivateKey ca_key = GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(Certificate ca, SelfSignCertificate(CaSpec(), ca_key));
  const PrivateKey leaf_key = GenerateKeyOrDie(KeyType::kEc384);
  ASSERT_OK_AND_ASSIGN(
      Certificate leaf,
      IssueCertificate(LeafSpec(), PublicKey::Of(leaf_key), ca, ca_key));
  EXPECT_FALSE(leaf.IsCa());
  EXPECT_EQ(leaf.SerialHex(), "0a1b2c");
  EXPECT_EQ(leaf.SubjectCommonName(), "agt-0a1b2c3d4e5f");
  EXPECT_EQ(leaf.IssuerCommonName(), "Test Internal CA");
  EXPECT_THAT(leaf.DnsNames(), ElementsAre("coordinator.example.test"));
  EXPECT_THAT(leaf.IpAddresses(), ElementsAre("127.0.0.1", "::1"));
  EXPECT_THAT(leaf.UriNames(),
              ElementsAre("spiffe://certfleet/agent/agt-0a1b2c3d4e5f"));
  EXPECT_EQ(leaf.AuthorityKeyId(), ca.SubjectKeyId());
  EXPECT_NE(leaf.SubjectKeyId(), ca.SubjectKeyId());
  EXPECT_EQ(X509_get_key_usage(leaf.raw()), KU_DIGITAL_SIGNATURE);
  EXPECT_EQ(X509_get_extended_key_usage(leaf.raw()),
            XKU_SSL_CLIENT | XKU_SSL_SERVER);
  EXPECT_OK(CheckKeyMatches(leaf_key, leaf));
  EXPECT_OK(VerifyChain(leaf, {}, {ca}, kTestNow));
  // And not against another CA with the same name.
  const PrivateKey other_key = GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(Certificate other,
                       SelfSignCertificate(CaSpec(), other_key));
  EXPECT_THAT(VerifyChain(leaf, {}, {other}, kTestNow),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(CertificateBuilderTest, BadSpecsAreInvalidArgument) {
  const PrivateKey key = GenerateKeyOrDie();
  CertificateSpec backwards = CaSpec();
  backwards.not_after = backwards.not_before;
  EXPECT_THAT(SelfSignCertificate(backwards, key),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not after notBefore")));
  CertificateSpec bad_ip = LeafSpec();
  bad_ip.ip_addresses = {"127.0.0.300"};
  EXPECT_THAT(SelfSignCertificate(bad_ip, key),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"127.0.0.300\" is not an IPv4 or IPv6 address"));
  CertificateSpec long_cn = LeafSpec();
  long_cn.common_name = std::string(65, 'a');
  EXPECT_THAT(SelfSignCertificate(long_cn, key),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the limit is 64")));
  CertificateSpec zero_serial = LeafSpec();
  zero_serial.serial_hex = "00";
  EXPECT_THAT(
      SelfSignCertificate(zero_serial, key),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("non-zero")));
}

TEST(CertificateBuilderTest, IssuerMustBeACaWithTheMatchingKey) {
  const PrivateKey ca_key = GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(Certificate ca, SelfSignCertificate(CaSpec(), ca_key));
  const PrivateKey leaf_key = GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(
      Certificate leaf,
      IssueCertificate(LeafSpec(), PublicKey::Of(leaf_key), ca, ca_key));
  EXPECT_THAT(
      IssueCertificate(LeafSpec(), PublicKey::Of(leaf_key), leaf, leaf_key),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("is not a CA certificate")));
  EXPECT_THAT(
      IssueCertificate(LeafSpec(), PublicKey::Of(leaf_key), ca, leaf_key),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("private key does not match certificate")));
}

TEST(CsrVerifyTest, ReturnsTheKeyOfAProperlySignedRequest) {
  for (KeyType type : {KeyType::kEc256, KeyType::kEc384, KeyType::kRsa2048}) {
    SCOPED_TRACE(KeyTypeName(type));
    const PrivateKey key = GenerateKeyOrDie(type);
    ASSERT_OK_AND_ASSIGN(std::string csr, BuildCsrDer(key, {"agent"}));
    ASSERT_OK_AND_ASSIGN(PublicKey found, VerifyCsrDer(csr));
    EXPECT_EQ(found.type(), type);
    EXPECT_EQ(found.SubjectPublicKeyInfoDer().value(),
              key.SubjectPublicKeyInfoDer().value());
  }
}

TEST(CsrVerifyTest, TamperedOrMalformedRequestsAreRefused) {
  const PrivateKey key = GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(std::string csr, BuildCsrDer(key, {"agent"}));
  std::string tampered = csr;
  tampered[tampered.size() - 5] ^= 0x01;  // inside the signature
  EXPECT_THAT(VerifyCsrDer(tampered),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("CSR signature does not verify")));
  // A request carrying one key but signed with another: no proof that the
  // requester holds the key it wants certified.
  const PrivateKey other = GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(std::string spki, key.SubjectPublicKeyInfoDer());
  const std::string info =
      der::Sequence({der::SmallInteger(0), der::Sequence({}), spki,
                     der::Context(0, /*constructed=*/true, "")});
  ASSERT_OK_AND_ASSIGN(std::string signature, other.SignNative(info));
  const std::string forged =
      der::Sequence({info, der::Sequence({der::Oid(der::kOidEcdsaSha256)}),
                     der::BitString(signature)});
  EXPECT_THAT(VerifyCsrDer(forged),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("CSR signature does not verify")));
  EXPECT_THAT(VerifyCsrDer(csr + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed CSR: followed by 1 extra bytes"));
  EXPECT_THAT(
      VerifyCsrDer("not DER"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed CSR")));
  EXPECT_THAT(VerifyCsrDer(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                         "malformed CSR: empty"));
}

TEST(PublicKeyTest, SubjectPublicKeyInfoRoundTrips) {
  const PrivateKey key = GenerateKeyOrDie(KeyType::kEc384);
  ASSERT_OK_AND_ASSIGN(std::string spki, key.SubjectPublicKeyInfoDer());
  ASSERT_OK_AND_ASSIGN(PublicKey parsed,
                       PublicKey::FromSubjectPublicKeyInfoDer(spki));
  EXPECT_EQ(parsed.type(), KeyType::kEc384);
  EXPECT_THAT(parsed.SubjectPublicKeyInfoDer(), ::certfleet::testing::IsOk());
  EXPECT_EQ(*parsed.SubjectPublicKeyInfoDer(), spki);
  EXPECT_THAT(
      PublicKey::FromSubjectPublicKeyInfoDer(std::string(spki) + "z"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 extra bytes")));
}

}  // namespace
}  // namespace certfleet::crypto
