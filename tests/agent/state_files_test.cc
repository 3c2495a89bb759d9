// The grammar of what the agent reads back from disk: version directory
// names (version_name.h), the journal and the version record
// (state_files.h). Whatever the agent did not write the way it writes it is
// refused, naming the field.
#include "agent/install/state_files.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/install/version_name.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/install_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::agent {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(VersionNameTest, EveryIdGetsAValidNameThatDecodesBack) {
  std::vector<std::string> ids = {
      "www/7",     "web/12",     "a_b",    "",     ".",
      "..",        "../../etc",  "x/../v", "a..b", ".hidden",
      "-dash",     "UPPER/case", "sp ace", "é/ü",  "tab\there",
      "trailing.", "adopted",    "_2f",    "....", "a.-.b"};
  ids.push_back(std::string("nul\0in", 6));
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    const std::string name = VersionDirName(id);
    EXPECT_TRUE(IsValidVersionName(name)) << name;
    EXPECT_EQ(name.find('/'), std::string::npos);
    EXPECT_EQ(name.find(".."), std::string::npos);
    EXPECT_NE(name.front(), '.');
    EXPECT_EQ(VersionIdOfName(name), id) << name;
  }
  EXPECT_EQ(VersionDirName("www/7"), "www_2f7");
  EXPECT_EQ(VersionDirName("a..b"), "a._2eb");
  EXPECT_EQ(VersionDirName(""), "_");
  EXPECT_EQ(VersionDirName(kAdoptedVersionName), kAdoptedVersionName);
}

TEST(VersionNameTest, NamesTheAgentDoesNotWriteAreInvalid) {
  const std::vector<std::string> bad = {
      "",
      ".",
      "..",
      ".versions",
      ".tmp-www_2f1-12",
      "x/../../../victim",
      "a/b",
      "a..b",     // the agent writes "a._2eb"
      "www_2F1",  // upper-case escape
      "www_2",    // short escape
      "www_",     // dangling escape
      "www_61",   // escape of a letter: the agent writes "a"
      "_2e_2e",   // leading dot escape twice: written "_2e."
      "a b",      // unescaped space
      "a\nb",
      std::string(kMaxVersionNameLength + 1, 'a'),
  };
  for (const std::string& name : bad) {
    EXPECT_FALSE(IsValidVersionName(name)) << name;
    EXPECT_EQ(VersionIdOfName(name), std::nullopt) << name;
  }
  EXPECT_TRUE(IsValidVersionName(std::string(kMaxVersionNameLength, 'a')));
  // An id whose name would be too long has no valid name.
  EXPECT_FALSE(IsValidVersionName(VersionDirName(std::string(100, '/'))));
}

TEST(JournalTest, RoundTripsEveryField) {
  const Journal j{
      .serving = "www_2f1",
      .previous = "adopted",
      .candidate = "www_2f2",
      .phase = Journal::Phase::kRollingBack,
      .failed_step = DeliveryStep::kHealth,
      .error = "serves serial 0a01; rolled back",
      .last_failure = LocalFailure{.version_id = "www/0",
                                   .failed_step = DeliveryStep::kReload,
                                   .error = "exit 1",
                                   .rolled_back = true}};
  ASSERT_OK_AND_ASSIGN(const Journal back, DecodeJournal(EncodeJournal(j)));
  EXPECT_EQ(back, j);
  const Journal idle{.serving = "www_2f1"};
  ASSERT_OK_AND_ASSIGN(const Journal idle_back,
                       DecodeJournal(EncodeJournal(idle)));
  EXPECT_EQ(idle_back, idle);
}

TEST(JournalTest, AcceptsTheFormatOfEarlierAgents) {
  ASSERT_OK_AND_ASSIGN(
      Journal j, DecodeJournal(R"({"candidate":"www_2f2","phase":"writing",)"
                               R"("previous":"","serving":"www_2f1"})"));
  EXPECT_EQ(j, (Journal{.serving = "www_2f1",
                        .candidate = "www_2f2",
                        .phase = Journal::Phase::kWriting}));
}

struct BadJournal {
  const char* name;
  std::string text;
  const char* problem;
};

class BadJournalTest : public ::testing::TestWithParam<BadJournal> {};

TEST_P(BadJournalTest, IsRefusedNamingTheField) {
  EXPECT_THAT(
      DecodeJournal(GetParam().text),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr(GetParam().problem)));
}

