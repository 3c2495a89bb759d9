// The fields agent.yaml and coordinator.yaml read alike: paths resolved
// against the configuration's directory, names in one grammar, durations
// that may be zero.
#include "common/yaml/shared_fields.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::yaml {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

class SharedFieldsTest : public ::testing::Test {
 protected:
  Mapping Load(const std::string& text) {
    doc_ = YAML::Load(text);
    return reader_.Map(reader_.Root(doc_), {"a", "b", "c", "d", "e"});
  }

  Diagnostics diags_{"test.yaml"};
  Reader reader_{diags_, [](const std::string&) { return std::nullopt; }};
  YAML::Node doc_;
};

TEST(ResolvePathTest, RelativePathsJoinTheConfigDirectory) {
  EXPECT_EQ(ResolvePath("/etc/certfleet", "ca.pem"), "/etc/certfleet/ca.pem");
  EXPECT_EQ(ResolvePath("/etc/certfleet/", "./././ca.pem"),
            "/etc/certfleet/ca.pem");
  EXPECT_EQ(ResolvePath("/etc/certfleet", "/srv/ca.pem"), "/srv/ca.pem");
  EXPECT_EQ(ResolvePath("", "ca.pem"), "ca.pem");
}

TEST_F(SharedFieldsTest, PathsAreResolvedAndRequiredOnesReported) {
  Mapping m = Load("a: ./x.pem\nb: ''\n");
  std::string out;
  EXPECT_TRUE(ReadPath(reader_, m.Get("a"), "/etc/c", true, &out));
  EXPECT_EQ(out, "/etc/c/x.pem");
  EXPECT_FALSE(ReadPath(reader_, m.Get("b"), "/etc/c", false, &out));
  EXPECT_FALSE(ReadPath(reader_, m.Get("c"), "/etc/c", false, &out));
  EXPECT_TRUE(diags_.empty());
  EXPECT_FALSE(ReadPath(reader_, m.Get("b"), "/etc/c", true, &out));
  EXPECT_THAT(diags_.ToStatus(), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("b: must not be empty")));
}

TEST_F(SharedFieldsTest, NamesFollowTheObjectGrammar) {
  Mapping m = Load("a: web-1\nb: a b\n");
  std::string out;
  EXPECT_TRUE(ReadObjectName(reader_, m.Get("a"), "target name", &out));
  EXPECT_EQ(out, "web-1");
  EXPECT_FALSE(ReadObjectName(reader_, m.Get("b"), "target name", &out));
  EXPECT_THAT(
      diags_.ToStatus(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("b: \"a b\" is not a valid target name (letters, "
                         "digits, \".\", \"_\" and \"-\", starting with a "
                         "letter or digit, at most 64 characters)")));
}

TEST_F(SharedFieldsTest, NonNegativeDurationsMayBeZero) {
  Mapping m = Load("a: 0s\nb: 250ms\nc: -1s\n");
  absl::Duration d = absl::Hours(1);
  EXPECT_TRUE(reader_.NonNegativeDuration(m.Get("a"), &d));
  EXPECT_EQ(d, absl::ZeroDuration());
  EXPECT_TRUE(reader_.NonNegativeDuration(m.Get("b"), &d));
  EXPECT_EQ(d, absl::Milliseconds(250));
  EXPECT_FALSE(reader_.NonNegativeDuration(m.Get("c"), &d));
  EXPECT_EQ(d, absl::Milliseconds(250));
  EXPECT_THAT(diags_.ToStatus(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("c: must not be negative, got \"-1s\"")));
}

}  // namespace
}  // namespace certfleet::yaml
