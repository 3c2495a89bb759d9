#include "common/crypto/private_key.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::crypto {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// Verifies a raw JWS signature with OpenSSL directly, converting ECDSA's
// R||S back to the DER form OpenSSL expects.
bool VerifyJws(EVP_PKEY* pkey, KeyType type, const std::string& input,
               const std::string& sig) {
  std::string der = sig;
  if (IsEc(type)) {
    const size_t half = sig.size() / 2;
    ECDSA_SIG* ecdsa = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()),
                          static_cast<int>(half), nullptr);
    BIGNUM* s =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + half,
                  static_cast<int>(half), nullptr);
    ECDSA_SIG_set0(ecdsa, r, s);
    unsigned char* buf = nullptr;
    const int len = i2d_ECDSA_SIG(ecdsa, &buf);
    der.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    ECDSA_SIG_free(ecdsa);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const char* md = type == KeyType::kEc384 ? "SHA384" : "SHA256";
  bool ok =
      EVP_DigestVerifyInit_ex(ctx, nullptr, md, nullptr, nullptr, pkey,
                              nullptr) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(der.data()),
                       der.size(),
                       reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

class PrivateKeyTypeTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(PrivateKeyTypeTest, GeneratePemRoundTripSignVerify) {
  const KeyType type = GetParam();
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(type));
  EXPECT_EQ(key.type(), type);

  ASSERT_OK_AND_ASSIGN(std::string pem, key.ToPem());
  EXPECT_THAT(pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  ASSERT_OK_AND_ASSIGN(PrivateKey reloaded, PrivateKey::FromPem(pem));
  EXPECT_EQ(reloaded.type(), type);
  EXPECT_EQ(reloaded.PublicJwkJson(), key.PublicJwkJson());
  EXPECT_EQ(EVP_PKEY_eq(reloaded.raw(), key.raw()), 1);

  const std::string input = "eyJhbGciOiJFUzI1NiJ9.eyJmb28iOiJiYXIifQ";
  ASSERT_OK_AND_ASSIGN(std::string sig, reloaded.SignJws(input));
  switch (type) {
    case KeyType::kEc256:
      EXPECT_EQ(sig.size(), 64u);
      break;
    case KeyType::kEc384:
      EXPECT_EQ(sig.size(), 96u);
      break;
    case KeyType::kRsa2048:
      EXPECT_EQ(sig.size(), 256u);
      break;
    case KeyType::kRsa3072:
      EXPECT_EQ(sig.size(), 384u);
      break;
    case KeyType::kRsa4096:
      EXPECT_EQ(sig.size(), 512u);
      break;
  }
  EXPECT_TRUE(VerifyJws(key.raw(), type, input, sig));
  EXPECT_FALSE(VerifyJws(key.raw(), type, input + "x", sig));

  // Repeated signatures (from the cached context) all verify.
  for (int i = 0; i < 3; ++i) {
    const std::string in = absl::StrCat(input, i);
    ASSERT_OK_AND_ASSIGN(std::string s, key.SignJws(in));
    EXPECT_TRUE(VerifyJws(key.raw(), type, in, s)) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, PrivateKeyTypeTest,
                         ::testing::Values(KeyType::kEc256, KeyType::kEc384,
                                           KeyType::kRsa2048, KeyType::kRsa3072,
                                           KeyType::kRsa4096),
                         [](const auto& info) {
                           return KeyTypeName(info.param);
                         });

TEST(PrivateKeyTest, JwsAlgorithm) {
  ASSERT_OK_AND_ASSIGN(PrivateKey ec256, PrivateKey::Generate(KeyType::kEc256));
  ASSERT_OK_AND_ASSIGN(PrivateKey ec384, PrivateKey::Generate(KeyType::kEc384));
  ASSERT_OK_AND_ASSIGN(PrivateKey rsa, PrivateKey::Generate(KeyType::kRsa2048));
  EXPECT_EQ(ec256.JwsAlgorithm(), "ES256");
  EXPECT_EQ(ec384.JwsAlgorithm(), "ES384");
  EXPECT_EQ(rsa.JwsAlgorithm(), "RS256");
}

std::string UncompressedPoint(EVP_PKEY* pkey) {
  unsigned char buf[200];
  size_t len = 0;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, buf,
                                            sizeof buf, &len),
            1);
  return std::string(reinterpret_cast<char*>(buf), len);
}

