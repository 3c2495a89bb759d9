#include "coordinator/acme/rate_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "coordinator/acme/problem.h"

namespace certfleet::acme {

TokenBucket::TokenBucket(double rate_per_second, double burst, Clock& clock)
    : rate_(rate_per_second),
      burst_(std::max(1.0, burst)),
      clock_(clock),
      tokens_(std::max(1.0, burst)),
      last_(clock.Now()) {}

absl::Status TokenBucket::Acquire(const Context& ctx) {
  if (rate_ <= 0) return absl::OkStatus();
  absl::Time wake;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    if (now > last_) {
      tokens_ = std::min(burst_,
                         tokens_ + absl::ToDoubleSeconds(now - last_) * rate_);
      last_ = now;
    }
    // Reserve a token even if it is not there yet: tokens_ may go negative,
    // which queues later callers behind this one.
    tokens_ -= 1;
    if (tokens_ >= 0) return absl::OkStatus();
    wake = now + absl::Seconds(-tokens_ / rate_);
  }
  absl::Status s = clock_.SleepUntil(wake, ctx);
  if (!s.ok()) {
    absl::MutexLock lock(&mu_);
    tokens_ += 1;  // give the reservation back
  }
  return s;
}

WindowLimiter::WindowLimiter(int max_events, absl::Duration window,
                             Clock& clock)
    : max_events_(max_events), window_(window), clock_(clock) {}

absl::Status WindowLimiter::TryAcquire() {
  if (max_events_ <= 0) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  while (!events_.empty() && events_.front() + window_ <= now) {
    events_.pop_front();
  }
  if (static_cast<int>(events_.size()) < max_events_) {
    events_.push_back(now);
    return absl::OkStatus();
  }
  const absl::Time free_at = events_.front() + window_;
  const std::string limit = DescribeOrderLimit(max_events_, window_);
  absl::Status s = absl::ResourceExhaustedError(absl::StrCat(
      "client-side limit: ", limit, " reached; next slot at ",
      absl::FormatTime(absl::RFC3339_sec, free_at, absl::UTCTimeZone())));
  SetRetryAfter(s, free_at);
  SetClientLimit(s, limit);
  return s;
}

void WindowLimiter::Release() {
  absl::MutexLock lock(&mu_);
  if (!events_.empty()) events_.pop_back();
}

absl::Status Semaphore::Acquire(const Context& ctx, Clock& clock) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return available_ > 0;
  };
  while (!ready()) {
    if (absl::Status s = ctx.Check(clock.Now()); !s.ok()) return s;
    // Wake periodically to notice cancellation (Cancellation cannot signal
    // this mutex).
    mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(20));
  }
  --available_;
  return absl::OkStatus();
}

void Semaphore::Release() {
  absl::MutexLock lock(&mu_);
  ++available_;
}

}  // namespace certfleet::acme
