// The one text form of times for people and scripts.
#include "common/rfc3339.h"

#include "gtest/gtest.h"

namespace certfleet {
namespace {

TEST(Rfc3339Test, UtcWholeSecondsWithZ) {
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5),
                                       absl::UTCTimeZone()) +
                       absl::Milliseconds(999);
  EXPECT_EQ(FormatRfc3339(t), "2026-01-02T03:04:05Z");
}

TEST(Rfc3339Test, ReadsBackWithAbseil) {
  const absl::Time t = absl::FromUnixSeconds(1893456000);
  absl::Time parsed;
  std::string err;
  ASSERT_TRUE(
      absl::ParseTime(absl::RFC3339_full, FormatRfc3339(t), &parsed, &err))
      << err;
  EXPECT_EQ(parsed, t);
}

TEST(Rfc3339Test, InfiniteTimesAreNamed) {
  EXPECT_EQ(FormatRfc3339(absl::InfiniteFuture()), "infinite-future");
  EXPECT_EQ(FormatRfc3339(absl::InfinitePast()), "infinite-past");
}

}  // namespace
}  // namespace certfleet