TEST(PrivateKeyTest, EcJwkIsCanonicalAndMatchesThePoint) {
  for (KeyType type : {KeyType::kEc256, KeyType::kEc384}) {
    ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(type));
    const std::string jwk = key.PublicJwkJson();
    if (type == KeyType::kEc256) {
      EXPECT_THAT(
          jwk,
          MatchesRegex(
              R"(\{"crv":"P-256","kty":"EC","x":"[-_A-Za-z0-9]{43}","y":"[-_A-Za-z0-9]{43}"\})"));
    } else {
      EXPECT_THAT(
          jwk,
          MatchesRegex(
              R"(\{"crv":"P-384","kty":"EC","x":"[-_A-Za-z0-9]{64}","y":"[-_A-Za-z0-9]{64}"\})"));
    }
    const size_t x_at = jwk.find(R"("x":")") + 5;
    const size_t y_at = jwk.find(R"("y":")") + 5;
    ASSERT_OK_AND_ASSIGN(std::string x, Base64UrlDecode(jwk.substr(
                                            x_at, jwk.find('"', x_at) - x_at)));
    ASSERT_OK_AND_ASSIGN(std::string y, Base64UrlDecode(jwk.substr(
                                            y_at, jwk.find('"', y_at) - y_at)));
    EXPECT_EQ(absl::StrCat("\x04", x, y), UncompressedPoint(key.raw()));
  }
}

TEST(PrivateKeyTest, RsaJwkIsCanonical) {
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(KeyType::kRsa2048));
  const std::string jwk = key.PublicJwkJson();
  EXPECT_THAT(
      jwk,
      MatchesRegex(R"(\{"e":"AQAB","kty":"RSA","n":"[-_A-Za-z0-9]{342}"\})"));
  ASSERT_OK_AND_ASSIGN(std::string n, Base64UrlDecode(jwk.substr(
                                          jwk.find(R"("n":")") + 5, 342)));
  EXPECT_EQ(n.size(), 256u);
  EXPECT_NE(n[0], '\0');
  EXPECT_EQ(key.JwkThumbprint(), Base64UrlEncode(Sha256(jwk)));
}

BIGNUM* Bn(const std::string& b64url) {
  absl::StatusOr<std::string> bytes = Base64UrlDecode(b64url);
  EXPECT_TRUE(bytes.ok());
  return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes->data()),
                   static_cast<int>(bytes->size()), nullptr);
}

