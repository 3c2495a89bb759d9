// The rollout section: the top-level default, certificates[].rollout laid
// over it field by field, and every message, position included. kValid
// (config_test_util.h) is 20 lines; these tests append to it, so line 21 is
// the first one they add.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coordinator/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::config {
namespace {

using rollout::MaintenanceWindow;
using rollout::Quantity;
using rollout::RolloutPolicy;
using ::testing::ElementsAre;
using testing::ErrorOfText;
using ::testing::IsEmpty;
using testing::kValid;
using testing::MemoryFilesystem;
using testing::ParseText;

// kValid with a top-level `rollout:` on line 21 followed by `lines`.
std::string WithTopLevel(absl::string_view lines) {
  return absl::StrCat(kValid, "rollout:\n", lines);
}

// kValid whose certificate "www" has `rollout:` on line 21 followed by
// `lines` (indented 6).
std::string WithCertificate(absl::string_view lines) {
  return absl::StrCat(kValid, "    rollout:\n", lines);
}

std::string TopLevelError(absl::string_view lines) {
  return ErrorOfText(WithTopLevel(lines), {});
}

std::string CertificateError(absl::string_view lines) {
  return ErrorOfText(WithCertificate(lines), {});
}

absl::StatusOr<CoordinatorConfig> Parse(const std::string& text) {
  MemoryFilesystem fs;
  return ParseText(text, fs, {{"CANARY", "2"}});
}

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}

void ExpectDefaults(const RolloutPolicy& p) {
  EXPECT_THAT(p.waves,
              ElementsAre(Quantity::Count(1), Quantity::Percent(10),
                          Quantity::Percent(50), Quantity::Percent(100)));
  EXPECT_EQ(p.pool_label, "pool");
  EXPECT_EQ(p.max_unavailable, Quantity::Percent(25));
  EXPECT_EQ(p.bake_time, absl::Minutes(5));
  EXPECT_EQ(p.health_timeout, absl::Minutes(10));
  EXPECT_EQ(p.failure_threshold, Quantity::Count(1));
  EXPECT_THAT(p.windows, IsEmpty());
  EXPECT_EQ(p.urgent_within, absl::Hours(24 * 7));
}

TEST(RolloutConfigTest, DefaultsWhenAbsent) {
  ASSERT_OK_AND_ASSIGN(const CoordinatorConfig c, Parse(kValid));
  ExpectDefaults(c.rollout);
  ASSERT_EQ(c.certificates.size(), 1u);
  ExpectDefaults(c.certificates[0].rollout);
}

TEST(RolloutConfigTest, EmptySectionsAreDefaults) {
  ASSERT_OK_AND_ASSIGN(const CoordinatorConfig top, Parse(WithTopLevel("")));
  ExpectDefaults(top.rollout);
  ASSERT_OK_AND_ASSIGN(const CoordinatorConfig cert,
                       Parse(WithCertificate("      {}\n")));
  ExpectDefaults(cert.certificates[0].rollout);
}

