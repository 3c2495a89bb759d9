#include "coordinator/delivery/rate_limits.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace certfleet::delivery {

KeyedRateLimiter::KeyedRateLimiter(RateLimit limit, size_t max_keys,
                                   Clock& clock)
    : limit_{.burst = std::max(1.0, limit.burst),
             .refill_every =
                 std::max(absl::Nanoseconds(1), limit.refill_every)},
      max_keys_(std::max<size_t>(1, max_keys)),
      clock_(clock) {}

void KeyedRateLimiter::Refill(Bucket& b, absl::Time now) const {
  if (now <= b.last) return;
  b.tokens = std::min(
      limit_.burst,
      b.tokens + absl::FDivDuration(now - b.last, limit_.refill_every));
  b.last = now;
}

KeyedRateLimiter::Decision KeyedRateLimiter::Take(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      for (auto b = buckets_.begin(); b != buckets_.end();) {
        Refill(b->second, now);
        b = b->second.tokens >= limit_.burst ? buckets_.erase(b) : ++b;
      }
    }
    if (buckets_.size() >= max_keys_) {
      return {.allowed = false,
              .retry_after = limit_.refill_every,
              .first_refusal = false};
    }
    it = buckets_
             .emplace(std::string(key),
                      Bucket{.tokens = limit_.burst, .last = now})
             .first;
  }
  Bucket& b = it->second;
  Refill(b, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    b.refused = false;
    return {.allowed = true};
  }
  Decision d{.allowed = false,
             .retry_after = (1 - b.tokens) * limit_.refill_every,
             .first_refusal = !b.refused};
  b.refused = true;
  return d;
}

void KeyedRateLimiter::Refund(absl::string_view key) {
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return;
  it->second.tokens = std::min(limit_.burst, it->second.tokens + 1);
}

size_t KeyedRateLimiter::keys() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

std::string SourceAddressKey(absl::string_view peer) {
  if (absl::ConsumePrefix(&peer, "ipv4:")) {
    const size_t colon = peer.rfind(':');
    return std::string(peer.substr(0, colon));
  }
  absl::string_view rest = peer;
  if (absl::ConsumePrefix(&rest, "ipv6:")) {
    // "[addr]:port", the brackets percent-encoded by newer gRPC releases.
    std::string text = absl::StrReplaceAll(
        rest, {{"%5B", "["}, {"%5b", "["}, {"%5D", "]"}, {"%5d", "]"}});
    const size_t close = text.find(']');
    if (!text.empty() && text[0] == '[' && close != std::string::npos) {
      std::string address = text.substr(1, close - 1);
      // A zone ("fe80::1%25eth0") is not part of the address.
      address = address.substr(0, address.find('%'));
      unsigned char bytes[16];
      if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
        static constexpr unsigned char kV4Mapped[12] = {0, 0, 0, 0, 0,    0,
                                                        0, 0, 0, 0, 0xff, 0xff};
        char out[INET6_ADDRSTRLEN];
        // An IPv4 client of a dual-stack listener: its own address.
        if (memcmp(bytes, kV4Mapped, sizeof kV4Mapped) == 0 &&
            inet_ntop(AF_INET, bytes + 12, out, sizeof out) != nullptr) {
          return out;
        }
        memset(bytes + 8, 0, 8);
        if (inet_ntop(AF_INET6, bytes, out, sizeof out) != nullptr) {
          return absl::StrCat(out, "/64");
        }
      }
    }
  }
  return std::string(peer.substr(0, 64));
}

}  // namespace certfleet::delivery