// RFC 7517 Appendix A.2's RSA key, whose public half is the RFC 7638 §3.1
// example; its thumbprint is given in RFC 7638 §3.1.
TEST(PrivateKeyTest, Rfc7638ThumbprintExample) {
  const std::string n =
      "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aP"
      "FFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl9"
      "3lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
      "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3"
      "XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
  const std::string d =
      "X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9M7dx5oo7GURknchnrRwe"
      "UkC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT0_YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy_nH"
      "NKroADIkJ46pRUohsXywbReAdYaMwFs9tv8d_cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3S"
      "k5ZiG7xojPLu4sbg1U2jx4IBTNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2W"
      "Bii3RL-Us2lGVkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8Q";
  const std::string p =
      "83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQBQxtPVnwD20R-60eTDmD2ujn"
      "Mt5PoqMrm8RfmNhVWDtjjMmCMjOpSXicFHj7XOuVIYQyqVWlWEh6dN36GVZYk93N8Bc9vY41"
      "xy8B9RzzOGVQzXvNEvn7O0nVbfs";
  const std::string q =
      "3dfOR9cuYq-0S-mkFLzgItgMEfFzB2q3hWehMuG0oCuqnb3vobLyumqjVZQO1dIrdwgTnCdp"
      "YzBcOfW5r370AFXjiWft_NGEiovonizhKpo9VVS78TzFgxkIdrecRezsZ-1kYd_s1qDbxtkD"
      "EgfAITAG9LUnADun4vIcb6yelxk";
  BN_CTX* bn_ctx = BN_CTX_new();
  BIGNUM* bn_n = Bn(n);
  BIGNUM* bn_e = Bn("AQAB");
  BIGNUM* bn_d = Bn(d);
  BIGNUM* bn_p = Bn(p);
  BIGNUM* bn_q = Bn(q);
  // Self-check of the transcription: p * q must be n.
  BIGNUM* pq = BN_new();
  BN_mul(pq, bn_p, bn_q, bn_ctx);
  ASSERT_EQ(BN_cmp(pq, bn_n), 0);
  // CRT parameters: d mod (p-1), d mod (q-1), q^-1 mod p.
  BIGNUM* p1 = BN_dup(bn_p);
  BIGNUM* q1 = BN_dup(bn_q);
  BN_sub_word(p1, 1);
  BN_sub_word(q1, 1);
  BIGNUM* dp = BN_new();
  BIGNUM* dq = BN_new();
  BN_mod(dp, bn_d, p1, bn_ctx);
  BN_mod(dq, bn_d, q1, bn_ctx);
  BIGNUM* qi = BN_mod_inverse(nullptr, bn_q, bn_p, bn_ctx);

  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, bn_d);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, bn_p);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, bn_q);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* pkey = nullptr;
  ASSERT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
  ASSERT_EQ(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params), 1);
  for (BIGNUM* bn : {bn_n, bn_e, bn_d, bn_p, bn_q, pq, p1, q1, dp, dq, qi}) {
    BN_free(bn);
  }
  BN_CTX_free(bn_ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EVP_PKEY_CTX_free(ctx);

  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::FromRaw(pkey));
  EVP_PKEY_free(pkey);  // FromRaw took its own reference.
  EXPECT_EQ(key.type(), KeyType::kRsa2048);
  EXPECT_EQ(key.PublicJwkJson(),
            absl::StrCat(R"({"e":"AQAB","kty":"RSA","n":")", n, R"("})"));
  EXPECT_EQ(key.JwkThumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");

  // The imported key signs, and PEM export/import keeps the thumbprint.
  ASSERT_OK_AND_ASSIGN(std::string sig, key.SignJws("abc"));
  EXPECT_TRUE(VerifyJws(key.raw(), KeyType::kRsa2048, "abc", sig));
  ASSERT_OK_AND_ASSIGN(std::string pem, key.ToPem());
  ASSERT_OK_AND_ASSIGN(PrivateKey reloaded, PrivateKey::FromPem(pem));
  EXPECT_EQ(reloaded.JwkThumbprint(), key.JwkThumbprint());
}

