// The time seam. Logic never reads the system clock directly: it receives a
// Clock& so tests can substitute tests/testing/fake_clock.h and advance time
// by hand.
//
//   absl::Status s = clock.SleepFor(absl::Milliseconds(50), ctx);
//   if (!s.ok()) return s;  // cancelled or past the context's deadline
#ifndef CERTFLEET_COMMON_CLOCK_H_
#define CERTFLEET_COMMON_CLOCK_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/context.h"

namespace certfleet {

class Clock {
 public:
  virtual ~Clock() = default;

  virtual absl::Time Now() = 0;

  // Sleeps until `until`. Returns OK when it was reached; kCancelled when the
  // context was cancelled first; kDeadlineExceeded when the context's
  // deadline comes before `until` (the sleep then ends at the deadline).
  virtual absl::Status SleepUntil(absl::Time until, const Context& ctx) = 0;

  absl::Status SleepFor(absl::Duration d, const Context& ctx) {
    return SleepUntil(Now() + d, ctx);
  }
};

// The wall clock.
class SystemClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  absl::Status SleepUntil(absl::Time until, const Context& ctx) override;
};

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_CLOCK_H_
