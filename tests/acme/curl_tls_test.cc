// What the ACME transport says when the CA's TLS certificate does not
// verify: the reason OpenSSL found and whose certificate it was, against a
// real nginx serving certificates of a test CA made for each case.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/context.h"
#include "coordinator/acme/curl_transport.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/harness/nginx_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::acme {
namespace {

using ::certfleet::crypto::testing::IssuedCert;
using ::certfleet::crypto::testing::LeafOptions;
using ::certfleet::crypto::testing::TestCa;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

class CurlTlsTest : public ::testing::Test {
 protected:
  // nginx on loopback serving `leaf` (with ca_'s intermediate); the
  // transport trusts `trusted`'s root.
  absl::StatusOr<HttpResponse> Get(const IssuedCert& leaf,
                                   const TestCa& trusted) {
    Write(dir_.File("fullchain.pem"), ca_.ChainPem(leaf.cert));
    Write(dir_.File("key.pem"), leaf.key.ToPem().value());
    Write(dir_.File("trust.pem"), trusted.RootPem());
    absl::StatusOr<std::unique_ptr<harness::NginxServer>> nginx =
        harness::NginxServer::Start({.cert_path = dir_.File("fullchain.pem"),
                                     .key_path = dir_.File("key.pem")});
    if (!nginx.ok()) return nginx.status();
    nginx_ = *std::move(nginx);
    absl::StatusOr<std::unique_ptr<CurlTransport>> transport =
        CurlTransport::Create({.trust_bundle = dir_.File("trust.pem")});
    if (!transport.ok()) return transport.status();
    return (*transport)
        ->Send({.method = "GET",
                .url = absl::StrCat("https://localhost:", nginx_->port(), "/")},
               Context::Background().WithDeadline(absl::Now() +
                                                  absl::Seconds(20)));
  }

  static LeafOptions Leaf() {
    const absl::Time now = absl::Now();
    return {.dns_names = {"localhost"},
            .not_before = now - absl::Hours(1),
            .not_after = now + absl::Hours(24),
            .common_name = "acme.lab.test"};
  }

  certfleet::testing::TempDir dir_;
  TestCa ca_ = TestCa::Create("Lab ACME");
  std::unique_ptr<harness::NginxServer> nginx_;
};

TEST_F(CurlTlsTest, AnUnknownCaIsNamedWithTheServersCertificate) {
  const TestCa other = TestCa::Create("Someone Else");
  EXPECT_THAT(
      Get(ca_.IssueLeaf(Leaf()), other),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          AllOf(HasSubstr("unable to get local issuer certificate"),
                HasSubstr("CN=Lab ACME Intermediate"),
                HasSubstr("CN=acme.lab.test"), HasSubstr("trust_bundle"))));
}

TEST_F(CurlTlsTest, AnExpiredCertificateSaysSo) {
  LeafOptions expired = Leaf();
  expired.not_before = absl::Now() - absl::Hours(48);
  expired.not_after = absl::Now() - absl::Hours(24);
  EXPECT_THAT(
      Get(ca_.IssueLeaf(expired), ca_),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("certificate has expired"),
                     HasSubstr("CN=acme.lab.test"), HasSubstr("at depth 0"))));
}

TEST_F(CurlTlsTest, ANameMismatchNamesTheHostAndTheSubject) {
  // A valid chain, for another name.
  LeafOptions other = Leaf();
  other.dns_names = {"other.lab.test"};
  EXPECT_THAT(
      Get(ca_.IssueLeaf(other), ca_),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("'localhost'"), HasSubstr("CN=acme.lab.test"))));
}

TEST_F(CurlTlsTest, TheRightCaAndNameVerify) {
  absl::StatusOr<HttpResponse> ok = Get(ca_.IssueLeaf(Leaf()), ca_);
  ASSERT_TRUE(ok.ok()) << ok.status();
}

}  // namespace
}  // namespace certfleet::acme
