#include "common/metrics/text_format.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "common/metrics/names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::metrics {
namespace {

using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FormatSampleValueTest, IntegersHaveNoExponentOrFraction) {
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(-0.0), "0");
  EXPECT_EQ(FormatSampleValue(3), "3");
  EXPECT_EQ(FormatSampleValue(-42), "-42");
  // The shortest form would be "1e+06".
  EXPECT_EQ(FormatSampleValue(1e6), "1000000");
  EXPECT_EQ(FormatSampleValue(1700000000), "1700000000");
  EXPECT_EQ(FormatSampleValue(9007199254740991.0), "9007199254740991");
}

TEST(FormatSampleValueTest, FractionsUseTheShortestRoundTrip) {
  EXPECT_EQ(FormatSampleValue(0.1), "0.1");
  EXPECT_EQ(FormatSampleValue(0.005), "0.005");
  EXPECT_EQ(FormatSampleValue(-2.5), "-2.5");
  EXPECT_EQ(FormatSampleValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatSampleValue(2.5e-7), "2.5e-07");
  EXPECT_EQ(FormatSampleValue(1e20), "1e+20");
  for (double v : {0.1, 1.0 / 3, 2.5e-7, 1e20, 123456.789, -9.87e-300}) {
    EXPECT_EQ(std::strtod(FormatSampleValue(v).c_str(), nullptr), v) << v;
  }
}

TEST(FormatSampleValueTest, SpecialValuesAreSpelledAsPrometheusExpects) {
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()),
            "-Inf");
  EXPECT_EQ(FormatSampleValue(std::nan("")), "NaN");
}

TEST(EscapeTest, HelpEscapesBackslashAndNewlineOnly) {
  EXPECT_EQ(EscapeHelp("a\\b\nc \"quoted\""), "a\\\\b\\nc \"quoted\"");
}

TEST(EscapeTest, LabelValueEscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("*.example.com"), "*.example.com");
}

TEST(AppendLabelsTest, RendersNamesValuesAndExtraLabel) {
  std::string out;
  AppendLabels({}, {}, "", "", &out);
  EXPECT_EQ(out, "");
  AppendLabels({"a", "b"}, {"x", "y\""}, "", "", &out);
  EXPECT_EQ(out, "{a=\"x\",b=\"y\\\"\"}");
  out.clear();
  AppendLabels({}, {}, "le", "+Inf", &out);
  EXPECT_EQ(out, "{le=\"+Inf\"}");
  out.clear();
  AppendLabels({"a"}, {"x"}, "le", "0.5", &out);
  EXPECT_EQ(out, "{a=\"x\",le=\"0.5\"}");
}

TEST(NamesTest, AcceptsValidMetricNames) {
  for (const char* name :
       {"a", "_x", ":x", "certfleet_orders_total", "job:rate5m:sum", "A9_:"}) {
    EXPECT_THAT(ValidateMetricName(name), IsOk()) << name;
  }
}

TEST(NamesTest, RejectsInvalidMetricNames) {
  for (const char* name : {"", "1abc", "bad-name", "has space", "é", "a.b"}) {
    EXPECT_THAT(ValidateMetricName(name),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("[a-zA-Z_:][a-zA-Z0-9_:]*")))
        << name;
  }
  EXPECT_THAT(
      ValidateMetricName("bad-name"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"bad-name\"")));
}

TEST(NamesTest, LabelNamesAllowNoColonAndNoReservedPrefix) {
  EXPECT_THAT(ValidateLabelName("issuer"), IsOk());
  EXPECT_THAT(ValidateLabelName("_private"), IsOk());
  EXPECT_THAT(ValidateLabelName("a:b"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("[a-zA-Z_][a-zA-Z0-9_]*")));
  EXPECT_THAT(
      ValidateLabelName("9lives"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("9lives")));
  EXPECT_THAT(ValidateLabelName(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ValidateLabelName("__name__"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reserved")));
}

TEST(NamesTest, LabelNameListRejectsDuplicates) {
  EXPECT_THAT(ValidateLabelNames("m", {"a", "b"}), IsOk());
  EXPECT_THAT(
      ValidateLabelNames("m", {"a", "b", "a"}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("metric \"m\": label name \"a\" appears twice")));
  EXPECT_THAT(ValidateLabelNames("m", {"ok", "__x"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("metric \"m\": invalid label name \"__x\"")));
}

}  // namespace
}  // namespace certfleet::metrics
