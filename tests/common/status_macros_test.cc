// Annotate and WithMessage add context to an error on its way up; what a
// caller decides on (code, payloads such as the CA's Retry-After) must
// arrive unchanged.
#include "common/status_macros.h"

#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace certfleet {
namespace {

constexpr char kType[] = "certfleet.dev/test";

absl::Status Limited() {
  absl::Status s = absl::ResourceExhaustedError("slow down");
  s.SetPayload(kType, absl::Cord("3600"));
  return s;
}

TEST(StatusMacrosTest, AnnotateKeepsCodeAndPayloads) {
  const absl::Status out = Annotate(Limited(), "issuer pebble");
  EXPECT_EQ(out.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(out.message(), "issuer pebble: slow down");
  ASSERT_TRUE(out.GetPayload(kType).has_value());
  EXPECT_EQ(std::string(*out.GetPayload(kType)), "3600");
}

TEST(StatusMacrosTest, WithMessageKeepsCodeAndPayloads) {
  const absl::Status out = WithMessage(Limited(), "two failures");
  EXPECT_EQ(out.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(out.message(), "two failures");
  EXPECT_EQ(std::string(out.GetPayload(kType).value_or(absl::Cord())), "3600");
}

TEST(StatusMacrosTest, OkStaysOk) {
  EXPECT_TRUE(Annotate(absl::OkStatus(), "context").ok());
  EXPECT_TRUE(WithMessage(absl::OkStatus(), "context").ok());
}

}  // namespace
}  // namespace certfleet
