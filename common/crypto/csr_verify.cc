#include "common/crypto/csr_verify.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/crypto/openssl_util.h"
#include "common/status_macros.h"

namespace certfleet::crypto {

using internal::OpenSslError;

absl::StatusOr<PublicKey> VerifyCsrDer(absl::string_view der) {
  if (der.empty()) return absl::InvalidArgumentError("malformed CSR: empty");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509_REQ, internal::OpenSslDeleter<X509_REQ, X509_REQ_free>>
      req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (req == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "malformed CSR");
  }
  const size_t used = static_cast<size_t>(
      p - reinterpret_cast<const unsigned char*>(der.data()));
  if (used != der.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed CSR: followed by ", der.size() - used, " extra bytes"));
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());  // owned by req
  if (key == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "malformed CSR: unreadable public key");
  }
  absl::StatusOr<PublicKey> public_key = PublicKey::FromRaw(key);
  if (!public_key.ok()) return Annotate(public_key.status(), "CSR key");
  // 1: verified; 0: a wrong signature; < 0: it could not be checked at all.
  const int verified = X509_REQ_verify(req.get(), key);
  if (verified != 1) {
    const std::string detail = internal::DrainOpenSslErrors();
    return absl::InvalidArgumentError(absl::StrCat(
        "CSR signature does not verify (the request is not signed by the key "
        "it carries): ",
        detail));
  }
  return public_key;
}

}  // namespace certfleet::crypto