TEST(RolloutConfigTest, EveryField) {
  ASSERT_OK_AND_ASSIGN(
      const CoordinatorConfig c,
      Parse(WithTopLevel("  waves: [\"${CANARY}\", \"10%\", 50%, 100%]\n"
                         "  pool_label: example.com/region\n"
                         "  max_unavailable: 2\n"
                         "  bake_time: 0s\n"
                         "  health_timeout: 3m\n"
                         "  failure_threshold: 5%\n"
                         "  windows:\n"
                         "    - days: [tue, wed, thu]\n"
                         "      hours: \"09:00-16:00\"\n"
                         "      time_zone: Europe/Berlin\n"
                         "    - days: mon-fri\n"
                         "      hours: 22:00-04:00\n"
                         "    - days: [Saturday, sun]\n"
                         "      time_zone: America/New_York\n"
                         "    - hours: 22:00-00:00\n"
                         "  urgent_within: 3d\n")));
  for (const RolloutPolicy* p : {&c.rollout, &c.certificates[0].rollout}) {
    EXPECT_THAT(p->waves,
                ElementsAre(Quantity::Count(2), Quantity::Percent(10),
                            Quantity::Percent(50), Quantity::Percent(100)));
    EXPECT_EQ(p->pool_label, "example.com/region");
    EXPECT_EQ(p->max_unavailable, Quantity::Count(2));
    EXPECT_EQ(p->bake_time, absl::ZeroDuration());
    EXPECT_EQ(p->health_timeout, absl::Minutes(3));
    EXPECT_EQ(p->failure_threshold, Quantity::Percent(5));
    EXPECT_EQ(p->urgent_within, absl::Hours(72));
    ASSERT_EQ(p->windows.size(), 4u);
    const MaintenanceWindow& berlin = p->windows[0];
    EXPECT_THAT(berlin.days,
                ElementsAre(absl::Weekday::tuesday, absl::Weekday::wednesday,
                            absl::Weekday::thursday));
    EXPECT_EQ(berlin.start_minute, 9 * 60);
    EXPECT_EQ(berlin.end_minute, 16 * 60);
    EXPECT_EQ(berlin.time_zone, "Europe/Berlin");
    EXPECT_EQ(berlin.zone, Zone("Europe/Berlin"));
    const MaintenanceWindow& nights = p->windows[1];
    EXPECT_THAT(nights.days,
                ElementsAre(absl::Weekday::monday, absl::Weekday::tuesday,
                            absl::Weekday::wednesday, absl::Weekday::thursday,
                            absl::Weekday::friday));
    EXPECT_EQ(nights.start_minute, 22 * 60);
    EXPECT_EQ(nights.end_minute, 4 * 60);
    EXPECT_EQ(nights.time_zone, "UTC");
    EXPECT_EQ(nights.zone, absl::UTCTimeZone());
    const MaintenanceWindow& weekend = p->windows[2];
    EXPECT_THAT(weekend.days,
                ElementsAre(absl::Weekday::saturday, absl::Weekday::sunday));
    EXPECT_EQ(weekend.start_minute, 0);
    EXPECT_EQ(weekend.end_minute, 24 * 60);
    EXPECT_EQ(weekend.zone, Zone("America/New_York"));
    const MaintenanceWindow& evenings = p->windows[3];
    EXPECT_THAT(evenings.days, IsEmpty());
    EXPECT_EQ(evenings.start_minute, 22 * 60);
    EXPECT_EQ(evenings.end_minute, 24 * 60);
  }
}

// The example from the issue, in flow style on one line.
TEST(RolloutConfigTest, FlowStyleWindowAndWrappingDayRange) {
  ASSERT_OK_AND_ASSIGN(
      const CoordinatorConfig c,
      Parse(WithTopLevel("  windows: [{days: [tue, wed, thu], hours: "
                         "09:00-16:00, time_zone: Europe/Berlin},\n"
                         "            {days: [fri-mon], hours: "
                         "\"00:00-00:00\"}]\n")));
  ASSERT_EQ(c.rollout.windows.size(), 2u);
  EXPECT_EQ(c.rollout.windows[0].start_minute, 9 * 60);
  EXPECT_EQ(c.rollout.windows[0].end_minute, 16 * 60);
  EXPECT_EQ(c.rollout.windows[0].time_zone, "Europe/Berlin");
  EXPECT_THAT(c.rollout.windows[1].days,
              ElementsAre(absl::Weekday::monday, absl::Weekday::friday,
                          absl::Weekday::saturday, absl::Weekday::sunday));
  EXPECT_EQ(c.rollout.windows[1].start_minute, 0);
  EXPECT_EQ(c.rollout.windows[1].end_minute, 24 * 60);
}

