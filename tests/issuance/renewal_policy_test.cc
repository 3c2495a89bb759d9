// Renewal timing (coordinator/issuance/renewal_policy.h): the lifetime
// window, the draw inside a window, and when a chosen time must be redrawn.
#include "coordinator/issuance/renewal_policy.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certfleet::issuance {
namespace {

using ::testing::AllOf;
using ::testing::Ge;
using ::testing::Le;

constexpr absl::Duration kDay = absl::Hours(24);
const absl::Time kNotBefore = absl::FromUnixSeconds(1'800'000'000);
const absl::Time kNotAfter = kNotBefore + 90 * kDay;

MATCHER_P2(IsWindow, start, end,
           "is the window [" + absl::FormatTime(start) + ", " +
               absl::FormatTime(end) + "]") {
  *result_listener << "is [" << arg.start << ", " << arg.end << "]";
  return arg.start == start && arg.end == end;
}

TEST(DefaultRenewBeforeTest, IsAThirdOfTheLifetime) {
  EXPECT_EQ(DefaultRenewBefore(kNotBefore, kNotAfter), 30 * kDay);
  EXPECT_EQ(DefaultRenewBefore(kNotBefore, kNotBefore + 6 * kDay), 2 * kDay);
  EXPECT_EQ(DefaultRenewBefore(kNotBefore, kNotBefore + absl::Hours(1)),
            absl::Minutes(20));
}

TEST(LifetimeWindowTest, DefaultIsAThirdBeforeExpiryWithADayOfJitter) {
  // A tenth of 30 d is 3 d; the jitter is capped at 1 d.
  EXPECT_THAT(LifetimeWindow(kNotBefore, kNotAfter, std::nullopt),
              IsWindow(kNotAfter - 31 * kDay, kNotAfter - 30 * kDay));
}

TEST(LifetimeWindowTest, JitterIsATenthOfRenewBeforeAtMostADay) {
  EXPECT_THAT(LifetimeWindow(kNotBefore, kNotAfter, 10 * kDay),
              IsWindow(kNotAfter - 11 * kDay, kNotAfter - 10 * kDay));
  EXPECT_THAT(
      LifetimeWindow(kNotBefore, kNotAfter, 5 * kDay),
      IsWindow(kNotAfter - 5 * kDay - absl::Hours(12), kNotAfter - 5 * kDay));
  EXPECT_THAT(LifetimeWindow(kNotBefore, kNotAfter, 20 * kDay),
              IsWindow(kNotAfter - 21 * kDay, kNotAfter - 20 * kDay));
  // Short-lived (6 d): a third is 2 d, a tenth of that 4.8 h.
  const absl::Time short_not_after = kNotBefore + 6 * kDay;
  EXPECT_THAT(LifetimeWindow(kNotBefore, short_not_after, std::nullopt),
              IsWindow(short_not_after - 2 * kDay - absl::Minutes(288),
                       short_not_after - 2 * kDay));
  // Zero: at expiry, no jitter.
  EXPECT_THAT(LifetimeWindow(kNotBefore, kNotAfter, absl::ZeroDuration()),
              IsWindow(kNotAfter, kNotAfter));
}

TEST(LifetimeWindowTest, RenewBeforeLongerThanLifetimeMeansAtIssuance) {
  EXPECT_THAT(LifetimeWindow(kNotBefore, kNotAfter, 100 * kDay),
              IsWindow(kNotBefore, kNotBefore));
  // The jitter does not reach back before not_before either.
  EXPECT_THAT(
      LifetimeWindow(kNotBefore, kNotAfter, 90 * kDay - absl::Hours(12)),
      IsWindow(kNotBefore, kNotBefore + absl::Hours(12)));
}

TEST(LifetimeWindowTest, RenewalIsNeverLaterThanPromised) {
  for (absl::Duration before : {absl::Hours(1), 3 * kDay, 30 * kDay}) {
    const RenewalWindow w = LifetimeWindow(kNotBefore, kNotAfter, before);
    for (double u : {0.0, 0.25, 0.5, 0.75, 1.0}) {
      EXPECT_LE(ChooseInWindow(w, kNotBefore, u), kNotAfter - before)
          << "renew_before " << before << ", u " << u;
    }
  }
}

TEST(ChooseInWindowTest, InterpolatesInsideTheWindow) {
  const RenewalWindow w{kNotBefore + 10 * kDay,
                        kNotBefore + 10 * kDay + absl::Hours(10)};
  const absl::Time now = kNotBefore;
  EXPECT_EQ(ChooseInWindow(w, now, 0.0), w.start);
  EXPECT_EQ(ChooseInWindow(w, now, 0.5), w.start + absl::Hours(5));
  EXPECT_EQ(ChooseInWindow(w, now, 1.0), w.end);
  // u outside [0, 1] is clamped.
  EXPECT_EQ(ChooseInWindow(w, now, -0.5), w.start);
  EXPECT_EQ(ChooseInWindow(w, now, 2.0), w.end);
}

TEST(ChooseInWindowTest, NeverBeforeNow) {
  const RenewalWindow w{kNotBefore + 10 * kDay,
                        kNotBefore + 10 * kDay + absl::Hours(10)};
  // Now inside the window: draws before it become now.
  const absl::Time inside = w.start + absl::Hours(7);
  EXPECT_EQ(ChooseInWindow(w, inside, 0.5), inside);
  EXPECT_EQ(ChooseInWindow(w, inside, 0.9), w.start + absl::Hours(9));
  // The whole window in the past: now.
  const absl::Time later = w.end + 3 * kDay;
  for (double u : {0.0, 0.5, 1.0}) {
    EXPECT_EQ(ChooseInWindow(w, later, u), later) << "u " << u;
  }
}

TEST(OutsideWindowTest, NeverChosenCountsAsOutside) {
  const RenewalWindow w{kNotBefore + 10 * kDay, kNotBefore + 11 * kDay};
  EXPECT_TRUE(OutsideWindow(absl::InfiniteFuture(), w));
  EXPECT_TRUE(OutsideWindow(absl::InfinitePast(), w));
}

TEST(OutsideWindowTest, BoundsAreInside) {
  const RenewalWindow w{kNotBefore + 10 * kDay, kNotBefore + 11 * kDay};
  EXPECT_TRUE(OutsideWindow(w.start - absl::Nanoseconds(1), w));
  EXPECT_FALSE(OutsideWindow(w.start, w));
  EXPECT_FALSE(OutsideWindow(w.start + absl::Hours(12), w));
  EXPECT_FALSE(OutsideWindow(w.end, w));
  EXPECT_TRUE(OutsideWindow(w.end + absl::Nanoseconds(1), w));
}

TEST(OutsideWindowTest, ADrawFromTheWindowIsInsideIt) {
  const RenewalWindow w = LifetimeWindow(kNotBefore, kNotAfter, std::nullopt);
  for (double u : {0.0, 0.3, 1.0}) {
    EXPECT_FALSE(OutsideWindow(ChooseInWindow(w, kNotBefore, u), w)) << u;
  }
}

}  // namespace
}  // namespace certfleet::issuance
