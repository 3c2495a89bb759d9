// Rollout policy arithmetic: quantities ("3", "10%") and maintenance
// windows, including Europe/Berlin's DST changes of 2024 (clocks forward on
// Sunday 31 March at 01:00 UTC, back on Sunday 27 October at 01:00 UTC).
#include "coordinator/rollout/policy.h"

#include <climits>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

// An instant written as UTC wall-clock time.
absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}

MaintenanceWindow Window(std::vector<absl::Weekday> days, int start_hour,
                         int start_min, int end_hour, int end_min,
                         const std::string& zone = "Europe/Berlin") {
  MaintenanceWindow w;
  w.days = std::move(days);
  w.start_minute = start_hour * 60 + start_min;
  w.end_minute = end_hour * 60 + end_min;
  w.time_zone = zone;
  w.zone = Zone(zone);
  return w;
}

using absl::Weekday;

// --- ParseQuantity / FormatQuantity / ResolveQuantity -------------------

TEST(ParseQuantityTest, CountsAndPercentages) {
  EXPECT_EQ(*ParseQuantity("3"), Quantity::Count(3));
  EXPECT_EQ(*ParseQuantity("0"), Quantity::Count(0));
  EXPECT_EQ(*ParseQuantity(" 12 "), Quantity::Count(12));
  EXPECT_EQ(*ParseQuantity("10%"), Quantity::Percent(10));
  EXPECT_EQ(*ParseQuantity("1%"), Quantity::Percent(1));
  EXPECT_EQ(*ParseQuantity("100%"), Quantity::Percent(100));
}

TEST(ParseQuantityTest, RejectsPercentagesOutOfRange) {
  EXPECT_THAT(ParseQuantity("0%"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"0%\" is not a percentage from 1% to 100%"));
  EXPECT_THAT(ParseQuantity("101%"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"101%\" is not a percentage from 1% to 100%"));
}

TEST(ParseQuantityTest, RejectsNegatives) {
  EXPECT_THAT(ParseQuantity("-1"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            "\"-1\" is negative"));
  EXPECT_THAT(ParseQuantity("-5%"), StatusIs(absl::StatusCode::kInvalidArgument,
                                             "\"-5%\" is negative"));
}

TEST(ParseQuantityTest, RejectsFractions) {
  EXPECT_THAT(ParseQuantity("10.5%"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"10.5%\" is not a whole percentage (write 1% to "
                       "100% without a fraction)"));
  EXPECT_THAT(ParseQuantity("2.5"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"2.5\" is not a whole number of hosts"));
}

TEST(ParseQuantityTest, RejectsWhatIsNotANumber) {
  for (const char* text : {"x", "%", "+3", "3 %", "ten%", "1e2", "0x10"}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(ParseQuantity(text),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("is not a number of hosts or a percentage "
                                   "(write a whole number such as 3, or a "
                                   "whole percentage such as 10%)")));
  }
  EXPECT_THAT(ParseQuantity("  "),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("empty; expected a number of hosts")));
  EXPECT_THAT(ParseQuantity("99999999999"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"99999999999\" is too large"));
}

TEST(FormatQuantityTest, ReadsBack) {
  EXPECT_EQ(FormatQuantity(Quantity::Count(3)), "3");
  EXPECT_EQ(FormatQuantity(Quantity::Percent(25)), "25%");
  for (const Quantity q : {Quantity::Count(0), Quantity::Count(7),
                           Quantity::Percent(1), Quantity::Percent(100)}) {
    EXPECT_EQ(*ParseQuantity(FormatQuantity(q)), q);
  }
}

TEST(ResolveQuantityTest, PercentRoundsUp) {
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(10), 40), 4);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(10), 41), 5);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(50), 3), 2);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(1), 1), 1);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(25), 12), 3);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(100), 7), 7);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(100), INT_MAX), INT_MAX);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(99), INT_MAX), 2126008811);
}

TEST(ResolveQuantityTest, CountIsCappedAtTotal) {
  EXPECT_EQ(ResolveQuantity(Quantity::Count(1), 40), 1);
  EXPECT_EQ(ResolveQuantity(Quantity::Count(3), 2), 2);
  EXPECT_EQ(ResolveQuantity(Quantity::Count(0), 5), 0);
}

TEST(ResolveQuantityTest, NoHostsIsZero) {
  EXPECT_EQ(ResolveQuantity(Quantity::Count(3), 0), 0);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(100), 0), 0);
  EXPECT_EQ(ResolveQuantity(Quantity::Percent(10), -4), 0);
}

