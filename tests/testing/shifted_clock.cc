#include "tests/testing/shifted_clock.h"

#include <algorithm>

namespace certfleet::testing {

absl::Time ShiftedClock::Now() { return absl::Now() + offset(); }

absl::Duration ShiftedClock::offset() const {
  absl::MutexLock lock(&mu_);
  return offset_;
}

void ShiftedClock::Shift(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  offset_ += std::max(d, absl::ZeroDuration());
}

absl::Status ShiftedClock::SleepUntil(absl::Time until, const Context& ctx) {
  // Slices, so that a shift (which moves `until` closer in real time) is
  // noticed; the context's deadline is real time, as everywhere.
  while (true) {
    const absl::Duration left = until - Now();
    if (left <= absl::ZeroDuration()) return absl::OkStatus();
    const absl::Status s = real_.SleepUntil(
        absl::Now() + std::min(left, absl::Milliseconds(50)), ctx);
    if (!s.ok()) return s;
  }
}

}  // namespace certfleet::testing
