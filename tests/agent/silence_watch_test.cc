// SilenceWatch: gives a stream up when nothing arrives for its limit, and
// only then.
#include "agent/client/silence_watch.h"

#include <atomic>

#include "gtest/gtest.h"

namespace certfleet::agent {
namespace {

TEST(SilenceWatchTest, FiresOnceAfterTheLimitOfSilence) {
  std::atomic<int> fired = 0;
  const absl::Time start = absl::Now();
  std::atomic<int64_t> fired_after_ms = -1;
  {
    SilenceWatch watch(absl::Milliseconds(200), [&] {
      fired_after_ms = absl::ToInt64Milliseconds(absl::Now() - start);
      ++fired;
    });
    absl::SleepFor(absl::Milliseconds(600));
    EXPECT_TRUE(watch.fired());
  }
  EXPECT_EQ(fired.load(), 1);
  EXPECT_GE(fired_after_ms.load(), 200);
}

TEST(SilenceWatchTest, WhatArrivesInTimeKeepsItQuiet) {
  std::atomic<int> fired = 0;
  SilenceWatch watch(absl::Milliseconds(300), [&] { ++fired; });
  for (int i = 0; i < 10; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    watch.Heard();
  }
  EXPECT_FALSE(watch.fired());
  EXPECT_EQ(fired.load(), 0);
}

TEST(SilenceWatchTest, ALimitSetLaterAppliesFromThen) {
  std::atomic<int> fired = 0;
  SilenceWatch watch(absl::InfiniteDuration(), [&] { ++fired; });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_FALSE(watch.fired());
  watch.SetLimit(absl::Milliseconds(100));
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_TRUE(watch.fired());
  EXPECT_EQ(fired.load(), 1);
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
