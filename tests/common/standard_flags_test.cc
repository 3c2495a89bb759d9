// -o and --log-level, read the same way by all three binaries.
#include "common/standard_flags.h"

#include <string>
#include <vector>

#include "common/log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet {
namespace {

using ::certfleet::testing::StatusIs;

TEST(StandardFlagsTest, OutputIsTableOrJson) {
  const std::vector<std::string> args = {"-o", "json", "--output=table",
                                         "-o", "yaml", "-o"};
  FlagReader flags(args);
  ASSERT_TRUE(flags.Next());
  EXPECT_EQ(*ReadOutputFlag(flags), true);
  ASSERT_TRUE(flags.Next());
  EXPECT_EQ(*ReadOutputFlag(flags), false);
  ASSERT_TRUE(flags.Next());
  EXPECT_THAT(ReadOutputFlag(flags),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "-o: \"yaml\" is not one of table, json"));
  ASSERT_TRUE(flags.Next());
  EXPECT_THAT(ReadOutputFlag(flags),
              StatusIs(absl::StatusCode::kInvalidArgument, "-o needs a value"));
}

TEST(StandardFlagsTest, LogLevelIsAppliedAtOnce) {
  const std::vector<std::string> args = {"--log-level", "error",
                                         "--log-level=verbose"};
  FlagReader flags(args);
  ASSERT_TRUE(flags.Next());
  ASSERT_TRUE(ReadLogLevelFlag(flags).ok());
  EXPECT_FALSE(LogEnabled(LogLevel::kWarning));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  ASSERT_TRUE(flags.Next());
  EXPECT_THAT(ReadLogLevelFlag(flags),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--log-level: \"verbose\" is not one of debug, info, "
                       "warning, error"));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));  // unchanged by a bad value
  SetLogLevel(LogLevel::kInfo);               // the default, for other tests
}

// The daemons' own flags, read by a caller's function.
absl::Status ReadServe(const std::vector<std::string>& args,
                       std::string& command, std::string& config, bool& once) {
  return ReadDaemonCommandLine(args, command, config,
                               [&](FlagReader& flags) -> absl::StatusOr<bool> {
                                 if (flags.flag() != "--once") return false;
                                 once = true;
                                 return true;
                               });
}

TEST(StandardFlagsTest, DaemonCommandLines) {
  std::string command, config;
  bool once = false;
  ASSERT_TRUE(ReadServe({"serve", "--config=/etc/c.yaml", "--once"}, command,
                        config, once)
                  .ok());
  EXPECT_EQ(command, "serve");
  EXPECT_EQ(config, "/etc/c.yaml");
  EXPECT_TRUE(once);

  config.clear();
  ASSERT_TRUE(
      ReadServe({"check-config", "c.yaml"}, command, config, once).ok());
  EXPECT_EQ(config, "c.yaml");

  config.clear();
  EXPECT_THAT(ReadServe({}, command, config, once),
              StatusIs(absl::StatusCode::kInvalidArgument, "no command given"));
  EXPECT_THAT(ReadServe({"serve", "c.yaml"}, command, config, once),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown argument \"c.yaml\""));
  EXPECT_THAT(ReadServe({"serve", "--once"}, command, config, once),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "no configuration file given (--config FILE)"));
  EXPECT_THAT(ReadServe({"serve", "-c"}, command, config, once),
              StatusIs(absl::StatusCode::kInvalidArgument, "-c needs a value"));
  EXPECT_TRUE(ReadServe({"version"}, command, config, once).ok());
}

}  // namespace
}  // namespace certfleet
