#include "common/crypto/certificate.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::crypto {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IssuedCert;
using testing::kTestNow;
using testing::TestCa;

class CertificateTest : public ::testing::Test {
 protected:
  TestCa ca_ = TestCa::Create("Cert Test");
};

TEST_F(CertificateTest, PemAndDerRoundTrip) {
  IssuedCert leaf = ca_.IssueLeaf({.dns_names = {"a.example.test"}});
  const std::string pem = leaf.cert.ToPem();
  EXPECT_THAT(pem, ::testing::StartsWith("-----BEGIN CERTIFICATE-----\n"));
  ASSERT_OK_AND_ASSIGN(Certificate from_pem, Certificate::FromPem(pem));
  ASSERT_OK_AND_ASSIGN(Certificate from_der,
                       Certificate::FromDer(leaf.cert.ToDer()));
  EXPECT_EQ(from_pem.ToDer(), leaf.cert.ToDer());
  EXPECT_EQ(from_der.ToDer(), leaf.cert.ToDer());
  EXPECT_EQ(from_der.Sha256Fingerprint(), HexEncode(Sha256(leaf.cert.ToDer())));
  EXPECT_EQ(from_der.Sha256Fingerprint().size(), 64u);
}

TEST_F(CertificateTest, FromPemTakesFirstCertificateSkippingOtherBlocks) {
  IssuedCert leaf = ca_.IssueLeaf();
  ASSERT_OK_AND_ASSIGN(std::string key_pem, leaf.key.ToPem());
  ASSERT_OK_AND_ASSIGN(Certificate c,
                       Certificate::FromPem(key_pem + ca_.ChainPem(leaf.cert)));
  EXPECT_EQ(c.ToDer(), leaf.cert.ToDer());
}

TEST_F(CertificateTest, FromPemAndDerRejectGarbage) {
  EXPECT_THAT(Certificate::FromPem("hello"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no parsable CERTIFICATE block")));
  EXPECT_THAT(Certificate::FromDer("\x30\x03\x02\x01\x01"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("malformed DER certificate")));
  IssuedCert leaf = ca_.IssueLeaf();
  EXPECT_THAT(Certificate::FromDer(leaf.cert.ToDer() + "xx"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("followed by 2 extra bytes")));
}

TEST_F(CertificateTest, ParsePemChainKeepsOrder) {
  IssuedCert leaf = ca_.IssueLeaf();
  ASSERT_OK_AND_ASSIGN(std::string key_pem, leaf.key.ToPem());
  // A combined file: the key block is skipped.
  const std::string text = ca_.ChainPem(leaf.cert) + key_pem + ca_.RootPem();
  ASSERT_OK_AND_ASSIGN(std::vector<Certificate> chain,
                       Certificate::ParsePemChain(text));
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0].ToDer(), leaf.cert.ToDer());
  EXPECT_EQ(chain[1].ToDer(), ca_.intermediate().ToDer());
  EXPECT_EQ(chain[2].ToDer(), ca_.root().ToDer());
}

