#include "common/crypto/private_key.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/der.h"
#include "common/crypto/encoding.h"
#include "common/crypto/openssl_util.h"
#include "common/status_macros.h"

namespace certfleet::crypto {

using internal::BignumBytes;
using internal::BignumPtr;
using internal::BioPtr;
using internal::EvpMdCtxPtr;
using internal::EvpPkeyPtr;
using internal::OpenSslError;

// Everything derived from the key is computed once here, so the hot path
// (SignJws, ~7 times per certificate) only copies a ready signing context.
struct PrivateKey::State {
  ~State() {
    EVP_MD_CTX_free(sign_template);
    EVP_PKEY_free(pkey);
  }

  EVP_PKEY* pkey = nullptr;
  KeyType type = KeyType::kEc256;
  std::string jwk_json;
  std::string thumbprint;
  const char* digest = "SHA256";
  // ECDSA R and S width in bytes (RFC 7518 §3.4); 0 for RSA.
  int ec_coordinate_bytes = 0;
  // Maximum size of the signature OpenSSL produces (DER for ECDSA).
  size_t max_signature_bytes = 0;
  // A DigestSign context initialized for `pkey` and `digest`, never updated:
  // each signature starts from a copy, which skips the provider lookups that
  // EVP_DigestSignInit repeats every time.
  EVP_MD_CTX* sign_template = nullptr;
};

namespace {

// Maps an EVP_PKEY to the KeyType choices; anything else is refused with a
// message naming what was found.
absl::StatusOr<KeyType> DeriveKeyType(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[80] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof group, &len) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          "EC key with explicit curve parameters is not supported (use a named "
          "curve: P-256 or P-384)");
    }
    int nid = OBJ_txt2nid(group);
    if (nid == NID_undef) nid = EC_curve_nist2nid(group);
    if (nid == NID_X9_62_prime256v1) return KeyType::kEc256;
    if (nid == NID_secp384r1) return KeyType::kEc384;
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported EC curve ", group, " (supported: P-256, P-384)"));
  }
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey);
    if (bits == 2048) return KeyType::kRsa2048;
    if (bits == 3072) return KeyType::kRsa3072;
    if (bits == 4096) return KeyType::kRsa4096;
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported RSA key size ", bits,
                     " bits (supported: 2048, 3072, 4096)"));
  }
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported key algorithm ", name ? name : "(unknown)",
                   " (supported: ", KeyTypeChoices(), ")"));
}

absl::StatusOr<std::string> BnParamBytes(EVP_PKEY* pkey, const char* param,
                                         int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw) != 1 || raw == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal,
                        absl::StrCat("read public key parameter ", param));
  }
  BignumPtr bn(raw);
  return BignumBytes(bn.get(), width);
}

bool HasParam(EVP_PKEY* pkey, const char* param) {
  BIGNUM* value = nullptr;
  const bool ok = EVP_PKEY_get_bn_param(pkey, param, &value) == 1;
  BN_free(value);
  ERR_clear_error();
  return ok;
}

// A key parsed from a certificate or SPKI has no private half and could not
// sign; refuse it up front rather than at the first signature.
bool HasPrivateHalf(EVP_PKEY* pkey, KeyType type) {
  BIGNUM* secret = nullptr;
  const char* param =
      IsEc(type) ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_RSA_D;
  const bool ok = EVP_PKEY_get_bn_param(pkey, param, &secret) == 1;
  BN_clear_free(secret);
  ERR_clear_error();
  return ok;
}

// RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
absl::StatusOr<std::string> CanonicalJwk(EVP_PKEY* pkey, KeyType type) {
  if (IsEc(type)) {
    const int width = type == KeyType::kEc256 ? 32 : 48;
    ASSIGN_OR_RETURN(std::string x,
                     BnParamBytes(pkey, OSSL_PKEY_PARAM_EC_PUB_X, width));
    ASSIGN_OR_RETURN(std::string y,
                     BnParamBytes(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, width));
    return absl::StrCat(R"({"crv":")",
                        type == KeyType::kEc256 ? "P-256" : "P-384",
                        R"(","kty":"EC","x":")", Base64UrlEncode(x),
                        R"(","y":")", Base64UrlEncode(y), R"("})");
  }
  // RFC 7518 §6.3.1: n and e are unsigned big-endian without leading zeros,
  // which is what a minimal-width BignumBytes gives.
  ASSIGN_OR_RETURN(std::string n, BnParamBytes(pkey, OSSL_PKEY_PARAM_RSA_N, 0));
  ASSIGN_OR_RETURN(std::string e, BnParamBytes(pkey, OSSL_PKEY_PARAM_RSA_E, 0));
  return absl::StrCat(R"({"e":")", Base64UrlEncode(e), R"(","kty":"RSA","n":")",
                      Base64UrlEncode(n), R"("})");
}

