#include <thread>

#include "common/backoff.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/shifted_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::ShiftedClock;
using ::certfleet::testing::StatusIs;

TEST(BackoffTest, GrowsToTheCapWithJitterInsideBounds) {
  Backoff b({.initial = absl::Milliseconds(100),
             .max = absl::Seconds(1),
             .multiplier = 2,
             .jitter = 0.5},
            /*seed=*/42);
  const absl::Duration bases[] = {
      absl::Milliseconds(100), absl::Milliseconds(200), absl::Milliseconds(400),
      absl::Milliseconds(800), absl::Seconds(1),        absl::Seconds(1)};
  for (absl::Duration base : bases) {
    absl::Duration d = b.Next();
    EXPECT_GE(d, base / 2);
    EXPECT_LE(d, base);
  }
  b.Reset();
  EXPECT_LE(b.Next(), absl::Milliseconds(100));
}

TEST(BackoffTest, RetryableCodes) {
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("x")));
  EXPECT_TRUE(IsRetryable(absl::ResourceExhaustedError("x")));
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("x")));
  EXPECT_FALSE(IsRetryable(absl::PermissionDeniedError("x")));
}

TEST(FakeClockTest, AutoAdvanceRecordsSleeps) {
  FakeClock clock;
  const absl::Time t0 = clock.Now();
  EXPECT_OK(clock.SleepFor(absl::Seconds(3), Context::Background()));
  EXPECT_EQ(clock.Now(), t0 + absl::Seconds(3));
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], absl::Seconds(3));
}

TEST(FakeClockTest, SleepPastDeadlineEndsAtDeadline) {
  FakeClock clock;
  const absl::Time t0 = clock.Now();
  Context ctx = Context::Background().WithDeadline(t0 + absl::Seconds(1));
  EXPECT_THAT(clock.SleepFor(absl::Seconds(5), ctx),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(clock.Now(), t0 + absl::Seconds(1));
}

TEST(SystemClockTest, CancellationWakesASleeper) {
  SystemClock clock;
  auto cancel = std::make_shared<Cancellation>();
  Context ctx = Context::Background().WithCancellation(cancel);
  std::thread t([&] {
    absl::SleepFor(absl::Milliseconds(20));
    cancel->Cancel();
  });
  const absl::Time start = absl::Now();
  EXPECT_THAT(clock.SleepFor(absl::Seconds(30), ctx),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  t.join();
}

// The integration tests' clock: real time, moved forward on demand; a shift
// past a sleeper's wake-up time wakes it (rather than sleeping hours).
TEST(ShiftedClockTest, ShiftMovesNowAndWakesSleepers) {
  ShiftedClock clock;
  const absl::Time before = clock.Now();
  EXPECT_LE(absl::AbsDuration(before - absl::Now()), absl::Seconds(1));
  clock.Shift(absl::Hours(2));
  EXPECT_GE(clock.Now() - before, absl::Hours(2));
  clock.Shift(-absl::Hours(1));  // ignored: never backward
  EXPECT_GE(clock.Now() - before, absl::Hours(2));

  std::thread shifter([&] {
    absl::SleepFor(absl::Milliseconds(100));
    clock.Shift(absl::Hours(1));
  });
  const absl::Time start = absl::Now();
  EXPECT_OK(
      clock.SleepUntil(clock.Now() + absl::Minutes(30), Context::Background()));
  shifter.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // A deadline (real time) still ends a sleep.
  EXPECT_THAT(
      clock.SleepFor(absl::Hours(1), Context::Background().WithDeadline(
                                         absl::Now() + absl::Milliseconds(50))),
      StatusIs(absl::StatusCode::kDeadlineExceeded));
}

}  // namespace
}  // namespace certfleet
