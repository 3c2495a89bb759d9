// Agent labels: the "k=v,k=v" form operators type, its errors, and
// selector matching (common/labels.h).
#include "common/labels.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::labels {
namespace {

TEST(LabelsTest, ParseFormatAndMatch) {
  ASSERT_OK_AND_ASSIGN(Labels labels,
                       ParseLabelList(" role=web, example.com/tier=edge-1 "));
  EXPECT_EQ(labels, (Labels{{"example.com/tier", "edge-1"}, {"role", "web"}}));
  EXPECT_EQ(FormatLabels(labels), "example.com/tier=edge-1,role=web");
  EXPECT_THAT(ParseLabelList(""), ::certfleet::testing::IsOk());
  EXPECT_TRUE(LabelsMatch({}, labels));
  EXPECT_TRUE(LabelsMatch({{"role", "web"}}, labels));
  EXPECT_FALSE(LabelsMatch({{"role", "api"}}, labels));
  EXPECT_FALSE(LabelsMatch({{"env", "prod"}}, labels));
}

TEST(LabelsTest, ParseErrorsNameTheProblem) {
  using ::certfleet::testing::StatusIs;
  EXPECT_THAT(ParseLabelList("role"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"role\" is not a label (write key=value)"));
  EXPECT_THAT(ParseLabelList("role=web,role=api"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "label role is given twice"));
  EXPECT_THAT(ParseLabelList("role="),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "label role: value \"\" is not valid (1-63 letters, "
                       "digits, \".\", \"_\" and \"-\", starting with a letter "
                       "or digit)"));
  EXPECT_THAT(ParseLabelList("=web"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("label key \"\" is not valid")));
  EXPECT_THAT(ParseLabelList("role=a/b"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("value \"a/b\" is not valid")));
}

}  // namespace
}  // namespace certfleet::labels
