// Registration rules, misuse handling and thread safety of the Registry.
#include "common/metrics/registry.h"

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::metrics {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int kThreads = 8;

TEST(RegistryTest, SameRegistrationReturnsTheSameFamily) {
  Registry registry;
  ASSERT_OK_AND_ASSIGN(CounterFamily * first,
                       registry.RegisterCounter("c_total", "C.", {"a"}));
  ASSERT_OK_AND_ASSIGN(CounterFamily * second,
                       registry.RegisterCounter("c_total", "C.", {"a"}));
  EXPECT_EQ(first, second);
  EXPECT_EQ(&registry.Counter("c_total", "C.", {"a"}), first);
  // A trailing +Inf is the same histogram as without it.
  HistogramFamily& h = registry.Histogram("h", "H.", {}, {1, 2});
  EXPECT_EQ(&registry.Histogram(
                "h", "H.", {}, {1, 2, std::numeric_limits<double>::infinity()}),
            &h);
  EXPECT_EQ(first->WithLabels({"x"}), second->WithLabels({"x"}));
}

TEST(RegistryTest, ConflictingRegistrationIsAlreadyExists) {
  Registry registry;
  ASSERT_OK(registry.RegisterCounter("m", "Help.", {"a"}).status());
  EXPECT_THAT(
      registry.RegisterGauge("m", "Help.", {"a"}),
      StatusIs(absl::StatusCode::kAlreadyExists,
               HasSubstr("metric \"m\" is already registered as counter "
                         "with labels [a] and help \"Help.\"; now "
                         "requested as gauge")));
  EXPECT_THAT(
      registry.RegisterCounter("m", "Help.", {"a", "b"}),
      StatusIs(absl::StatusCode::kAlreadyExists,
               HasSubstr("now requested as counter with labels [a, b]")));
  EXPECT_THAT(registry.RegisterCounter("m", "Other help.", {"a"}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("help \"Other help.\"")));
  ASSERT_OK(registry.RegisterHistogram("h", "H.", {}, {1, 2}).status());
  EXPECT_THAT(
      registry.RegisterHistogram("h", "H.", {}, {1, 3}),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("buckets [1, 2]")));
}

