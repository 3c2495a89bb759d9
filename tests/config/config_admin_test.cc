// The admin section of coordinator.yaml: where the admin API listens and
// the names certfleetctl dials it by.
#include <string>

#include "absl/strings/str_cat.h"
#include "coordinator/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::config {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<CoordinatorConfig> ParseAdmin(const std::string& admin) {
  testing::MemoryFilesystem fs;
  return testing::ParseText(absl::StrCat(testing::kValid, "admin:\n", admin),
                            fs);
}

TEST(AdminConfigTest, SectionAndDefaults) {
  testing::MemoryFilesystem fs;
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c,
                       testing::ParseText(testing::kValid, fs));
  EXPECT_EQ(c.admin.listen, "");
  ASSERT_OK_AND_ASSIGN(c, ParseAdmin("  listen: 127.0.0.1:7444\n"));
  EXPECT_EQ(c.admin.listen, "127.0.0.1:7444");
  EXPECT_THAT(c.admin.server_names, ElementsAre("127.0.0.1"));
  ASSERT_OK_AND_ASSIGN(
      c, ParseAdmin("  listen: 0.0.0.0:7444\n"
                    "  server_names: [Coord.Example.Test, 192.0.2.1]\n"));
  EXPECT_THAT(c.admin.server_names,
              ElementsAre("coord.example.test", "192.0.2.1"));
}

TEST(AdminConfigTest, Problems) {
  EXPECT_THAT(ParseAdmin("  listen: 0.0.0.0:7444\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("admin.server_names: required when listen "
                                 "is a wildcard address (0.0.0.0)")));
  EXPECT_THAT(ParseAdmin("  server_names: [a.example.test]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("set admin.listen too")));
  EXPECT_THAT(ParseAdmin("  listen: 127.0.0.1:7444\n"
                         "  server_names: [\"::\"]\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("wildcard address; certfleetctl cannot "
                                 "dial it")));
  EXPECT_THAT(
      ParseAdmin("  listen: 127.0.0.1:7444\n  port: 1\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("admin.port")));
}

}  // namespace
}  // namespace certfleet::config