std::string JournalWith(const std::string& serving, const std::string& previous,
                        const std::string& candidate, const std::string& phase,
                        const std::string& extra = "") {
  return absl::StrCat(R"({"serving":")", serving, R"(","previous":")", previous,
                      R"(","candidate":")", candidate, R"(","phase":")", phase,
                      "\"", extra, "}");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadJournalTest,
    ::testing::Values(
        BadJournal{"climbing_candidate",
                   JournalWith("", "", "x/../../../victim", "writing"),
                   R"(candidate: "x/../../../victim" is not a version name)"},
        BadJournal{"climbing_serving", JournalWith("../../etc", "", "", "idle"),
                   "serving: \"../../etc\" is not a version name"},
        BadJournal{"hidden_previous", JournalWith("a", ".versions", "", "idle"),
                   "previous: \".versions\""},
        BadJournal{"dot_dot", JournalWith("..", "", "", "idle"), "serving"},
        BadJournal{"unknown_phase", JournalWith("a", "", "", "done"),
                   "phase: \"done\" is unknown"},
        BadJournal{"no_candidate_while_writing",
                   JournalWith("a", "", "", "writing"),
                   "candidate: missing while an install is in progress"},
        BadJournal{"candidate_while_idle", JournalWith("a", "", "b", "idle"),
                   "candidate: set while no install is in progress"},
        BadJournal{"candidate_is_serving", JournalWith("a", "", "a", "swapped"),
                   "candidate: the same as serving"},
        BadJournal{"missing_field", R"({"serving":"a","phase":"idle"})",
                   "previous: missing"},
        BadJournal{
            "wrong_type",
            R"({"serving":1,"previous":"","candidate":"","phase":"idle"})",
            "serving: not a string"},
        BadJournal{"not_an_object", "[1,2]", "not a JSON object"},
        BadJournal{"not_json", "{not json", "not JSON"},
        BadJournal{"too_large", std::string(kMaxStateFileBytes + 1, ' '),
                   "larger than"},
        BadJournal{"unknown_step",
                   JournalWith("a", "", "b", "rolling_back",
                               R"(,"failed_step":"rm -rf")"),
                   "failed_step: \"rm -rf\" is not a step"},
        BadJournal{"long_error",
                   JournalWith("a", "", "", "idle",
                               absl::StrCat(R"(,"error":")",
                                            std::string(5000, 'e'), "\"")),
                   "error: longer than 4096 bytes"},
        BadJournal{"failure_without_id",
                   JournalWith("a", "", "", "idle",
                               R"(,"last_failure":{"failed_step":"health"})"),
                   "last_failure: version_id: missing"},
        BadJournal{"failure_with_control_bytes",
                   JournalWith("a", "", "", "idle",
                               R"(,"last_failure":{"version_id":"a\nb",)"
                               R"("failed_step":"health"})"),
                   "version_id: \"a\\x0ab\" is not a version id"},
        BadJournal{"failure_rolled_back_not_bool",
                   JournalWith("a", "", "", "idle",
                               R"(,"last_failure":{"version_id":"w/1",)"
                               R"("failed_step":"health","rolled_back":1})"),
                   "rolled_back: not a bool"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(VersionInfoTest, RoundTripsAndIsValidated) {
  const VersionInfo info{.version_id = "www/3",
                         .certificate = "www",
                         .serial = "0a03",
                         .not_after = absl::FromUnixSeconds(1800000000),
                         .written_at = absl::FromUnixMillis(1700000000123),
                         .leaf_pem = "-----BEGIN CERTIFICATE-----\n"};
  ASSERT_OK_AND_ASSIGN(VersionInfo back,
                       DecodeVersionInfo(EncodeVersionInfo(info)));
  EXPECT_EQ(back.version_id, info.version_id);
  EXPECT_EQ(back.certificate, info.certificate);
  EXPECT_EQ(back.serial, info.serial);
  EXPECT_EQ(back.not_after, info.not_after);
  EXPECT_EQ(back.written_at, info.written_at);
  EXPECT_EQ(back.leaf_pem, info.leaf_pem);

  EXPECT_THAT(DecodeVersionInfo(R"({"version_id":""})"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("version_id: \"\" is not a version id")));
  EXPECT_THAT(DecodeVersionInfo(absl::StrCat(R"({"version_id":")",
                                             std::string(300, 'a'), "\"}")),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("version_id: longer than 256 bytes")));
  EXPECT_THAT(DecodeVersionInfo(R"({"version_id":"w/1","serial":"ZZ"})"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("serial: not lower-case hex")));
  EXPECT_THAT(DecodeVersionInfo(R"({"version_id":"w/1","not_after":"x"})"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("not_after: not an integer")));
  EXPECT_THAT(
      DecodeVersionInfo("null"),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a JSON object")));
}

}  // namespace
}  // namespace certfleet::agent
