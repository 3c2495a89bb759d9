#include "common/crypto/csr.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::crypto {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// What OpenSSL itself reads back from a CSR.
struct ParsedCsr {
  bool signature_ok = false;
  bool key_matches = false;
  std::string subject_cn;
  bool has_subject = false;
  std::vector<std::string> dns_names;
  int signature_nid = NID_undef;
};

ParsedCsr Parse(const std::string& der, EVP_PKEY* key) {
  ParsedCsr out;
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509_REQ* req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  EXPECT_NE(req, nullptr);
  if (req == nullptr) return out;
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req);
  out.signature_ok = X509_REQ_verify(req, pub) == 1;
  out.key_matches = EVP_PKEY_eq(pub, key) == 1;
  X509_NAME* subject = X509_REQ_get_subject_name(req);
  out.has_subject = X509_NAME_entry_count(subject) > 0;
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn) > 0) {
    out.subject_cn = cn;
  }
  out.signature_nid = X509_REQ_get_signature_nid(req);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name)
      continue;
    auto* names = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type != GEN_DNS) continue;
      out.dns_names.emplace_back(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
          ASN1_STRING_length(gn->d.dNSName));
    }
    GENERAL_NAMES_free(names);
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
  return out;
}

TEST(CsrTest, CarriesEveryNameAndIsSignedByTheKey) {
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(KeyType::kEc256));
  ASSERT_OK_AND_ASSIGN(
      std::string der,
      BuildCsrDer(key, {"example.test", "*.example.test", "www.example.test"}));
  ParsedCsr csr = Parse(der, key.raw());
  EXPECT_TRUE(csr.signature_ok);
  EXPECT_TRUE(csr.key_matches);
  EXPECT_EQ(csr.subject_cn, "example.test");
  EXPECT_THAT(csr.dns_names, ElementsAre("example.test", "*.example.test",
                                         "www.example.test"));
  EXPECT_EQ(csr.signature_nid, NID_ecdsa_with_SHA256);
}

TEST(CsrTest, DigestFollowsTheKey) {
  ASSERT_OK_AND_ASSIGN(PrivateKey ec384, PrivateKey::Generate(KeyType::kEc384));
  ASSERT_OK_AND_ASSIGN(std::string der384, BuildCsrDer(ec384, {"a.test"}));
  ParsedCsr p384 = Parse(der384, ec384.raw());
  EXPECT_TRUE(p384.signature_ok);
  EXPECT_EQ(p384.signature_nid, NID_ecdsa_with_SHA384);

  ASSERT_OK_AND_ASSIGN(PrivateKey rsa, PrivateKey::Generate(KeyType::kRsa2048));
  ASSERT_OK_AND_ASSIGN(std::string der_rsa, BuildCsrDer(rsa, {"a.test"}));
  ParsedCsr prsa = Parse(der_rsa, rsa.raw());
  EXPECT_TRUE(prsa.signature_ok);
  EXPECT_EQ(prsa.signature_nid, NID_sha256WithRSAEncryption);
}

TEST(CsrTest, LongFirstNameLeavesSubjectEmpty) {
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(KeyType::kEc256));
  const std::string long_name = std::string(60, 'a') + ".example.test";  // 73
  ASSERT_OK_AND_ASSIGN(std::string der,
                       BuildCsrDer(key, {long_name, "b.test"}));
  ParsedCsr csr = Parse(der, key.raw());
  EXPECT_TRUE(csr.signature_ok);
  EXPECT_FALSE(csr.has_subject);
  EXPECT_THAT(csr.dns_names, ElementsAre(long_name, "b.test"));

  const std::string exactly_64 = std::string(51, 'a') + ".example.test";
  ASSERT_EQ(exactly_64.size(), 64u);
  ASSERT_OK_AND_ASSIGN(std::string der64, BuildCsrDer(key, {exactly_64}));
  EXPECT_EQ(Parse(der64, key.raw()).subject_cn, exactly_64);
}

TEST(CsrTest, RejectsEmptyInput) {
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(KeyType::kEc256));
  EXPECT_THAT(BuildCsrDer(key, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at least one DNS name")));
  EXPECT_THAT(BuildCsrDer(key, {"a.test", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("DNS name 2 of the CSR is empty")));
  EXPECT_THAT(BuildCsrDer(key, {std::string(254, 'a')}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("254 characters; the limit is 253")));
}

}  // namespace
}  // namespace certfleet::crypto