// A certificate's fields replace the top level's one by one; what it leaves
// out comes from the top level, then from RolloutPolicy's defaults.
TEST(RolloutConfigTest, CertificateOverridesFieldByField) {
  const std::string yaml = absl::StrCat(
      /*  1-17 */
      "store:\n  path: /var/lib/certfleet/coordinator.db\n"
      "key_encryption_key_file: /etc/certfleet/kek\n"
      "dns:\n  resolvers: [127.0.0.1:5353]\n"
      "issuers:\n  - name: pebble\n"
      "    directory: https://127.0.0.1:14000/dir\n"
      "dns_providers:\n  - name: lab-bind\n    type: rfc2136\n"
      "    zones: [example.test]\n    rfc2136:\n"
      "      server: 127.0.0.1:5353\n"
      "      tsig_key_name: certfleet\n"
      "      tsig_secret: c2VjcmV0LXNlY3JldA==\n",
      "rollout:\n"
      "  waves: [2, 100%]\n"
      "  bake_time: 1m\n"
      "  windows: [{days: [sat], hours: 01:00-05:00}]\n"
      "certificates:\n"
      "  - name: www\n"
      "    names: [www.example.test]\n"
      "    issuer: pebble\n"
      "  - name: api\n"
      "    names: [api.example.test]\n"
      "    issuer: pebble\n"
      "    rollout:\n"
      "      max_unavailable: 1\n"
      "      bake_time: 30m\n"
      "      windows: []\n"
      "  - name: shop\n"
      "    names: [shop.example.test]\n"
      "    issuer: pebble\n"
      "    rollout: {waves: [25%, 100%], pool_label: \"\"}\n");
  ASSERT_OK_AND_ASSIGN(const CoordinatorConfig c, Parse(yaml));
  ASSERT_EQ(c.certificates.size(), 3u);

  const RolloutPolicy& www = c.certificates[0].rollout;  // the top level
  EXPECT_THAT(www.waves,
              ElementsAre(Quantity::Count(2), Quantity::Percent(100)));
  EXPECT_EQ(www.bake_time, absl::Minutes(1));
  ASSERT_EQ(www.windows.size(), 1u);
  EXPECT_THAT(www.windows[0].days, ElementsAre(absl::Weekday::saturday));
  EXPECT_EQ(www.max_unavailable, Quantity::Percent(25));  // default

  const RolloutPolicy& api = c.certificates[1].rollout;
  EXPECT_THAT(api.waves,
              ElementsAre(Quantity::Count(2), Quantity::Percent(100)));
  EXPECT_EQ(api.max_unavailable, Quantity::Count(1));
  EXPECT_EQ(api.bake_time, absl::Minutes(30));
  EXPECT_THAT(api.windows, IsEmpty());               // `windows: []`: any time
  EXPECT_EQ(api.health_timeout, absl::Minutes(10));  // default

  const RolloutPolicy& shop = c.certificates[2].rollout;
  EXPECT_THAT(shop.waves,
              ElementsAre(Quantity::Percent(25), Quantity::Percent(100)));
  EXPECT_EQ(shop.pool_label, "");  // one pool
  EXPECT_EQ(shop.bake_time, absl::Minutes(1));
  EXPECT_EQ(shop.windows.size(), 1u);

  // The top level itself is unchanged by the overrides.
  EXPECT_EQ(c.rollout.max_unavailable, Quantity::Percent(25));
  EXPECT_EQ(c.rollout.bake_time, absl::Minutes(1));
  EXPECT_EQ(c.rollout.pool_label, "pool");
}

// --- Messages ---------------------------------------------------------------

TEST(RolloutConfigErrorsTest, Waves) {
  EXPECT_EQ(TopLevelError("  waves: []\n"),
            "coordinator.yaml:22:10: rollout.waves: must list at least one "
            "wave (the last one 100%)");
  EXPECT_EQ(TopLevelError("  waves: [1, 10%, 50%]\n"),
            "coordinator.yaml:22:19: rollout.waves[2]: the last wave must be "
            "100% (got 50%): waves are cumulative shares and the last one "
            "moves every target");
  EXPECT_EQ(TopLevelError("  waves: [10%, 20]\n"),
            "coordinator.yaml:22:16: rollout.waves[1]: the last wave must be "
            "100% (got 20): waves are cumulative shares and the last one "
            "moves every target");
  EXPECT_EQ(TopLevelError("  waves: [5, 3, 100%]\n"),
            "coordinator.yaml:22:14: rollout.waves[1]: 3 is not more than the "
            "earlier wave 5 (rollout.waves[0]): waves are cumulative, so each "
            "count and each percentage must be larger than the one before");
  EXPECT_EQ(TopLevelError("  waves: [1, 50%, 2, 50%, 100%]\n"),
            "coordinator.yaml:22:22: rollout.waves[3]: 50% is not more than "
            "the earlier wave 50% (rollout.waves[1]): waves are cumulative, "
            "so each count and each percentage must be larger than the one "
            "before");
  EXPECT_EQ(TopLevelError("  waves: [0, 100%]\n"),
            "coordinator.yaml:22:11: rollout.waves[0]: a wave must move at "
            "least one host");
  EXPECT_EQ(TopLevelError("  waves: [1, 10.5%, 100%]\n"),
            "coordinator.yaml:22:14: rollout.waves[1]: \"10.5%\" is not a "
            "whole percentage (write 1% to 100% without a fraction)");
  EXPECT_EQ(TopLevelError("  waves: [1, 0%, 101%]\n"),
            "coordinator.yaml:22:14: rollout.waves[1]: \"0%\" is not a "
            "percentage from 1% to 100%\n"
            "coordinator.yaml:22:18: rollout.waves[2]: \"101%\" is not a "
            "percentage from 1% to 100%");
  EXPECT_EQ(TopLevelError("  waves: 100%\n"),
            "coordinator.yaml:22:10: rollout.waves: expected a list, got a "
            "scalar");
}