absl::Status InitSign(EVP_MD_CTX* ctx, EVP_PKEY* pkey, const char* digest) {
  if (EVP_DigestSignInit_ex(ctx, nullptr, digest, nullptr, nullptr, pkey,
                            nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        absl::StrCat("initialize ", digest, " signature"));
  }
  return absl::OkStatus();
}

// Passphrase callback that refuses: without it OpenSSL would prompt on the
// terminal for an encrypted key.
int NoPassphrase(char*, int, int, void*) { return -1; }

}  // namespace

absl::StatusOr<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::kEc256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEc384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kRsa2048:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::kRsa3072:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case KeyType::kRsa4096:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
  }
  if (raw == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal,
                        absl::StrCat("generate ", KeyTypeName(type), " key"));
  }
  EvpPkeyPtr owned(raw);
  return FromRaw(owned.get());
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(absl::string_view pem) {
  if (absl::StrContains(pem, "ENCRYPTED")) {
    return absl::InvalidArgumentError(
        "encrypted private keys are not supported; store the key unencrypted "
        "(openssl pkey -in KEY -out PLAIN.pem)");
  }
  BioPtr bio = internal::MemBio(pem);
  EVP_PKEY* raw =
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (raw == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "no PKCS#8, EC or RSA private key found in PEM text");
  }
  EvpPkeyPtr owned(raw);
  return FromRaw(owned.get());
}

namespace internal {
absl::StatusOr<KeyType> KeyTypeOf(EVP_PKEY* pkey) {
  return DeriveKeyType(pkey);
}
}  // namespace internal

absl::StatusOr<PrivateKey> PrivateKey::FromRaw(EVP_PKEY* pkey) {
  if (pkey == nullptr) return absl::InvalidArgumentError("null EVP_PKEY");
  ASSIGN_OR_RETURN(KeyType type, DeriveKeyType(pkey));
  if (!HasPrivateHalf(pkey, type)) {
    return absl::InvalidArgumentError(
        absl::StrCat(KeyTypeName(type),
                     " key has no private half (a public key cannot sign)"));
  }
  // An EC key whose public point OpenSSL could not provide (seen from
  // mangled PEM text before a key) has no thumbprint and nothing to compare
  // with a certificate: bad input, not an internal error.
  if (IsEc(type) && !HasParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X)) {
    return absl::InvalidArgumentError(absl::StrCat(
        KeyTypeName(type), " key has no public point (damaged PEM text?)"));
  }
  auto state = std::make_shared<State>();
  EVP_PKEY_up_ref(pkey);
  state->pkey = pkey;
  state->type = type;
  ASSIGN_OR_RETURN(state->jwk_json, CanonicalJwk(pkey, type));
  state->thumbprint = Base64UrlEncode(Sha256(state->jwk_json));
  if (type == KeyType::kEc384) state->digest = "SHA384";
  if (IsEc(type))
    state->ec_coordinate_bytes = type == KeyType::kEc256 ? 32 : 48;
  state->max_signature_bytes = static_cast<size_t>(EVP_PKEY_get_size(pkey));
  state->sign_template = EVP_MD_CTX_new();
  if (state->sign_template == nullptr) {
    return absl::ResourceExhaustedError("EVP_MD_CTX_new failed");
  }
  RETURN_IF_ERROR(InitSign(state->sign_template, pkey, state->digest));
  return PrivateKey(std::move(state));
}

namespace {

// The curve's OID contents for the EC key types.
absl::string_view CurveOid(KeyType type) {
  return type == KeyType::kEc384 ? der::kOidSecp384r1 : der::kOidPrime256v1;
}

absl::StatusOr<std::string> EcPublicPoint(EVP_PKEY* pkey) {
  unsigned char buf[160];
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, buf,
                                      sizeof buf, &len) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "read EC public point");
  }
  return std::string(reinterpret_cast<char*>(buf), len);
}

absl::StatusOr<std::string> BignumParam(EVP_PKEY* pkey, const char* name,
                                        int width) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        absl::StrCat("read key parameter ", name));
  }
  BignumPtr owned(bn);
  return BignumBytes(bn, width);
}

std::string PemWrap(absl::string_view der, absl::string_view label) {
  const std::string b64 = Base64Encode(der);
  std::string out = absl::StrCat("-----BEGIN ", label, "-----\n");
  for (size_t i = 0; i < b64.size(); i += 64) {
    absl::StrAppend(&out, b64.substr(i, 64), "\n");
  }
  absl::StrAppend(&out, "-----END ", label, "-----\n");
  return out;
}

}  // namespace

