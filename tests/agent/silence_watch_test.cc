// SilenceWatch: gives a stream up when nothing arrives for its limit, and
// only then. It runs on real time, so the tests wait for it to fire rather
// than sleep for a while and hope the watch thread has run meanwhile; the
// fixed sleeps left are windows in which nothing may happen.
#include "agent/client/silence_watch.h"

#include <atomic>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agent {
namespace {

using ::certfleet::testing::WaitFor;

TEST(SilenceWatchTest, FiresOnceAfterTheLimitOfSilence) {
  std::atomic<int> fired = 0;
  const absl::Time start = absl::Now();
  std::atomic<int64_t> fired_after_ms = -1;
  {
    SilenceWatch watch(absl::Milliseconds(200), [&] {
      fired_after_ms = absl::ToInt64Milliseconds(absl::Now() - start);
      ++fired;
    });
    ASSERT_OK(WaitFor("the watch to fire", [&] { return fired.load() > 0; }));
    EXPECT_TRUE(watch.fired());
    // Two more limits of silence: it does not fire again.
    absl::SleepFor(absl::Milliseconds(400));
  }
  EXPECT_EQ(fired.load(), 1);
  EXPECT_GE(fired_after_ms.load(), 200);
}

TEST(SilenceWatchTest, WhatArrivesInTimeKeepsItQuiet) {
  std::atomic<int> fired = 0;
  // Heard every 50 ms for twice the limit; the margin (450 ms) is for a
  // loaded machine that wakes this thread late.
  SilenceWatch watch(absl::Milliseconds(500), [&] { ++fired; });
  for (int i = 0; i < 20; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    watch.Heard();
  }
  EXPECT_FALSE(watch.fired());
  EXPECT_EQ(fired.load(), 0);
}

TEST(SilenceWatchTest, ALimitSetLaterAppliesFromThen) {
  std::atomic<int> fired = 0;
  absl::Mutex mu;
  absl::Time fired_at = absl::InfinitePast();
  SilenceWatch watch(absl::InfiniteDuration(), [&] {
    absl::MutexLock lock(&mu);
    fired_at = absl::Now();
    ++fired;
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(watch.fired());
  // 200 ms of silence are behind it already: the 100 ms count from now.
  const absl::Time set_at = absl::Now();
  watch.SetLimit(absl::Milliseconds(100));
  ASSERT_OK(WaitFor("the watch to fire", [&] { return fired.load() > 0; }));
  EXPECT_TRUE(watch.fired());
  EXPECT_EQ(fired.load(), 1);
  absl::MutexLock lock(&mu);
  EXPECT_GE(fired_at - set_at, absl::Milliseconds(100));
}

TEST(SilenceWatchTest, TurnedOffItNeverFires) {
  std::atomic<int> fired = 0;
  {
    SilenceWatch watch(absl::Milliseconds(100), [&] { ++fired; });
    watch.SetLimit(absl::InfiniteDuration());
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_FALSE(watch.fired());
  }
  EXPECT_EQ(fired.load(), 0);
}

}  // namespace
}  // namespace certfleet::agent