TEST(RolloutPolicyTest, Defaults) {
  const RolloutPolicy p;
  EXPECT_THAT(p.waves, ::testing::ElementsAre(
                           Quantity::Count(1), Quantity::Percent(10),
                           Quantity::Percent(50), Quantity::Percent(100)));
  EXPECT_EQ(p.pool_label, "pool");
  EXPECT_EQ(p.max_unavailable, Quantity::Percent(25));
  EXPECT_EQ(p.bake_time, absl::Minutes(5));
  EXPECT_EQ(p.health_timeout, absl::Minutes(10));
  EXPECT_EQ(p.failure_threshold, Quantity::Count(1));
  EXPECT_TRUE(p.windows.empty());
  EXPECT_EQ(p.urgent_within, absl::Hours(24 * 7));
  const MaintenanceWindow w;
  EXPECT_TRUE(InMaintenanceWindow({w}, Utc(2024, 6, 4, 3, 17)));  // all day
}

// --- InMaintenanceWindow ---------------------------------------------------

TEST(InMaintenanceWindowTest, NoWindowsMeansAnyTime) {
  EXPECT_TRUE(InMaintenanceWindow({}, Utc(2024, 6, 4, 3, 0)));
  EXPECT_EQ(NextWindowOpening({}, Utc(2024, 6, 4, 3, 0)),
            Utc(2024, 6, 4, 3, 0));
}

// Tuesday–Thursday 09:00–16:00 Berlin: CEST (UTC+2) in June.
TEST(InMaintenanceWindowTest, DaysAndHoursInTheWindowsZone) {
  const std::vector<MaintenanceWindow> w = {Window(
      {Weekday::tuesday, Weekday::wednesday, Weekday::thursday}, 9, 0, 16, 0)};
  // 2024-06-04 is a Tuesday.
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 4, 6, 59, 59)));
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 4, 7, 0)));
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 4, 13, 59, 59)));
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 4, 14, 0)));  // 16:00
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 6, 10, 0)));   // Thursday
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 3, 10, 0)));  // Monday
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 7, 10, 0)));  // Friday
  // In January Berlin is UTC+1: 09:00 local is 08:00 UTC.
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 1, 9, 7, 30)));
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 1, 9, 8, 0)));
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 1, 9, 14, 59)));
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 1, 9, 15, 0)));
}

TEST(InMaintenanceWindowTest, EmptyDaysMeansEveryDay) {
  const std::vector<MaintenanceWindow> w = {Window({}, 9, 0, 17, 0, "UTC")};
  for (int day = 3; day <= 9; ++day) {  // Monday 3 June to Sunday 9 June
    SCOPED_TRACE(day);
    EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, day, 12, 0)));
    EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, day, 8, 0)));
    EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, day, 17, 0)));
  }
}

// Friday 22:00 to 04:00 belongs to Friday: Saturday early morning is in,
// Friday early morning (Thursday's night) and Saturday night are out.
TEST(InMaintenanceWindowTest, WindowSpanningMidnightBelongsToItsFirstDay) {
  const std::vector<MaintenanceWindow> w = {
      Window({Weekday::friday}, 22, 0, 4, 0, "UTC")};
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 7, 21, 59)));  // Fri
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 7, 22, 0)));
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 7, 23, 59, 59)));
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 8, 0, 0)));  // Sat
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 8, 3, 59, 59)));
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 8, 4, 0)));
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 8, 23, 0)));  // Sat night
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 7, 3, 0)));   // Thu night
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 9, 1, 0)));   // Sun
}

TEST(InMaintenanceWindowTest, AnyOfSeveralWindows) {
  const std::vector<MaintenanceWindow> w = {
      Window({Weekday::monday}, 8, 0, 10, 0, "UTC"),
      Window({Weekday::saturday, Weekday::sunday}, 0, 0, 24, 0,
             "America/New_York")};
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 3, 9, 0)));    // Mon
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 3, 11, 0)));  // Mon
  // Saturday 8 June starts at 04:00 UTC in New York (EDT, UTC-4) and
  // Sunday ends at 04:00 UTC on Monday.
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 8, 3, 59)));
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 8, 4, 0)));
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 6, 10, 3, 59)));
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 10, 4, 0)));
}

TEST(InMaintenanceWindowTest, WindowWithEqualStartAndEndIsNeverOpen) {
  const std::vector<MaintenanceWindow> w = {Window({}, 9, 0, 9, 0, "UTC")};
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 6, 4, 9, 0)));
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 4, 9, 0)),
            absl::InfiniteFuture());
}

