#include "common/crypto/public_key.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "common/crypto/openssl_util.h"
#include "common/status_macros.h"

namespace certfleet::crypto {

using internal::OpenSslError;

namespace {

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* pkey) {
  EVP_PKEY_up_ref(pkey);
  return std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
}

}  // namespace

absl::StatusOr<PublicKey> PublicKey::FromRaw(EVP_PKEY* pkey) {
  if (pkey == nullptr) return absl::InvalidArgumentError("null EVP_PKEY");
  ASSIGN_OR_RETURN(KeyType type, internal::KeyTypeOf(pkey));
  return PublicKey(Share(pkey), type);
}

absl::StatusOr<PublicKey> PublicKey::FromSubjectPublicKeyInfoDer(
    absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* raw = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "malformed SubjectPublicKeyInfo");
  }
  internal::EvpPkeyPtr owned(raw);
  const size_t used = static_cast<size_t>(
      p - reinterpret_cast<const unsigned char*>(der.data()));
  if (used != der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SubjectPublicKeyInfo followed by ", der.size() - used,
                     " extra bytes"));
  }
  return FromRaw(owned.get());
}

PublicKey PublicKey::Of(const PrivateKey& key) {
  return PublicKey(Share(key.raw()), key.type());
}

absl::StatusOr<std::string> PublicKey::SubjectPublicKeyInfoDer() const {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey_.get(), &der);
  if (len <= 0) {
    return OpenSslError(absl::StatusCode::kInternal,
                        "encode SubjectPublicKeyInfo");
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace certfleet::crypto
