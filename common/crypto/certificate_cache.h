// Parsed certificates kept by their DER bytes. Every order of an issuer
// brings the same intermediates, and parsing X.509 is costly with OpenSSL
// 3.0: each certificate's public key goes through provider decoders that
// are set up afresh per call (about a quarter of the coordinator's CPU per
// certificate before this cache). Thread-safe; least recently used entries
// are dropped beyond `capacity`.
//
//   CertificateCache cache;
//   ASSIGN_OR_RETURN(std::vector<Certificate> chain, cache.ParsePemChain(pem));
#ifndef CERTFLEET_COMMON_CRYPTO_CERTIFICATE_CACHE_H_
#define CERTFLEET_COMMON_CRYPTO_CERTIFICATE_CACHE_H_

#include <list>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/certificate.h"

namespace certfleet::crypto {

class CertificateCache {
 public:
  explicit CertificateCache(size_t capacity = 64) : capacity_(capacity) {}

  // The certificate for `der`, parsed once.
  absl::StatusOr<Certificate> FromDer(const std::string& der);

  // Like Certificate::ParsePemChain; the first certificate (a leaf, new
  // every time) is parsed without being cached, the others through the
  // cache.
  absl::StatusOr<std::vector<Certificate>> ParsePemChain(absl::string_view pem);

  size_t size() const;

 private:
  using Lru = std::list<std::pair<std::string, Certificate>>;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::crypto

#endif  // CERTFLEET_COMMON_CRYPTO_CERTIFICATE_CACHE_H_
