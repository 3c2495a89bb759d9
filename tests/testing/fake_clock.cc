#include "tests/testing/fake_clock.h"

namespace certfleet::testing {

absl::Time FakeClock::Now() {
  absl::MutexLock lock(&mu_);
  return now_;
}

absl::Status FakeClock::SleepUntil(absl::Time until, const Context& ctx) {
  absl::MutexLock lock(&mu_);
  sleeps_.push_back(until - now_);
  const absl::Time end = std::min(until, ctx.deadline());
  if (ctx.IsCancelled()) return absl::CancelledError("cancelled");
  if (mode_ == Mode::kAutoAdvance) {
    if (end > now_) now_ = end;
  } else {
    ++sleepers_;
    // Re-check cancellation every few real milliseconds: Cancellation has no
    // way to signal this clock's mutex.
    struct Reached {
      const absl::Time* now;
      absl::Time end;
      bool operator()() const { return *now >= end; }
    } reached{&now_, end};
    while (now_ < end && !ctx.IsCancelled()) {
      mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Milliseconds(5));
    }
    --sleepers_;
  }
  if (ctx.IsCancelled()) return absl::CancelledError("cancelled");
  if (until > ctx.deadline()) {
    return absl::DeadlineExceededError("deadline exceeded");
  }
  return absl::OkStatus();
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void FakeClock::SetTime(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

std::vector<absl::Duration> FakeClock::sleeps() const {
  absl::MutexLock lock(&mu_);
  return sleeps_;
}

int FakeClock::sleepers() const {
  absl::MutexLock lock(&mu_);
  return sleepers_;
}

}  // namespace certfleet::testing
