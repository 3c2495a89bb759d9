// The shipped systemd units, as systemd itself reads them. This machine's
// PID 1 is not systemd, so the units cannot be started here: they are
// checked with `systemd-analyze verify` (syntax, directives this systemd
// knows, executables present) and `systemd-analyze security --offline`
// (the exposure score docs/operations.md records; a unit that loses
// hardening fails the threshold).
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/server_process.h"
#include "tests/hygiene/hygiene_support.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::hygiene {
namespace {

using ::testing::HasSubstr;

struct Unit {
  const char* path;  // in the source tree
  // The exposure `systemd-analyze security` gives it (systemd 252), as
  // recorded in docs/operations.md: 0 (best) to 10.
  double exposure;
};

// For test names and messages: the unit's path.
void PrintTo(const Unit& unit, std::ostream* os) { *os << unit.path; }

constexpr Unit kUnits[] = {
    {"deploy/systemd/certfleet-agent.service", 2.3},
    {"deploy/systemd/certfleet-coordinator.service", 1.2},
    {"deploy/ha/systemd/certfleet-coordinator.service", 1.2},
};

// The unit with its ExecStart binaries replaced by the ones just built, in
// a directory of its own (systemd-analyze checks that they exist).
std::string Installed(const ::certfleet::testing::TempDir& dir,
                      const Unit& unit) {
  const std::string text = absl::StrReplaceAll(
      ::certfleet::testing::ReadFileOrDie(
          absl::StrCat(CERTFLEET_SOURCE_DIR, "/", unit.path)),
      {{"/usr/local/bin/certfleet-agent", CERTFLEET_AGENT_BINARY},
       {"/usr/local/bin/certfleet-coordinator", CERTFLEET_COORDINATOR_BINARY}});
  const std::string name = unit.path;
  const std::string path = dir.File(name.substr(name.rfind('/') + 1));
  ::certfleet::testing::WriteFileOrDie(path, text);
  return path;
}

class SystemdUnitsTest : public ::testing::TestWithParam<Unit> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> analyze =
        harness::FindProgram("systemd-analyze");
    ASSERT_OK(analyze.status());
    analyze_ = *analyze;
  }
  std::string analyze_;
  ::certfleet::testing::TempDir dir_{"units"};
};

TEST_P(SystemdUnitsTest, VerifiesClean) {
  const std::string unit = Installed(dir_, GetParam());
  const ProcessResult r =
      RunBinary({analyze_, "verify", "--man=no", "--generators=no", unit});
  EXPECT_EQ(r.exit_code, 0) << r.Describe() << ": " << r.stderr_data;
  EXPECT_EQ(r.stderr_data, "");
}

TEST_P(SystemdUnitsTest, ExposureStaysAtTheRecordedScore) {
  const std::string unit = Installed(dir_, GetParam());
  const int threshold =
      static_cast<int>(GetParam().exposure * 10 + 0.5);  // 0..100
  const ProcessResult r =
      RunBinary({analyze_, "security", "--offline=true", "--no-pager",
                 absl::StrCat("--threshold=", threshold), unit});
  EXPECT_EQ(r.exit_code, 0) << "exposure above " << GetParam().exposure << ":\n"
                            << r.stdout_data << r.stderr_data;
  const std::string marker = "Overall exposure level for ";
  const size_t at = r.stdout_data.find(marker);
  ASSERT_NE(at, std::string::npos) << r.stdout_data;
  const size_t colon = r.stdout_data.find(": ", at);
  double score = 99;
  ASSERT_TRUE(absl::SimpleAtod(
      r.stdout_data.substr(colon + 2,
                           r.stdout_data.find(' ', colon + 2) - colon - 2),
      &score))
      << r.stdout_data.substr(at, 80);
  EXPECT_LE(score, GetParam().exposure);
  // What every unit promises, whatever the total.
  for (const char* line :
       {"✓ RestrictSUIDSGID=", "✓ ProtectProc=", "✓ LockPersonality=",
        "✓ RestrictNamespaces=~user", "✓ SystemCallFilter=~@mount",
        "✓ NoNewPrivileges=", "✓ MemoryDenyWriteExecute="}) {
    EXPECT_THAT(r.stdout_data, HasSubstr(line)) << GetParam().path;
  }
  EXPECT_THAT(::certfleet::testing::ReadFileOrDie(unit),
              HasSubstr("\nLimitCORE=0\n"));
}

INSTANTIATE_TEST_SUITE_P(Shipped, SystemdUnitsTest, ::testing::ValuesIn(kUnits),
                         [](const ::testing::TestParamInfo<Unit>& info) {
                           std::string name = info.param.path;
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace certfleet::hygiene
