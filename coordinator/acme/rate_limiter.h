// Client-side limits that keep certfleet inside a CA's published rate limits
// (Let's Encrypt: ~20 new-nonce and ~250 other requests per second per IP,
// 300 new orders per 3 hours per account) instead of discovering them
// through rateLimited errors.
//
//   TokenBucket requests(/*rate=*/200, /*burst=*/50, clock);
//   RETURN_IF_ERROR(requests.Acquire(ctx));  // waits for a token
//   WindowLimiter orders(300, absl::Hours(3), clock);
//   RETURN_IF_ERROR(orders.TryAcquire());    // kResourceExhausted +
//   Retry-After
#ifndef CERTFLEET_COORDINATOR_ACME_RATE_LIMITER_H_
#define CERTFLEET_COORDINATOR_ACME_RATE_LIMITER_H_

#include <deque>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace certfleet::acme {

// Requests per second with a burst allowance. Callers that find no token
// reserve the next one and sleep until it is due, so waiting callers are
// served in arrival order. rate <= 0 means unlimited. Thread-safe.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, Clock& clock);
  absl::Status Acquire(const Context& ctx);

 private:
  const double rate_;
  const double burst_;
  Clock& clock_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

// At most `max_events` in any `window`. Does not block: hours-long waits are
// the scheduler's business, so a refusal carries the time a slot frees up
// (kResourceExhausted with a Retry-After payload, see problem.h).
// max_events <= 0 means unlimited. Thread-safe.
class WindowLimiter {
 public:
  WindowLimiter(int max_events, absl::Duration window, Clock& clock);
  absl::Status TryAcquire();
  // Gives back the most recent slot (the request was never sent).
  void Release();

 private:
  const int max_events_;
  const absl::Duration window_;
  Clock& clock_;
  absl::Mutex mu_;
  std::deque<absl::Time> events_ ABSL_GUARDED_BY(mu_);
};

// A counting semaphore whose Acquire honours the context (its deadline is
// read from `clock`).
class Semaphore {
 public:
  explicit Semaphore(int permits) : available_(permits) {}
  absl::Status Acquire(const Context& ctx, Clock& clock);
  void Release();

 private:
  absl::Mutex mu_;
  int available_ ABSL_GUARDED_BY(mu_);
};

// Holds one permit for its lifetime.
class SemaphoreGuard {
 public:
  explicit SemaphoreGuard(Semaphore* s) : s_(s) {}
  ~SemaphoreGuard() {
    if (s_) s_->Release();
  }
  SemaphoreGuard(const SemaphoreGuard&) = delete;
  SemaphoreGuard& operator=(const SemaphoreGuard&) = delete;

 private:
  Semaphore* s_;
};

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_RATE_LIMITER_H_