TEST(RegistryTest, HistogramSeriesNamesCannotClash) {
  Registry registry;
  ASSERT_OK(registry.RegisterHistogram("lat", "L.", {}, {1}).status());
  EXPECT_THAT(registry.RegisterCounter("lat_count", "C.", {}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("would render series \"lat_count\", which "
                                 "metric \"lat\" already renders")));
  EXPECT_THAT(registry.RegisterGauge("lat_bucket", "G.", {}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK(registry.RegisterGauge("size_sum", "S.", {}).status());
  EXPECT_THAT(
      registry.RegisterHistogram("size", "S.", {}, {1}),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("\"size_sum\"")));
}

TEST(RegistryTest, InvalidNamesAreRejected) {
  Registry registry;
  EXPECT_THAT(registry.RegisterCounter("bad-name", "B.", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("invalid metric name \"bad-name\"")));
  EXPECT_THAT(registry.RegisterGauge("0starts_with_digit", "B.", {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.RegisterGauge("ok", "B.", {"__reserved"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("metric \"ok\": invalid label name "
                                 "\"__reserved\"")));
  EXPECT_THAT(
      registry.RegisterGauge("ok", "B.", {"has-dash"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"has-dash\"")));
  EXPECT_THAT(
      registry.RegisterGauge("ok", "B.", {"a", "a"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("appears twice")));
  EXPECT_THAT(registry.RegisterHistogram("h", "H.", {"le"}, {1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"le\" is reserved")));
  // Nothing invalid was registered.
  EXPECT_EQ(registry.Render(), "");
}

TEST(RegistryTest, InvalidBucketBoundsAreRejected) {
  Registry registry;
  EXPECT_THAT(registry.RegisterHistogram("h", "H.", {}, {1, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("strictly increasing, but bound 1 (1) "
                                 "follows 1")));
  EXPECT_THAT(registry.RegisterHistogram("h", "H.", {}, {2, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("strictly increasing")));
  EXPECT_THAT(registry.RegisterHistogram("h", "H.", {}, {1, std::nan("")}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bucket bound 1 is NaN")));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THAT(registry.RegisterHistogram("h", "H.", {}, {inf, inf}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RegistryTest, ExponentialBuckets) {
  EXPECT_EQ(ExponentialBuckets(0.5, 2, 4), (std::vector<double>{0.5, 1, 2, 4}));
  EXPECT_TRUE(ExponentialBuckets(0, 2, 4).empty());
  EXPECT_TRUE(ExponentialBuckets(1, 1, 4).empty());
  EXPECT_TRUE(ExponentialBuckets(1, 2, 0).empty());
}

// Counter()/Gauge()/Histogram() treat an error as a bug: fatal in debug
// builds; in release builds a detached family keeps the caller working.
TEST(RegistryDeathTest, ConflictAbortsInDebugAndFallsBackInRelease) {
  Registry registry;
  registry.Counter("certfleet_x_total", "X.", {});
#ifndef NDEBUG
  EXPECT_DEATH(registry.Gauge("certfleet_x_total", "X.", {"a"}),
               "already registered as counter");
#else
  GaugeFamily& fallback = registry.Gauge("certfleet_x_total", "X.", {"a"});
  Gauge* series = fallback.WithLabels({"v"});
  ASSERT_NE(series, nullptr);
  series->Set(5);
  EXPECT_EQ(series->Value(), 5);
  EXPECT_EQ(registry.Render(),
            "# HELP certfleet_x_total X.\n"
            "# TYPE certfleet_x_total counter\n"
            "certfleet_x_total 0\n");
#endif
}

TEST(RegistryDeathTest, InvalidNameAbortsInDebugAndFallsBackInRelease) {
  Registry registry;
#ifndef NDEBUG
  EXPECT_DEATH(registry.Histogram("bad name", "B.", {}, {2, 1}),
               "invalid metric name");
#else
  HistogramFamily& fallback = registry.Histogram("bad name", "B.", {}, {2, 1});
  EXPECT_TRUE(fallback.bucket_bounds().empty());
  fallback.WithLabels({})->Observe(1);
  EXPECT_EQ(registry.Render(), "");
#endif
}

TEST(RegistryDeathTest, WrongLabelCountAbortsInDebugAndIsDiscardedInRelease) {
  Registry registry;
  CounterFamily& family = registry.Counter("c_total", "C.", {"a", "b"});
#ifndef NDEBUG
  EXPECT_DEATH(family.WithLabels({"only-one"}),
               "WithLabels called with 1 label values, but the family has 2");
#else
  Counter* discard = family.WithLabels({"only-one"});
  ASSERT_NE(discard, nullptr);
  discard->Increment();
  family.Remove({"x"});  // also wrong: ignored
  EXPECT_EQ(registry.Render(), "");
#endif
}

TEST(RegistryDeathTest, NegativeIncrementAbortsInDebugAndIsIgnoredInRelease) {
  Registry registry;
  Counter* counter = registry.Counter("c_total", "C.", {}).WithLabels({});
  counter->Increment(2);
#ifndef NDEBUG
  EXPECT_DEATH(counter->Increment(-1), "negative or NaN");
#else
  counter->Increment(-1);
  counter->Increment(std::nan(""));
  EXPECT_EQ(counter->Value(), 2);
#endif
}

TEST(RegistryConcurrencyTest, IncrementsFromEightThreadsSumExactly) {
  Registry registry;
  CounterFamily& family = registry.Counter("c_total", "C.", {"k"});
  Counter* shared = family.WithLabels({"shared"});
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter* quarter = family.WithLabels({"quarter"});
      for (int i = 0; i < kPerThread; ++i) {
        shared->Increment();
        quarter->Increment(0.25);
        // Lookups and new series while others increment and render.
        if (i % 1000 == 0) {
          family.WithLabels({absl::StrCat("t", t, "_", i)})->Increment();
        }
        if (i % 20000 == 0) registry.Render();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(shared->Value(), static_cast<double>(kThreads) * kPerThread);
  EXPECT_EQ(family.WithLabels({"quarter"})->Value(),
            0.25 * kThreads * kPerThread);
  EXPECT_THAT(registry.Render(), HasSubstr("c_total{k=\"shared\"} 800000\n"
                                           "c_total{k=\"t0_0\"} 1\n"));
}

TEST(RegistryConcurrencyTest, HistogramObservationsFromEightThreadsAllCount) {
  Registry registry;
  Histogram* histogram =
      registry.Histogram("h", "H.", {}, {1, 2}).WithLabels({});
  constexpr int kPerThread = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) histogram->Observe(i % 3 + 0.5);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const HistogramSnapshot snapshot = histogram->Snapshot();
  EXPECT_EQ(snapshot.count, static_cast<uint64_t>(kThreads) * kPerThread);
  // i % 3 == 0 -> 0.5 (le 1); 1 -> 1.5 (le 2); 2 -> 2.5 (+Inf).
  const uint64_t per_value = kThreads * ((kPerThread + 2) / 3);
  EXPECT_EQ(snapshot.cumulative[0], per_value);
  EXPECT_EQ(snapshot.cumulative[2], snapshot.count);
  EXPECT_EQ(snapshot.sum, kThreads * (16667 * 0.5 + 16667 * 1.5 + 16666 * 2.5));
}

TEST(RegistryConcurrencyTest, ConcurrentRegistrationYieldsOneFamily) {
  Registry registry;
  std::vector<CounterFamily*> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      seen[t] = &registry.Counter("race_total", "R.", {"a"});
      seen[t]->WithLabels({"x"})->Increment();
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (CounterFamily* family : seen) EXPECT_EQ(family, seen[0]);
  EXPECT_THAT(registry.Render(), HasSubstr("race_total{a=\"x\"} 8\n"));
}

}  // namespace
}  // namespace certfleet::metrics
