#include "common/crypto/ari.h"

#include "common/crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::crypto {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;
using testing::IssuedCert;
using testing::TestCa;

// RFC 9773 §4.1 worked example: AKI keyIdentifier
// 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4 and serial
// 00:87:65:43:21 give "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE".
TEST(AriCertIdTest, Rfc9773Example) {
  const std::string aki(
      "\x69\x88\x5B\x6B\x87\x46\x40\x41\xE1\xB3\x7B\x84\x7B\xA0\xAE\x2C\xDE"
      "\x01\xC8\xD4",
      20);
  TestCa ca = TestCa::Create("ARI Test");
  IssuedCert leaf =
      ca.IssueLeaf({.serial_hex = "87654321", .authority_key_id = aki});
  ASSERT_EQ(leaf.cert.AuthorityKeyId(), aki);
  ASSERT_EQ(leaf.cert.SerialDerContent(),
            std::string("\x00\x87\x65\x43\x21", 5));
  ASSERT_OK_AND_ASSIGN(std::string id, AriCertId(leaf.cert));
  EXPECT_EQ(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

TEST(AriCertIdTest, UsesTheIssuersKeyIdByDefault) {
  TestCa ca = TestCa::Create("ARI Test");
  IssuedCert leaf = ca.IssueLeaf({.serial_hex = "0102"});
  ASSERT_OK_AND_ASSIGN(std::string id, AriCertId(leaf.cert));
  EXPECT_EQ(id, Base64UrlEncode(*ca.intermediate().SubjectKeyId()) + ".AQI");
}

TEST(AriCertIdTest, NoAuthorityKeyIdIsFailedPrecondition) {
  TestCa ca = TestCa::Create("ARI Test");
  IssuedCert leaf =
      ca.IssueLeaf({.serial_hex = "0abc", .omit_authority_key_id = true});
  EXPECT_THAT(AriCertId(leaf.cert),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("serial 0abc (CN=example.test) has no "
                                 "authority key identifier")));
}

}  // namespace
}  // namespace certfleet::crypto
