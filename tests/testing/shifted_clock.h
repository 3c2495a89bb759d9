// A Clock that runs with real time but can be moved forward by a test: for
// integration tests where time must pass naturally (processes, sockets,
// bake times of a second) and yet a test has to reach an hour that is not
// now (a maintenance window that opens tonight).
//
//   ShiftedClock clock;                       // = the real clock
//   clock.Shift(absl::Hours(3));              // Now() is 3 h ahead from here
//   clock.SleepFor(absl::Seconds(1), ctx);    // ≈ 1 s of real time
#ifndef CERTFLEET_TESTS_TESTING_SHIFTED_CLOCK_H_
#define CERTFLEET_TESTS_TESTING_SHIFTED_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace certfleet::testing {

class ShiftedClock : public Clock {
 public:
  // The real time plus every shift so far.
  absl::Time Now() override;
  // Sleeps in real time until Now() reaches `until`; a Shift() that jumps
  // past `until` ends the sleep within ≈ 50 ms.
  absl::Status SleepUntil(absl::Time until, const Context& ctx) override;

  // Moves Now() forward by `d` (never backward: d ≥ 0).
  void Shift(absl::Duration d);
  absl::Duration offset() const;

 private:
  mutable absl::Mutex mu_;
  absl::Duration offset_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  SystemClock real_;
};

}  // namespace certfleet::testing

#endif  // CERTFLEET_TESTS_TESTING_SHIFTED_CLOCK_H_
