#include "common/backoff.h"

#include <algorithm>

namespace certfleet {

uint64_t Backoff::NextSeed() {
  thread_local std::mt19937_64 seeds(std::random_device{}());
  return seeds();
}

Backoff::Backoff(BackoffPolicy policy, uint64_t seed)
    : policy_(policy), rng_(seed), current_(policy.initial) {}

absl::Duration Backoff::Next() {
  const absl::Duration base = std::min(current_, policy_.max);
  current_ = std::min(policy_.max, current_ * policy_.multiplier);
  ++attempts_;
  const double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  std::uniform_real_distribution<double> dist(1.0 - jitter, 1.0);
  return base * dist(rng_);
}

void Backoff::Reset() {
  current_ = policy_.initial;
  attempts_ = 0;
}

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

}  // namespace certfleet
