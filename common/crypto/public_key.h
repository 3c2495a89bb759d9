// A public key of one of the KeyType choices, as found in a CSR or a
// certificate: what a certificate is issued for when the private half stays
// with its owner (an agent's identity key).
//
// Immutable and cheap to copy (copies share one EVP_PKEY).
//
//   ASSIGN_OR_RETURN(PublicKey key, VerifyCsrDer(csr_der));
//   ASSIGN_OR_RETURN(Certificate cert,
//                    IssueCertificate(spec, key, ca_cert, ca_key));
#ifndef CERTFLEET_COMMON_CRYPTO_PUBLIC_KEY_H_
#define CERTFLEET_COMMON_CRYPTO_PUBLIC_KEY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/key_type.h"
#include "common/crypto/private_key.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace certfleet::crypto {

class PublicKey {
 public:
  // Takes a new reference to `pkey` (the caller keeps its own).
  // kInvalidArgument when the key is not one of the KeyType choices (the
  // message names the curve or size found).
  static absl::StatusOr<PublicKey> FromRaw(EVP_PKEY* pkey);

  // A DER SubjectPublicKeyInfo (RFC 5280 §4.1), with nothing after it.
  static absl::StatusOr<PublicKey> FromSubjectPublicKeyInfoDer(
      absl::string_view der);

  // The public half of `key`.
  static PublicKey Of(const PrivateKey& key);

  KeyType type() const { return type_; }

  // The DER SubjectPublicKeyInfo.
  absl::StatusOr<std::string> SubjectPublicKeyInfoDer() const;

  // The underlying key, owned by this object (and its copies). Only its
  // public half is ever used.
  EVP_PKEY* raw() const { return pkey_.get(); }

 private:
  PublicKey(std::shared_ptr<EVP_PKEY> pkey, KeyType type)
      : pkey_(std::move(pkey)), type_(type) {}

  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
};

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_PUBLIC_KEY_H_
