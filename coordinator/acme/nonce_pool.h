// Anti-replay nonces (RFC 8555 §7.2). Every ACME response carries a fresh
// Replay-Nonce; keeping them means a HEAD to newNonce is only needed when the
// pool is empty (at start, or after a burst). Thread-safe.
#ifndef CERTFLEET_COORDINATOR_ACME_NONCE_POOL_H_
#define CERTFLEET_COORDINATOR_ACME_NONCE_POOL_H_

#include <deque>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"

namespace certfleet::acme {

class NoncePool {
 public:
  explicit NoncePool(size_t capacity = 256) : capacity_(capacity) {}

  // Keeps `nonce` (ignored when empty). When full, the oldest is dropped:
  // servers expire old nonces first.
  void Add(std::string nonce);
  // The newest nonce, or nullopt when the pool is empty.
  std::optional<std::string> Take();
  size_t size() const;
  void Clear();

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<std::string> nonces_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_NONCE_POOL_H_