TEST(RolloutConfigErrorsTest, Quantities) {
  EXPECT_EQ(TopLevelError("  max_unavailable: 0\n"),
            "coordinator.yaml:22:20: rollout.max_unavailable: must be at "
            "least 1 (0 would never let a host change)");
  EXPECT_EQ(TopLevelError("  max_unavailable: -1\n"),
            "coordinator.yaml:22:20: rollout.max_unavailable: \"-1\" is "
            "negative");
  EXPECT_EQ(TopLevelError("  max_unavailable: x\n"),
            "coordinator.yaml:22:20: rollout.max_unavailable: \"x\" is not a "
            "number of hosts or a percentage (write a whole number such as 3, "
            "or a whole percentage such as 10%)");
  EXPECT_EQ(TopLevelError("  max_unavailable: [1]\n"),
            "coordinator.yaml:22:20: rollout.max_unavailable: expected a "
            "number of hosts or a percentage, got a list");
  EXPECT_EQ(TopLevelError("  failure_threshold: 0\n"),
            "coordinator.yaml:22:22: rollout.failure_threshold: must be at "
            "least 1 (the rollout halts when this many targets have failed)");
  EXPECT_EQ(TopLevelError("  failure_threshold: 0%\n"),
            "coordinator.yaml:22:22: rollout.failure_threshold: \"0%\" is not "
            "a percentage from 1% to 100%");
}

TEST(RolloutConfigErrorsTest, DurationsAndPoolLabel) {
  EXPECT_EQ(TopLevelError("  bake_time: -1m\n"),
            "coordinator.yaml:22:14: rollout.bake_time: must not be negative, "
            "got \"-1m\"");
  EXPECT_EQ(TopLevelError("  bake_time: 5\n"),
            "coordinator.yaml:22:14: rollout.bake_time: \"5\" is not a "
            "duration (write a number and a unit: 250ms, 30s, 10m, 12h, 30d)");
  EXPECT_EQ(TopLevelError("  health_timeout: 0s\n"),
            "coordinator.yaml:22:19: rollout.health_timeout: must be "
            "positive, got \"0s\"");
  EXPECT_EQ(TopLevelError("  urgent_within: 7\n"),
            "coordinator.yaml:22:18: rollout.urgent_within: \"7\" is not a "
            "duration (write a number and a unit: 250ms, 30s, 10m, 12h, 30d)");
  EXPECT_EQ(TopLevelError("  pool_label: \"my pool\"\n"),
            "coordinator.yaml:22:15: rollout.pool_label: label key \"my "
            "pool\" is not valid (1-63 letters, digits, \".\", \"_\", \"-\" "
            "and \"/\", starting with a letter or digit)");
  EXPECT_EQ(TopLevelError("  wave: [100%]\n"),
            "coordinator.yaml:22:3: rollout.wave: unknown field \"wave\"; did "
            "you mean \"waves\"?");
  EXPECT_EQ(TopLevelError("  - waves\n"),
            "coordinator.yaml:22:3: rollout: expected a mapping, got a list");
}

