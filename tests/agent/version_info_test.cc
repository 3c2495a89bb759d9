// The version record (.versions/<id>/.certfleet-version.json) read back from
// disk: what EncodeVersionInfo writes decodes to the same record, and a
// number the agent never writes (a fraction, 1e300, beyond int64) is
// kDataLoss naming the field — found by fuzzing
// (tests/fuzz/version_info_fuzzer.cc): nlohmann cast such a number to
// int64_t, which is undefined behaviour.
#include <string>

#include "agent/install/state_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::agent {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(VersionInfoTest, EncodedRecordDecodesToTheSameRecord) {
  const VersionInfo info{.version_id = "www/7",
                         .certificate = "www",
                         .serial = "0a1b",
                         .not_after = absl::FromUnixSeconds(-5'000'000'000),
                         .written_at = absl::FromUnixMillis(1'800'000'000'123),
                         .leaf_pem = "-----BEGIN CERTIFICATE-----\n"};
  ASSERT_OK_AND_ASSIGN(const VersionInfo back,
                       DecodeVersionInfo(EncodeVersionInfo(info)));
  EXPECT_EQ(back.version_id, info.version_id);
  EXPECT_EQ(back.certificate, info.certificate);
  EXPECT_EQ(back.serial, info.serial);
  EXPECT_EQ(back.not_after, info.not_after);
  EXPECT_EQ(back.written_at, info.written_at);
  EXPECT_EQ(back.leaf_pem, info.leaf_pem);
}

TEST(VersionInfoTest, AbsentTimesReadAsTheEpoch) {
  ASSERT_OK_AND_ASSIGN(const VersionInfo info,
                       DecodeVersionInfo(R"({"version_id": "www/1"})"));
  EXPECT_EQ(info.not_after, absl::UnixEpoch());
  EXPECT_EQ(info.written_at, absl::UnixEpoch());
}

TEST(VersionInfoTest, NumbersTheAgentNeverWritesAreDataLoss) {
  for (const char* json : {
           R"({"version_id": "a", "not_after": 1e300})",
           R"({"version_id": "a", "not_after": 1.5})",
           R"({"version_id": "a", "not_after": -1e19})",
           R"({"version_id": "a", "not_after": 18446744073709551615})",
           R"({"version_id": "a", "not_after": "1800000000"})",
       }) {
    EXPECT_THAT(DecodeVersionInfo(json),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not_after")))
        << json;
  }
  EXPECT_THAT(
      DecodeVersionInfo(
          R"({"version_id": "a", "written_at_ms": 180000000000000000000000})"),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("written_at_ms")));
}

}  // namespace
}  // namespace certfleet::agent
