#include "common/flag_reader.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet {
namespace {

using ::certfleet::testing::StatusIs;

TEST(FlagReaderTest, ValuesAfterEqualsOrAsTheNextArgument) {
  const std::vector<std::string> args = {
      "create", "--name=alice", "--ttl", "1h", "--x=a=b", "-o", "json"};
  FlagReader flags(args, /*first=*/1);
  ASSERT_TRUE(flags.Next());
  EXPECT_EQ(flags.flag(), "--name");
  EXPECT_EQ(flags.arg(), "--name=alice");
  EXPECT_EQ(*flags.Value(), "alice");
  ASSERT_TRUE(flags.Next());
  EXPECT_EQ(flags.flag(), "--ttl");
  EXPECT_EQ(*flags.Value(), "1h");  // consumes "1h"
  ASSERT_TRUE(flags.Next());
  EXPECT_EQ(flags.flag(), "--x");
  EXPECT_EQ(*flags.Value(), "a=b");
  ASSERT_TRUE(flags.Next());
  EXPECT_EQ(flags.flag(), "-o");  // "=" splits only "--" flags
  EXPECT_EQ(*flags.Value(), "json");
  EXPECT_FALSE(flags.Next());
}

TEST(FlagReaderTest, MissingValueAndUnknownArgumentsAreNamed) {
  const std::vector<std::string> args = {"--ttl"};
  FlagReader flags(args);
  ASSERT_TRUE(flags.Next());
  EXPECT_THAT(flags.Value(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      "--ttl needs a value"));
  EXPECT_THAT(flags.Unknown("token create"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "token create: unknown argument \"--ttl\""));
}

}  // namespace
}  // namespace certfleet