absl::StatusOr<std::string> PrivateKey::SubjectPublicKeyInfoDer() const {
  if (IsEc(state_->type)) {
    // RFC 5480 §2: id-ecPublicKey with the named curve, the point as is.
    ASSIGN_OR_RETURN(std::string point, EcPublicPoint(state_->pkey));
    return der::Sequence({der::Sequence({der::Oid(der::kOidEcPublicKey),
                                         der::Oid(CurveOid(state_->type))}),
                          der::BitString(point)});
  }
  // RFC 8017 Appendix A.1.1: RSAPublicKey ::= SEQUENCE { n, e }.
  ASSIGN_OR_RETURN(std::string n,
                   BignumParam(state_->pkey, OSSL_PKEY_PARAM_RSA_N, 0));
  ASSIGN_OR_RETURN(std::string e,
                   BignumParam(state_->pkey, OSSL_PKEY_PARAM_RSA_E, 0));
  return der::Sequence(
      {der::Sequence({der::Oid(der::kOidRsaEncryption), der::Null()}),
       der::BitString(
           der::Sequence({der::UnsignedInteger(n), der::UnsignedInteger(e)}))});
}

absl::StatusOr<std::string> PrivateKey::ToPem() const {
  if (IsEc(state_->type)) {
    // PKCS#8 (RFC 5208) around an RFC 5915 ECPrivateKey, written directly:
    // OpenSSL 3.0's encoder costs more than the rest of an order.
    ASSIGN_OR_RETURN(std::string priv,
                     BignumParam(state_->pkey, OSSL_PKEY_PARAM_PRIV_KEY,
                                 state_->ec_coordinate_bytes));
    ASSIGN_OR_RETURN(std::string point, EcPublicPoint(state_->pkey));
    const std::string ec_private_key =
        der::Sequence({der::SmallInteger(1), der::OctetString(priv),
                       der::Context(1, true, der::BitString(point))});
    OPENSSL_cleanse(priv.data(), priv.size());
    std::string pkcs8 =
        der::Sequence({der::SmallInteger(0),
                       der::Sequence({der::Oid(der::kOidEcPublicKey),
                                      der::Oid(CurveOid(state_->type))}),
                       der::OctetString(ec_private_key)});
    std::string pem = PemWrap(pkcs8, "PRIVATE KEY");
    OPENSSL_cleanse(pkcs8.data(), pkcs8.size());
    return pem;
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), state_->pkey, nullptr,
                                       nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        "encode private key as PKCS#8 PEM");
  }
  return internal::BioToString(bio.get());
}

KeyType PrivateKey::type() const { return state_->type; }

std::string PrivateKey::JwsAlgorithm() const {
  switch (state_->type) {
    case KeyType::kEc256:
      return "ES256";
    case KeyType::kEc384:
      return "ES384";
    default:
      return "RS256";
  }
}

absl::StatusOr<std::string> PrivateKey::SignNative(
    absl::string_view data) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return absl::ResourceExhaustedError("EVP_MD_CTX_new failed");
  if (EVP_MD_CTX_copy_ex(ctx.get(), state_->sign_template) != 1) {
    // Not expected with the default provider; fall back to a full init.
    ERR_clear_error();
    ctx.reset(EVP_MD_CTX_new());
    if (!ctx) return absl::ResourceExhaustedError("EVP_MD_CTX_new failed");
    RETURN_IF_ERROR(InitSign(ctx.get(), state_->pkey, state_->digest));
  }
  // This context is used once: let Final consume it instead of duplicating.
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  std::string sig(state_->max_signature_bytes, '\0');
  size_t sig_len = sig.size();
  if (EVP_DigestSignUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestSignFinal(ctx.get(),
                          reinterpret_cast<unsigned char*>(sig.data()),
                          &sig_len) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        absl::StrCat("sign with ", JwsAlgorithm()));
  }
  sig.resize(sig_len);
  return sig;
}

absl::StatusOr<std::string> PrivateKey::SignJws(
    absl::string_view signing_input) const {
  ASSIGN_OR_RETURN(std::string sig, SignNative(signing_input));
  if (state_->ec_coordinate_bytes == 0) return sig;

  // RFC 7518 §3.4: JWS carries R||S, each left-padded to the curve size,
  // where OpenSSL produces a DER ECDSA-Sig-Value.
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  if (ecdsa == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal, "decode ECDSA signature");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(ecdsa, &r, &s);
  const int width = state_->ec_coordinate_bytes;
  std::string out = BignumBytes(r, width) + BignumBytes(s, width);
  ECDSA_SIG_free(ecdsa);
  return out;
}

std::string PrivateKey::PublicJwkJson() const { return state_->jwk_json; }

std::string PrivateKey::JwkThumbprint() const { return state_->thumbprint; }

EVP_PKEY* PrivateKey::raw() const { return state_->pkey; }

}  // namespace certfleet::crypto
