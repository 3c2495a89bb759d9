#include "common/crypto/certificate_cache.h"

#include "absl/strings/str_cat.h"

namespace certfleet::crypto {

absl::StatusOr<Certificate> CertificateCache::FromDer(const std::string& der) {
  {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(der);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  // Parsed outside the lock: concurrent misses for the same DER both parse,
  // and the second insert is skipped.
  absl::StatusOr<Certificate> cert = Certificate::FromDer(der);
  if (!cert.ok()) return cert.status();
  absl::MutexLock lock(&mu_);
  if (index_.find(der) == index_.end()) {
    lru_.emplace_front(der, *cert);
    index_[der] = lru_.begin();
    while (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }
  return cert;
}

absl::StatusOr<std::vector<Certificate>> CertificateCache::ParsePemChain(
    absl::string_view pem) {
  absl::StatusOr<std::vector<std::string>> ders =
      Certificate::PemChainToDer(pem);
  if (!ders.ok()) return ders.status();
  std::vector<Certificate> out;
  out.reserve(ders->size());
  for (size_t i = 0; i < ders->size(); ++i) {
    absl::StatusOr<Certificate> c =
        i == 0 ? Certificate::FromDer((*ders)[i]) : FromDer((*ders)[i]);
    if (!c.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate ", i + 1, " in PEM text: ", c.status().message()));
    }
    out.push_back(*std::move(c));
  }
  return out;
}

size_t CertificateCache::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace certfleet::crypto