std::string TraditionalPem(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PrivateKey_traditional(bio, pkey, nullptr, nullptr, 0,
                                                 nullptr, nullptr),
            1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

TEST(PrivateKeyTest, ReadsSec1AndPkcs1) {
  ASSERT_OK_AND_ASSIGN(PrivateKey ec, PrivateKey::Generate(KeyType::kEc384));
  const std::string sec1 = TraditionalPem(ec.raw());
  ASSERT_THAT(sec1, StartsWith("-----BEGIN EC PRIVATE KEY-----"));
  ASSERT_OK_AND_ASSIGN(PrivateKey ec_back, PrivateKey::FromPem(sec1));
  EXPECT_EQ(ec_back.type(), KeyType::kEc384);
  EXPECT_EQ(ec_back.JwkThumbprint(), ec.JwkThumbprint());

  ASSERT_OK_AND_ASSIGN(PrivateKey rsa, PrivateKey::Generate(KeyType::kRsa3072));
  const std::string pkcs1 = TraditionalPem(rsa.raw());
  ASSERT_THAT(pkcs1, StartsWith("-----BEGIN RSA PRIVATE KEY-----"));
  ASSERT_OK_AND_ASSIGN(PrivateKey rsa_back, PrivateKey::FromPem(pkcs1));
  EXPECT_EQ(rsa_back.type(), KeyType::kRsa3072);
  EXPECT_EQ(rsa_back.JwkThumbprint(), rsa.JwkThumbprint());
}

std::string Pkcs8Pem(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr,
                                     nullptr),
            1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

TEST(PrivateKeyTest, RejectsUnsupportedKeysNamingThem) {
  EVP_PKEY* k256 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1");
  ASSERT_NE(k256, nullptr);
  EXPECT_THAT(PrivateKey::FromPem(Pkcs8Pem(k256)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unsupported EC curve secp256k1")));
  EVP_PKEY_free(k256);

  EVP_PKEY* rsa1024 = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  ASSERT_NE(rsa1024, nullptr);
  EXPECT_THAT(PrivateKey::FromPem(Pkcs8Pem(rsa1024)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unsupported RSA key size 1024 bits")));
  EVP_PKEY_free(rsa1024);

  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(ed, nullptr);
  EXPECT_THAT(PrivateKey::FromPem(Pkcs8Pem(ed)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unsupported key algorithm ED25519")));
  EVP_PKEY_free(ed);
}

// Found by the bundle fuzzer (10-minute run): a mangled certificate block
// before a valid PKCS#8 key makes OpenSSL 3 decode an EC key without its
// public point, which was an internal error ("read public key parameter
// qx"), not bad input.
TEST(PrivateKeyTest, RefusesAnEcKeyWithoutAPublicPoint) {
  const std::string pem =
      "\n"
      "-----BEGIN CERTIFICATE-----\n"
      "MIIBtzCCATygAwIBAgIQeEzXFoERUqvpJMQmHN0kOTAKBggqhkjOPQQDAzAUMRIw\n"
      "EAYDVQQDDAlGdXp6IFJvb3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAw\n"
      "MDBaMBwxGjAYBgNVBAMMEUZ1enogSW50ZXJtZWRpYXRlMFkwEwYHKoZIzj0CAQYI\n"
      "KoZIzj0DAQcDQgAEktAVRxWuW8BRFcjGoWG1eHZoZXg8gWzk4aNTn3xcw28aMFzf\n"
      "J9QOsBdpVeQhoFUSRBbVAsDmQljnVZErmdperaNmMGQwEgYDVR0TAQH/BAgwBgEB\n"
      "/wIBADAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFOzCmLZPOyet0T2QKKCn0FIw\n"
      "/dsMMB8GA1UdIw\xb9"
      "YMBaAFC8r4eJNZ5Pd8Ln9Oj5T8SbHFYC7MAoGCCqGSM49BAMD\n"
      "A2kAMGYCMQCIEdqUJN42apv/oBDjpJAkVSSP/tgJbE+EgaySK2Lu3FI1RJ0JMz8/\n"
      "/QFP3Vm08nACMQDkTlxOQTvTYxcfd3cLhd/IYEzqQt5/oJ7a3d2h\?\n"
      "%%FUZZ%%\n"
      "\xc5"
      "\n"
      "GBx9ndRFEnpwIKU=\n"
      "-----END CERTIFICATE-----\n"
      "\n"
      "%%FUZZ%%P3Vm08nACMQDkTlxOQTvTYxcfd3cLhd/IYEzqQt5/oJ7a3d2h\?\n"
      "%%FUZZ%%\n"
      "\xc5"
      "\n"
      "GBx9ndRFEnpwIKU=\n"
      "-----END CERTIFICATE-----\n"
      "\n"
      "%%FUZZ%%\n"
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0xhlWUB3twcNtKMt\n"
      "NRI8LgC4/4CMGB0vLmbXQ1Pz9RGhRANCAAQ91ylkfjaa+rMmlESpsSzMvUdvQSIt\n"
      "7V868z+2FPMUBb76KHf/jCGr4+oP4JJmZ1c/1+RnAQzN5HIhdGh+mEEX\n"
      "-----END PRIVATE KEY-----\n";
  EXPECT_THAT(PrivateKey::FromPem(pem),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ec256 key has no public point")));
  // The key alone is fine.
  EXPECT_OK(PrivateKey::FromPem(pem.substr(pem.find("-----BEGIN PRIVATE"))));
}

TEST(PrivateKeyTest, RejectsGarbageAndEncryptedPem) {
  EXPECT_THAT(PrivateKey::FromPem("not a key"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no PKCS#8, EC or RSA private key")));
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(KeyType::kEc256));
  BIO* bio = BIO_new(BIO_s_mem());
  char pass[] = "secret";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio, key.raw(), EVP_aes_256_cbc(),
                                          pass, 6, nullptr, nullptr),
            1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  const std::string encrypted(data, static_cast<size_t>(len));
  BIO_free(bio);
  EXPECT_THAT(PrivateKey::FromPem(encrypted),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("encrypted private keys are not supported")));
}

TEST(PrivateKeyTest, ReadsTheKeyFromACombinedFile) {
  testing::TestCa ca = testing::TestCa::Create();
  testing::IssuedCert leaf = ca.IssueLeaf();
  ASSERT_OK_AND_ASSIGN(std::string key_pem, leaf.key.ToPem());
  ASSERT_OK_AND_ASSIGN(PrivateKey key,
                       PrivateKey::FromPem(ca.ChainPem(leaf.cert) + key_pem));
  EXPECT_EQ(key.JwkThumbprint(), leaf.key.JwkThumbprint());
}

TEST(PrivateKeyTest, RefusesAPublicKey) {
  testing::TestCa ca = testing::TestCa::Create();
  for (KeyType type : {KeyType::kEc256, KeyType::kRsa2048}) {
    testing::IssuedCert leaf =
        ca.IssueLeaf({.key = testing::GenerateKeyOrDie(type)});
    // Re-parsed, so the certificate's key is decoded from its SPKI (the
    // issued X509 object still shares the private EVP_PKEY).
    ASSERT_OK_AND_ASSIGN(Certificate parsed,
                         Certificate::FromDer(leaf.cert.ToDer()));
    EXPECT_THAT(PrivateKey::FromRaw(X509_get0_pubkey(parsed.raw())),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat(KeyTypeName(type),
                                                " key has no private half"))));
  }
}

TEST(PrivateKeyTest, CopiesShareTheKey) {
  ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(KeyType::kEc256));
  PrivateKey copy = key;
  EXPECT_EQ(copy.raw(), key.raw());
  EXPECT_EQ(copy.JwkThumbprint(), key.JwkThumbprint());
}

// SignJws shares one cached signing context between threads.
TEST(PrivateKeyTest, ConcurrentSignaturesAllVerify) {
  for (KeyType type : {KeyType::kEc256, KeyType::kRsa2048}) {
    ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(type));
    constexpr int kThreads = 4;
    constexpr int kPerThread = 25;
    std::vector<std::vector<std::string>> sigs(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          absl::StatusOr<std::string> s = key.SignJws(absl::StrCat(t, ".", i));
          sigs[t].push_back(s.ok() ? *s : "");
        }
      });
    }
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(
            VerifyJws(key.raw(), type, absl::StrCat(t, ".", i), sigs[t][i]))
            << KeyTypeName(type) << " " << t << "." << i;
      }
    }
  }
}

}  // namespace
}  // namespace certfleet::crypto

