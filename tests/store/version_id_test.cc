// Version ids: what the coordinator makes, reads back and accepts from
// agents (coordinator/store/version_id.h).
#include "coordinator/store/version_id.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::store {
namespace {

using ::certfleet::testing::StatusIs;

TEST(VersionIdTest, MadeAndReadBack) {
  EXPECT_EQ(VersionId("web", 3), "web/3");
  ASSERT_OK_AND_ASSIGN(auto parts, ParseVersionId("wildcard-example.com/12"));
  EXPECT_EQ(parts.first, "wildcard-example.com");
  EXPECT_EQ(parts.second, 12);
  for (const char* bad : {"web", "/1", "web/0", "web/-1", "web/x"}) {
    EXPECT_THAT(ParseVersionId(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         ::testing::HasSubstr("is not <certificate>/<version "
                                              "number>")))
        << bad;
  }
}

TEST(VersionIdTest, OnlyWhatTheCoordinatorMakesIsAVersionId) {
  EXPECT_TRUE(IsVersionId("web/1"));
  EXPECT_TRUE(IsVersionId("wildcard-example.com/123456789012345678"));
  for (const char* bad :
       {"web", "/1", "web/0", "web/01", "web/+1", "web/ 1", "web/1x", "we b/1",
        "web/1234567890123456789", "a/b/1"}) {
    EXPECT_FALSE(IsVersionId(bad)) << bad;
  }
}

}  // namespace
}  // namespace certfleet::store
