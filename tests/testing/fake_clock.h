// A Clock for tests. Time moves only when the test says so.
//
// In kManual mode SleepUntil blocks until another thread calls Advance() past
// the wake-up time (or the context is cancelled). In kAutoAdvance mode a sleep
// jumps the clock forward at once, so code that polls and backs off runs
// instantly while every requested delay is recorded in sleeps().
#ifndef CERTFLEET_TESTS_TESTING_FAKE_CLOCK_H_
#define CERTFLEET_TESTS_TESTING_FAKE_CLOCK_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace certfleet::testing {

class FakeClock : public Clock {
 public:
  enum class Mode { kManual, kAutoAdvance };

  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000),
                     Mode mode = Mode::kAutoAdvance)
      : now_(start), mode_(mode) {}

  absl::Time Now() override;
  absl::Status SleepUntil(absl::Time until, const Context& ctx) override;

  void Advance(absl::Duration d);
  void SetTime(absl::Time t);
  // Durations requested by SleepUntil calls, in order.
  std::vector<absl::Duration> sleeps() const;
  // Number of threads currently blocked in SleepUntil (kManual mode).
  int sleepers() const;

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  const Mode mode_;
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
  int sleepers_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certfleet::testing

#endif  // CERTFLEET_TESTS_TESTING_FAKE_CLOCK_H_