namespace certfleet::crypto {
namespace {

std::string OpenSslPkcs8Pem(EVP_PKEY* pkey) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string OpenSslSpki(EVP_PKEY* pkey) {
  unsigned char* buf = nullptr;
  const int len = i2d_PUBKEY(pkey, &buf);
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

// certfleet writes PKCS#8 (EC) and SubjectPublicKeyInfo itself for speed;
// the bytes must be exactly what OpenSSL's own encoders produce.
TEST(PrivateKeyEncodingTest, MatchesOpenSslEncodersByteForByte) {
  for (KeyType type : {KeyType::kEc256, KeyType::kEc384, KeyType::kRsa2048}) {
    SCOPED_TRACE(KeyTypeName(type));
    for (int i = 0; i < 5; ++i) {
      ASSERT_OK_AND_ASSIGN(PrivateKey key, PrivateKey::Generate(type));
      ASSERT_OK_AND_ASSIGN(std::string pem, key.ToPem());
      EXPECT_EQ(pem, OpenSslPkcs8Pem(key.raw()));
      ASSERT_OK_AND_ASSIGN(std::string spki, key.SubjectPublicKeyInfoDer());
      EXPECT_EQ(spki, OpenSslSpki(key.raw()));
    }
  }
}

}  // namespace
}  // namespace certfleet::crypto