TEST(RolloutConfigErrorsTest, Windows) {
  EXPECT_EQ(TopLevelError("  windows: {days: [mon]}\n"),
            "coordinator.yaml:22:12: rollout.windows: expected a list, got a "
            "mapping");
  EXPECT_EQ(TopLevelError("  windows: [~]\n"),
            "coordinator.yaml:22:12: rollout.windows[0]: empty list element");
  EXPECT_EQ(TopLevelError("  windows: [{days: [mo]}]\n"),
            "coordinator.yaml:22:21: rollout.windows[0].days[0]: \"mo\" is "
            "not a day (mon, tue, wed, thu, fri, sat, sun, or a range such as "
            "mon-fri)");
  EXPECT_EQ(TopLevelError("  windows: [{days: mon-fry}]\n"),
            "coordinator.yaml:22:20: rollout.windows[0].days: \"mon-fry\" is "
            "not a day (mon, tue, wed, thu, fri, sat, sun, or a range such as "
            "mon-fri)");
  EXPECT_EQ(TopLevelError("  windows: [{days: []}]\n"),
            "coordinator.yaml:22:20: rollout.windows[0].days: must list at "
            "least one day (leave days out for every day)");
  EXPECT_EQ(TopLevelError("  windows: [{days: [wed, mon-fri]}]\n"),
            "coordinator.yaml:22:26: rollout.windows[0].days[1]: \"mon-fri\" "
            "includes wed, already listed by rollout.windows[0].days[0]");
  EXPECT_EQ(TopLevelError("  windows: [{hours: 9-16}]\n"),
            "coordinator.yaml:22:21: rollout.windows[0].hours: \"9-16\" is not "
            "a range of hours (write HH:MM-HH:MM, such as 09:00-16:00 or "
            "22:00-04:00)");
  EXPECT_EQ(TopLevelError("  windows: [{hours: \"09:00-25:00\"}]\n"),
            "coordinator.yaml:22:21: rollout.windows[0].hours: "
            "\"09:00-25:00\" is not a range of hours (write HH:MM-HH:MM, such "
            "as 09:00-16:00 or 22:00-04:00)");
  EXPECT_EQ(TopLevelError("  windows: [{hours: \"24:00-02:00\"}]\n"),
            "coordinator.yaml:22:21: rollout.windows[0].hours: "
            "\"24:00-02:00\": a window cannot start at 24:00 (write 00:00)");
  EXPECT_EQ(TopLevelError("  windows: [{hours: \"09:00-09:00\"}]\n"),
            "coordinator.yaml:22:21: rollout.windows[0].hours: "
            "\"09:00-09:00\" is an empty window (for the whole day write "
            "00:00-24:00, or leave hours out)");
  EXPECT_EQ(TopLevelError("  windows: [{time_zone: Europe/Berlinn}]\n"),
            "coordinator.yaml:22:25: rollout.windows[0].time_zone: unknown "
            "time zone \"Europe/Berlinn\" (an IANA name such as "
            "Europe/Berlin, America/New_York or UTC)");
  EXPECT_EQ(TopLevelError("  windows: [{time_zone: localtime}]\n"),
            "coordinator.yaml:22:25: rollout.windows[0].time_zone: unknown "
            "time zone \"localtime\" (an IANA name such as Europe/Berlin, "
            "America/New_York or UTC)");
  EXPECT_EQ(TopLevelError("  windows: [{timezone: UTC}]\n"),
            "coordinator.yaml:22:14: rollout.windows[0].timezone: unknown "
            "field \"timezone\"; did you mean \"time_zone\"?");
}

TEST(RolloutConfigErrorsTest, CertificateOverrideNamesItsPath) {
  EXPECT_EQ(CertificateError("      max_unavailable: 0%\n"),
            "coordinator.yaml:22:24: certificates[0].rollout.max_unavailable: "
            "\"0%\" is not a percentage from 1% to 100%");
  EXPECT_EQ(CertificateError("      windows:\n"
                             "        - time_zone: Mars/Olympus\n"),
            "coordinator.yaml:23:22: certificates[0].rollout.windows[0]."
            "time_zone: unknown time zone \"Mars/Olympus\" (an IANA name such "
            "as Europe/Berlin, America/New_York or UTC)");
  EXPECT_EQ(CertificateError("      waves: [1, 50%]\n"),
            "coordinator.yaml:22:18: certificates[0].rollout.waves[1]: the "
            "last wave must be 100% (got 50%): waves are cumulative shares "
            "and the last one moves every target");
}

TEST(RolloutConfigErrorsTest, EveryProblemAtOnce) {
  EXPECT_EQ(TopLevelError("  waves: [1, 1]\n"
                          "  max_unavailable: none\n"
                          "  windows:\n"
                          "    - days: [someday]\n"
                          "      hours: 9am-5pm\n"
                          "      time_zone: Nowhere/Special\n"
                          "  urgent_within: -1d\n"),
            absl::StrJoin(
                {"coordinator.yaml:22:14: rollout.waves[1]: 1 is not more "
                 "than the earlier wave 1 (rollout.waves[0]): waves are "
                 "cumulative, so each count and each percentage must be "
                 "larger than the one before",
                 "coordinator.yaml:23:20: rollout.max_unavailable: \"none\" "
                 "is not a number of hosts or a percentage (write a whole "
                 "number such as 3, or a whole percentage such as 10%)",
                 "coordinator.yaml:25:14: rollout.windows[0].days[0]: "
                 "\"someday\" is not a day (mon, tue, wed, thu, fri, sat, "
                 "sun, or a range such as mon-fri)",
                 "coordinator.yaml:26:14: rollout.windows[0].hours: "
                 "\"9am-5pm\" is not a range of hours (write HH:MM-HH:MM, "
                 "such as 09:00-16:00 or 22:00-04:00)",
                 "coordinator.yaml:27:18: rollout.windows[0].time_zone: "
                 "unknown time zone \"Nowhere/Special\" (an IANA name such "
                 "as Europe/Berlin, America/New_York or UTC)",
                 "coordinator.yaml:28:18: rollout.urgent_within: must be "
                 "positive, got \"-1d\""},
                "\n"));
}

}  // namespace
}  // namespace certfleet::config
