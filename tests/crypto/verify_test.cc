#include "common/crypto/verify.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::crypto {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::IssuedCert;
using testing::kTestNow;
using ::testing::Not;
using testing::TestCa;

class VerifyTest : public ::testing::Test {
 protected:
  TestCa ca_ = TestCa::Create("Verify Test");
};

TEST_F(VerifyTest, KeyMatches) {
  IssuedCert leaf = ca_.IssueLeaf({.serial_hex = "0abc"});
  EXPECT_OK(CheckKeyMatches(leaf.key, leaf.cert));
  IssuedCert other = ca_.IssueLeaf();
  EXPECT_THAT(CheckKeyMatches(other.key, leaf.cert),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("private key does not match certificate "
                                 "(serial 0abc")));
}

TEST_F(VerifyTest, KeyMatchesAcrossKeyTypes) {
  const PrivateKey rsa = testing::GenerateKeyOrDie(KeyType::kRsa2048);
  IssuedCert leaf = ca_.IssueLeaf({.key = rsa});
  EXPECT_OK(CheckKeyMatches(rsa, leaf.cert));
  EXPECT_THAT(CheckKeyMatches(ca_.intermediate_key(), leaf.cert),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(VerifyTest, GoodChainVerifiesWithRootAndAsPartialChain) {
  IssuedCert leaf = ca_.IssueLeaf();
  EXPECT_OK(
      VerifyChain(leaf.cert, {ca_.intermediate()}, {ca_.root()}, kTestNow));
  EXPECT_OK(VerifyChain(leaf.cert, {ca_.intermediate()}, {}, kTestNow));
  // Root included among the intermediates as the last one: still consistent.
  EXPECT_OK(
      VerifyChain(leaf.cert, {ca_.intermediate(), ca_.root()}, {}, kTestNow));
}

TEST_F(VerifyTest, WrongIntermediateFails) {
  IssuedCert leaf = ca_.IssueLeaf();
  TestCa other = TestCa::Create("Other CA");
  EXPECT_THAT(
      VerifyChain(leaf.cert, {other.intermediate()}, {other.root()}, kTestNow),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          AllOf(HasSubstr("unable to get local issuer certificate"),
                HasSubstr("depth 0"), HasSubstr("subject CN=example.test"))));
  EXPECT_THAT(VerifyChain(leaf.cert, {other.intermediate()}, {}, kTestNow),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // Right intermediate, wrong root.
  EXPECT_THAT(
      VerifyChain(leaf.cert, {ca_.intermediate()}, {other.root()}, kTestNow),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("subject CN=Verify Test Intermediate")));
}

TEST_F(VerifyTest, ExpiredAtTheGivenTime) {
  IssuedCert leaf = ca_.IssueLeaf({.not_before = kTestNow - absl::Hours(48),
                                   .not_after = kTestNow - absl::Hours(1)});
  EXPECT_THAT(
      VerifyChain(leaf.cert, {ca_.intermediate()}, {ca_.root()}, kTestNow),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          AllOf(HasSubstr("certificate has expired"), HasSubstr("depth 0"))));
  // The same chain verifies at a time inside the validity period.
  EXPECT_OK(VerifyChain(leaf.cert, {ca_.intermediate()}, {ca_.root()},
                        kTestNow - absl::Hours(2)));
}

TEST_F(VerifyTest, NoAnchorIsInvalidArgument) {
  IssuedCert leaf = ca_.IssueLeaf();
  EXPECT_THAT(VerifyChain(leaf.cert, {}, {}, kTestNow),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no trust anchor")));
}

TEST_F(VerifyTest, NamesCoverExactAndCaseInsensitive) {
  IssuedCert leaf =
      ca_.IssueLeaf({.dns_names = {"Example.Test", "www.example.test"}});
  EXPECT_OK(CheckNamesCover(leaf.cert, {"example.test", "WWW.example.test"}));
  EXPECT_OK(CheckNamesCover(leaf.cert, {"example.test."}));
  EXPECT_OK(CheckNamesCover(leaf.cert, {}));
}

TEST_F(VerifyTest, WildcardCoversExactlyOneLabel) {
  IssuedCert leaf =
      ca_.IssueLeaf({.dns_names = {"*.example.test"}, .serial_hex = "01"});
  EXPECT_OK(CheckNamesCover(leaf.cert, {"a.example.test", "B.example.test"}));
  EXPECT_OK(CheckNamesCover(leaf.cert, {"*.example.test"}));
  EXPECT_THAT(
      CheckNamesCover(leaf.cert, {"a.example.test", "example.test",
                                  "a.b.example.test", "a.other.test"}),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("serial 01 does not cover example.test, "
                         "a.b.example.test, a.other.test (its DNS names: "
                         "*.example.test)")));
}

TEST_F(VerifyTest, RequiredWildcardMustBeLiteral) {
  IssuedCert leaf =
      ca_.IssueLeaf({.dns_names = {"a.example.test", "b.example.test"}});
  EXPECT_THAT(CheckNamesCover(leaf.cert, {"*.example.test"}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("does not cover *.example.test")));
  IssuedCert deeper = ca_.IssueLeaf({.dns_names = {"*.example.test"}});
  EXPECT_THAT(CheckNamesCover(deeper.cert, {"*.a.example.test"}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(VerifyTest, ValidAtBoundaries) {
  const absl::Time nb = kTestNow;
  const absl::Time na = kTestNow + absl::Hours(24);
  IssuedCert leaf =
      ca_.IssueLeaf({.not_before = nb, .not_after = na, .serial_hex = "02"});
  EXPECT_OK(CheckValidAt(leaf.cert, nb));
  EXPECT_OK(CheckValidAt(leaf.cert, na));
  EXPECT_THAT(
      CheckValidAt(leaf.cert, nb - absl::Seconds(1)),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("serial 02 is not yet valid at 2027-01-15T07:59:59Z: "
                         "notBefore is 2027-01-15T08:00:00Z")));
  EXPECT_THAT(CheckValidAt(leaf.cert, na + absl::Seconds(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("serial 02 expired at 2027-01-16T08:00:00Z "
                                 "(checked at 2027-01-16T08:00:01Z)")));
  EXPECT_THAT(CheckValidAt(leaf.cert, na + absl::Seconds(1)), Not(IsOk()));
}

}  // namespace
}  // namespace certfleet::crypto