// On 31 March 2024, 00:00–06:00 Berlin lasts five real hours (clocks skip
// 02:00–03:00); on 27 October it lasts seven (03:00–02:00 again).
TEST(InMaintenanceWindowTest, FollowsTheWallClockAcrossDstChanges) {
  const std::vector<MaintenanceWindow> w = {Window({}, 0, 0, 6, 0)};
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 3, 30, 22, 59)));  // 23:59
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 3, 30, 23, 0)));    // 00:00
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 3, 31, 3, 59)));    // 05:59
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 3, 31, 4, 0)));    // 06:00
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 10, 26, 22, 0)));   // 00:00
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 10, 27, 4, 59)));   // 05:59
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 10, 27, 5, 0)));   // 06:00
}

// 02:00–03:00 does not exist in Berlin on 31 March 2024.
TEST(InMaintenanceWindowTest, WindowInsideTheSpringGapDoesNotOpenThatDay) {
  const std::vector<MaintenanceWindow> w = {Window({}, 2, 0, 3, 0)};
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 3, 31, 0, 59)));  // 01:59
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 3, 31, 1, 0)));   // 03:00
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 3, 30, 23, 0)),
            Utc(2024, 4, 1, 0, 0));  // 1 April 02:00 CEST
}

// --- NextWindowOpening ------------------------------------------------------

TEST(NextWindowOpeningTest, InsideIsNow) {
  const std::vector<MaintenanceWindow> w = {Window({}, 9, 0, 16, 0)};
  const absl::Time t = Utc(2024, 6, 4, 10, 11, 12);
  EXPECT_EQ(NextWindowOpening(w, t), t);
}

TEST(NextWindowOpeningTest, LaterTodayOrTomorrow) {
  const std::vector<MaintenanceWindow> w = {Window({}, 9, 0, 16, 0)};
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 4, 5, 0)), Utc(2024, 6, 4, 7, 0));
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 4, 14, 0)),
            Utc(2024, 6, 5, 7, 0));
}

TEST(NextWindowOpeningTest, AcrossAWeek) {
  const std::vector<MaintenanceWindow> w = {
      Window({Weekday::tuesday}, 9, 0, 16, 0)};
  // Tuesday 4 June 16:00 CEST, just closed: next Tuesday.
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 4, 14, 0)),
            Utc(2024, 6, 11, 7, 0));
  // Wednesday: six days ahead.
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 5, 0, 0)),
            Utc(2024, 6, 11, 7, 0));
  // Across the spring change: Tuesday 26 March is CET, 2 April CEST.
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 3, 26, 15, 0)),
            Utc(2024, 4, 2, 7, 0));
  EXPECT_EQ(Utc(2024, 4, 2, 7, 0) - Utc(2024, 3, 26, 8, 0),
            absl::Hours(7 * 24 - 1));
}

TEST(NextWindowOpeningTest, MidnightSpanningWindow) {
  const std::vector<MaintenanceWindow> w = {
      Window({Weekday::friday}, 22, 0, 4, 0, "UTC")};
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 7, 21, 0)),
            Utc(2024, 6, 7, 22, 0));
  const absl::Time early_saturday = Utc(2024, 6, 8, 3, 0);
  EXPECT_EQ(NextWindowOpening(w, early_saturday), early_saturday);
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 8, 5, 0)),
            Utc(2024, 6, 14, 22, 0));
  // Thursday night's early morning on Friday is not Friday's window.
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 7, 1, 0)),
            Utc(2024, 6, 7, 22, 0));
}

TEST(NextWindowOpeningTest, EarliestOfSeveralWindows) {
  const std::vector<MaintenanceWindow> w = {
      Window({Weekday::thursday}, 10, 0, 11, 0, "UTC"),
      Window({Weekday::wednesday}, 20, 0, 21, 0, "America/New_York")};
  // Wednesday 5 June 20:00 EDT is Thursday 00:00 UTC, before Thursday 10:00.
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 4, 12, 0)),
            Utc(2024, 6, 6, 0, 0));
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 6, 6, 1, 0)),
            Utc(2024, 6, 6, 10, 0));
}

