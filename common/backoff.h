// Exponential backoff with full jitter and a cap, for retrying what is typed
// retryable (kUnavailable, kDeadlineExceeded, kResourceExhausted).
//
//   Backoff backoff({.initial = absl::Milliseconds(100), .max =
//   absl::Minutes(5)}); for (;;) {
//     absl::Status s = Attempt();
//     if (s.ok() || !IsRetryable(s)) return s;
//     RETURN_IF_ERROR(clock.SleepFor(backoff.Next(), ctx));
//   }
#ifndef CERTFLEET_COMMON_BACKOFF_H_
#define CERTFLEET_COMMON_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace certfleet {

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Minutes(5);
  double multiplier = 2.0;
  // Fraction of each delay that is randomised: 0 = none, 1 = full jitter
  // (uniform in [0, delay]). 0.5 keeps delays in [delay/2, delay].
  double jitter = 0.5;
};

class Backoff {
 public:
  // Without a seed, one is drawn from a per-thread generator (cheap: a
  // std::random_device per Backoff costs a system call on every request).
  explicit Backoff(BackoffPolicy policy = {}, uint64_t seed = NextSeed());

  static uint64_t NextSeed();

  // The delay before the next attempt; grows until it reaches `max`.
  absl::Duration Next();
  void Reset();
  int attempts() const { return attempts_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 rng_;
  absl::Duration current_;
  int attempts_ = 0;
};

// Codes that mean "the same call may succeed later": kUnavailable,
// kDeadlineExceeded, kResourceExhausted, kAborted.
bool IsRetryable(const absl::Status& status);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_BACKOFF_H_
