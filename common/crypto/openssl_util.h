// Internal helpers for the crypto module's .cc files: owning pointers for
// OpenSSL objects and the text of OpenSSL's error queue. Not for use outside
// common/crypto/ (it pulls in OpenSSL headers).
//
//   BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
//   if (x == nullptr) return OpenSslError(absl::StatusCode::kInvalidArgument,
//                                         "parse certificate");
#ifndef CERTFLEET_COMMON_CRYPTO_OPENSSL_UTIL_H_
#define CERTFLEET_COMMON_CRYPTO_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/key_type.h"

namespace certfleet::crypto::internal {

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
using EvpPkeyPtr =
    std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using EvpPkeyCtxPtr =
    std::unique_ptr<EVP_PKEY_CTX,
                    OpenSslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr =
    std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;

// Drains OpenSSL's thread-local error queue into one line ("error:...; ...").
// Returns "no OpenSSL error detail" when the queue is empty.
std::string DrainOpenSslErrors();

// absl::Status with `code` and "<what>: <drained OpenSSL errors>".
absl::Status OpenSslError(absl::StatusCode code, absl::string_view what);

// The contents of a memory BIO as a string.
std::string BioToString(BIO* bio);

// A read-only memory BIO over `data` (which must outlive it).
BioPtr MemBio(absl::string_view data);

// Big-endian magnitude of `bn` left-padded with zeros to `width` bytes
// (width 0: minimal length, at least one byte).
std::string BignumBytes(const BIGNUM* bn, int width = 0);

// The KeyType of `pkey` (public or private); kInvalidArgument naming the
// curve, size or algorithm when it is none of the KeyType choices
// (defined in private_key.cc).
absl::StatusOr<KeyType> KeyTypeOf(EVP_PKEY* pkey);

}  // namespace certfleet::crypto::internal

#endif  // CERTFLEET_COMMON_CRYPTO_OPENSSL_UTIL_H_