// Saturday 16:00 to Sunday 09:00 is 17 hours on the clock: 16 real ones
// in spring, 18 in autumn.
TEST(NextWindowOpeningTest, SpringDstDayOpensOnTheWallClock) {
  const std::vector<MaintenanceWindow> w = {Window({}, 9, 0, 16, 0)};
  const absl::Time closed = Utc(2024, 3, 30, 15, 0);  // Sat 16:00 CET
  EXPECT_EQ(NextWindowOpening(w, closed), Utc(2024, 3, 31, 7, 0));
  EXPECT_EQ(NextWindowOpening(w, closed) - closed, absl::Hours(16));
  const absl::Time autumn = Utc(2024, 10, 26, 14, 0);  // Sat 16:00 CEST
  EXPECT_EQ(NextWindowOpening(w, autumn), Utc(2024, 10, 27, 8, 0));
  EXPECT_EQ(NextWindowOpening(w, autumn) - autumn, absl::Hours(18));
}

// A start skipped by the spring change opens when the clocks jump.
TEST(NextWindowOpeningTest, StartInsideTheSpringGapOpensAtTheChange) {
  const std::vector<MaintenanceWindow> w = {Window({}, 2, 30, 4, 0)};
  EXPECT_EQ(NextWindowOpening(w, Utc(2024, 3, 30, 23, 0)),
            Utc(2024, 3, 31, 1, 0));  // 03:00 CEST
  EXPECT_TRUE(InMaintenanceWindow(w, Utc(2024, 3, 31, 1, 0)));
  EXPECT_FALSE(InMaintenanceWindow(w, Utc(2024, 3, 31, 2, 0)));  // 04:00
}

// On 27 October 02:00–03:00 Berlin happens twice; a window in that hour
// opens twice, and a clock turned back lands inside a window part-way.
TEST(NextWindowOpeningTest, RepeatedAutumnHourReopensWindows) {
  const std::vector<MaintenanceWindow> at_two = {Window({}, 2, 0, 2, 30)};
  EXPECT_EQ(NextWindowOpening(at_two, Utc(2024, 10, 26, 23, 0)),
            Utc(2024, 10, 27, 0, 0));  // 02:00 CEST
  // 02:40 CEST: closed, until clocks go back to 02:00 CET.
  EXPECT_EQ(NextWindowOpening(at_two, Utc(2024, 10, 27, 0, 40)),
            Utc(2024, 10, 27, 1, 0));
  EXPECT_TRUE(InMaintenanceWindow(at_two, Utc(2024, 10, 27, 1, 29)));
  EXPECT_FALSE(InMaintenanceWindow(at_two, Utc(2024, 10, 27, 1, 30)));

  const std::vector<MaintenanceWindow> at_ten_past = {Window({}, 2, 10, 2, 20)};
  // 02:25 CEST: the second 02:10 (CET) is 01:10 UTC.
  EXPECT_EQ(NextWindowOpening(at_ten_past, Utc(2024, 10, 27, 0, 25)),
            Utc(2024, 10, 27, 1, 10));

  const std::vector<MaintenanceWindow> straddling = {Window({}, 1, 30, 2, 30)};
  // 02:40 CEST: clocks go back to 02:00 CET, inside 01:30–02:30.
  EXPECT_EQ(NextWindowOpening(straddling, Utc(2024, 10, 27, 0, 40)),
            Utc(2024, 10, 27, 1, 0));
}

// For many starting points around both DST changes, the answer is inside a
// window and no whole minute between the start and the answer is.
TEST(NextWindowOpeningTest, IsTheFirstOpenMinuteAroundDstChanges) {
  const std::vector<MaintenanceWindow> w = {
      Window({Weekday::sunday}, 2, 15, 2, 45),
      Window({Weekday::saturday}, 23, 0, 1, 0),
      Window({Weekday::tuesday, Weekday::thursday}, 9, 0, 16, 0),
      Window({Weekday::monday}, 6, 0, 7, 0, "America/New_York")};
  for (const absl::Time from :
       {Utc(2024, 3, 24, 0, 0), Utc(2024, 10, 20, 0, 0)}) {
    for (absl::Time t = from; t < from + absl::Hours(24 * 14);
         t += absl::Minutes(97)) {
      const absl::Time next = NextWindowOpening(w, t);
      ASSERT_LT(next, t + absl::Hours(24 * 7)) << t;
      ASSERT_TRUE(InMaintenanceWindow(w, next)) << t;
      for (absl::Time m = t; m < next; m += absl::Minutes(1)) {
        ASSERT_FALSE(InMaintenanceWindow(w, m)) << t << " " << m;
      }
    }
  }
}

}  // namespace
}  // namespace certfleet::rollout
