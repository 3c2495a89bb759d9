// Token buckets by key — a source address, an agent id — that answer at
// once instead of making the caller wait: the agent listener refuses what
// is over the limit (RESOURCE_EXHAUSTED) rather than queueing it. A bucket
// holds `burst` tokens and gains one every `refill_every`; an idle key whose
// bucket is full again is the same as a key never seen, so it may be
// forgotten when the table is full.
//
//   KeyedRateLimiter per_address(limits.enrollment_per_address, 10000, clock);
//   KeyedRateLimiter::Decision d = per_address.Take(SourceAddressKey(peer));
//   if (!d.allowed) return ResourceExhausted(...d.retry_after...);
//   ...
//   if (enrolled) per_address.Refund(key);  // success costs nothing
#ifndef CERTFLEET_COORDINATOR_DELIVERY_RATE_LIMITS_H_
#define CERTFLEET_COORDINATOR_DELIVERY_RATE_LIMITS_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/delivery/agent_limits.h"

namespace certfleet::delivery {

// Thread-safe.
class KeyedRateLimiter {
 public:
  // At most `max_keys` keys are tracked at once (≥ 1).
  KeyedRateLimiter(RateLimit limit, size_t max_keys, Clock& clock);

  struct Decision {
    bool allowed = false;
    // Refused: how long until the key has a token again.
    absl::Duration retry_after;
    // Refused, and the key's first refusal since it was last allowed: the
    // one worth a log line (a flood is logged once, not per attempt).
    bool first_refusal = false;
  };

  // Takes a token of `key` when it has one. When `key` is new and the table
  // is full, keys whose bucket is full again are forgotten first; if none
  // is, `key` is refused (retry after one refill).
  Decision Take(absl::string_view key);
  // Gives back a token `key` took (an attempt that turned out well), up to
  // the burst.
  void Refund(absl::string_view key);
  // Keys tracked now.
  size_t keys() const;

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time last;
    bool refused = false;
  };
  // `b` refilled up to `now`.
  void Refill(Bucket& b, absl::Time now) const;

  const RateLimit limit_;
  const size_t max_keys_;
  Clock& clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_ ABSL_GUARDED_BY(mu_);
};

// The rate-limiting key of a gRPC peer ("ipv4:10.0.0.7:51234" →
// "10.0.0.7"; "ipv6:[2001:db8::7]:51234" → "2001:db8::/64", since one host
// usually holds a whole /64); any other peer string is its own key, cut to
// 64 bytes.
std::string SourceAddressKey(absl::string_view peer);

}  // namespace certfleet::delivery

#endif  // CERTFLEET_COORDINATOR_DELIVERY_RATE_LIMITS_H_