TEST_F(CertificateTest, ParsePemChainNamesTheMalformedCertificate) {
  IssuedCert leaf = ca_.IssueLeaf();
  // A CERTIFICATE block whose base64 is valid but whose DER is not a
  // certificate.
  const std::string bad = absl::StrCat("-----BEGIN CERTIFICATE-----\n",
                                       Base64Encode("not a certificate"),
                                       "\n-----END CERTIFICATE-----\n");
  EXPECT_THAT(Certificate::ParsePemChain(leaf.cert.ToPem() + bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("certificate 2 in PEM text")));
  // Broken armour: an END line that never comes.
  const std::string truncated = ca_.intermediate().ToPem().substr(0, 100);
  EXPECT_THAT(Certificate::ParsePemChain(leaf.cert.ToPem() + truncated),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("certificate 2 in PEM text")));
  EXPECT_THAT(Certificate::ParsePemChain("nothing here"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no CERTIFICATE block")));
}

TEST_F(CertificateTest, SerialWithHighBitSet) {
  IssuedCert leaf = ca_.IssueLeaf({.serial_hex = "87654321"});
  EXPECT_EQ(leaf.cert.SerialHex(), "87654321");
  EXPECT_EQ(leaf.cert.SerialDerContent(),
            std::string("\x00\x87\x65\x43\x21", 5));
}

TEST_F(CertificateTest, SerialWithoutHighBitAndOddLength) {
  IssuedCert leaf = ca_.IssueLeaf({.serial_hex = "1234567"});
  EXPECT_EQ(leaf.cert.SerialHex(), "01234567");
  EXPECT_EQ(leaf.cert.SerialDerContent(), std::string("\x01\x23\x45\x67", 4));
}

TEST_F(CertificateTest, LongSerialUsesLongFormLength) {
  // 200 bytes of serial force DER's long-form length octets.
  const std::string serial = "7f" + std::string(398, 'a');
  IssuedCert leaf = ca_.IssueLeaf({.serial_hex = serial});
  EXPECT_EQ(leaf.cert.SerialHex(), serial);
  EXPECT_EQ(HexEncode(leaf.cert.SerialDerContent()), serial);
}

TEST_F(CertificateTest, ValidityAndNames) {
  const absl::Time nb = absl::FromUnixSeconds(1'790'000'000);
  const absl::Time na = absl::FromUnixSeconds(1'797'776'000);
  IssuedCert leaf =
      ca_.IssueLeaf({.dns_names = {"WWW.Example.Test", "*.example.test"},
                     .not_before = nb,
                     .not_after = na});
  EXPECT_EQ(leaf.cert.NotBefore(), nb);
  EXPECT_EQ(leaf.cert.NotAfter(), na);
  EXPECT_THAT(leaf.cert.DnsNames(),
              ElementsAre("www.example.test", "*.example.test"));
  EXPECT_EQ(leaf.cert.SubjectCommonName(), "WWW.Example.Test");
  EXPECT_EQ(leaf.cert.IssuerCommonName(), "Cert Test Intermediate");
  EXPECT_EQ(leaf.cert.SubjectDn(), "CN=WWW.Example.Test");
  EXPECT_EQ(leaf.cert.IssuerDn(), "CN=Cert Test Intermediate");
  EXPECT_FALSE(leaf.cert.IsCa());
  EXPECT_TRUE(ca_.intermediate().IsCa());
  EXPECT_TRUE(ca_.root().IsCa());
}

TEST_F(CertificateTest, TimesAfter2049UseGeneralizedTime) {
  const absl::Time na = absl::FromUnixSeconds(2'556'057'600);  // 2051-01-01
  IssuedCert leaf = ca_.IssueLeaf({.not_after = na});
  EXPECT_EQ(leaf.cert.NotAfter(), na);
}

TEST_F(CertificateTest, MissingCommonNameIsEmpty) {
  IssuedCert leaf =
      ca_.IssueLeaf({.dns_names = {std::string(70, 'a') + ".test"}});
  EXPECT_EQ(leaf.cert.SubjectCommonName(), "");
  EXPECT_EQ(leaf.cert.SubjectDn(), "");
}

TEST_F(CertificateTest, KeyIdentifiers) {
  IssuedCert leaf = ca_.IssueLeaf();
  ASSERT_TRUE(ca_.intermediate().SubjectKeyId().has_value());
  EXPECT_EQ(ca_.intermediate().SubjectKeyId()->size(), 20u);
  EXPECT_EQ(leaf.cert.AuthorityKeyId(), ca_.intermediate().SubjectKeyId());
  EXPECT_NE(leaf.cert.SubjectKeyId(), leaf.cert.AuthorityKeyId());

  IssuedCert bare = ca_.IssueLeaf({.omit_authority_key_id = true});
  EXPECT_EQ(bare.cert.AuthorityKeyId(), std::nullopt);
}

TEST_F(CertificateTest, CopiesShareTheX509) {
  IssuedCert leaf = ca_.IssueLeaf();
  Certificate copy = leaf.cert;
  EXPECT_EQ(copy.raw(), leaf.cert.raw());
  Certificate wrapped = Certificate::FromRaw(leaf.cert.raw());
  EXPECT_EQ(wrapped.raw(), leaf.cert.raw());
}

}  // namespace
}  // namespace certfleet::crypto
