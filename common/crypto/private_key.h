// An asymmetric private key (ECDSA P-256/P-384 or RSA 2048/3072/4096) for ACME
// accounts and certificates: generation, PEM import/export, raw JWS
// signatures (RFC 7515/7518) and the public JWK with its RFC 7638 thumbprint.
//
// Immutable and cheap to copy (copies share one EVP_PKEY); safe to use from
// several threads at once.
//
//   ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate(KeyType::kEc256));
//   std::string header = absl::StrCat(R"({"alg":")", key.JwsAlgorithm(),
//                                     R"(","jwk":)", key.PublicJwkJson(), ...);
//   ASSIGN_OR_RETURN(std::string sig, key.SignJws(signing_input));
#ifndef CERTFLEET_COMMON_CRYPTO_PRIVATE_KEY_H_
#define CERTFLEET_COMMON_CRYPTO_PRIVATE_KEY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/key_type.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace certfleet::crypto {

class PrivateKey {
 public:
  // A fresh key from OpenSSL's CSPRNG.
  static absl::StatusOr<PrivateKey> Generate(KeyType type);

  // Parses the first private key in `pem`: PKCS#8 "PRIVATE KEY", SEC1
  // "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY". Encrypted keys are refused
  // (no passphrase prompt). kInvalidArgument when the text holds no usable
  // key, or the key is not one of the KeyType choices (the message names the
  // curve or size found).
  static absl::StatusOr<PrivateKey> FromPem(absl::string_view pem);

  // Wraps an existing key; takes its own reference (EVP_PKEY_up_ref), the
  // caller keeps its. Same type rules as FromPem.
  static absl::StatusOr<PrivateKey> FromRaw(EVP_PKEY* pkey);

  // Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
  absl::StatusOr<std::string> ToPem() const;

  KeyType type() const;

  // RFC 7518 §3.1 "alg": "ES256" (P-256), "ES384" (P-384), "RS256" (RSA).
  std::string JwsAlgorithm() const;

  // The raw JWS signature over `signing_input` (RFC 7515 §5.1):
  // ECDSA as fixed-width R||S (RFC 7518 §3.4; 64 bytes with SHA-256 for P-256,
  // 96 bytes with SHA-384 for P-384), RSA as RSASSA-PKCS1-v1_5 with SHA-256.
  absl::StatusOr<std::string> SignJws(absl::string_view signing_input) const;

  // The signature over `data` in its X.509/PKCS#10 form: a DER
  // ECDSA-Sig-Value (SHA-256 for P-256, SHA-384 for P-384) or an
  // RSASSA-PKCS1-v1_5 signature with SHA-256.
  absl::StatusOr<std::string> SignNative(absl::string_view data) const;

  // The DER SubjectPublicKeyInfo (RFC 5280 §4.1; RFC 5480 for EC).
  absl::StatusOr<std::string> SubjectPublicKeyInfoDer() const;

  // The public key as the RFC 7638 §3 canonical JWK: required members only, in
  // lexicographic order, no whitespace. EC: {"crv","kty","x","y"} with x and
  // y padded to the field size; RSA: {"e","kty","n"} without leading zeros.
  // Usable both as the JWS "jwk" header value and as the thumbprint input.
  std::string PublicJwkJson() const;

  // base64url(SHA-256(PublicJwkJson())) — RFC 7638 §3, used in ACME key
  // authorizations (RFC 8555 §8.1).
  std::string JwkThumbprint() const;

  // The underlying key, owned by this object (and its copies).
  EVP_PKEY* raw() const;

 private:
  struct State;
  explicit PrivateKey(std::shared_ptr<const State> state)
      : state_(std::move(state)) {}

  std::shared_ptr<const State> state_;
};

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_PRIVATE_KEY_H_
