#include "coordinator/acme/nonce_pool.h"

namespace certfleet::acme {

void NoncePool::Add(std::string nonce) {
  if (nonce.empty()) return;
  absl::MutexLock lock(&mu_);
  nonces_.push_back(std::move(nonce));
  while (nonces_.size() > capacity_) nonces_.pop_front();
}

std::optional<std::string> NoncePool::Take() {
  absl::MutexLock lock(&mu_);
  if (nonces_.empty()) return std::nullopt;
  std::string n = std::move(nonces_.back());
  nonces_.pop_back();
  return n;
}

size_t NoncePool::size() const {
  absl::MutexLock lock(&mu_);
  return nonces_.size();
}

void NoncePool::Clear() {
  absl::MutexLock lock(&mu_);
  nonces_.clear();
}

}  // namespace certfleet::acme
