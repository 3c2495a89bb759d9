// Recovery after a killed agent: each test lays out on disk what an agent
// killed at some instant leaves behind, then starts a new manager.
#include <unistd.h>

#include "agent/install/bundle_files.h"
#include "agent/install/target_directory.h"
#include "common/filesystem.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/install_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::agent::testing {
namespace {

using ::certfleet::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class RecoverTest : public InstallFixture {
 protected:
  // www/1 installed and serving, by a manager that is gone again.
  void InstallFirst() {
    auto manager = NewManager();
    ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
    runs_before_ = runner_.runs();
  }

  // Writes version www/<n> as an install would, without swapping it in.
  void WriteVersion(int n, const std::string& serial) {
    const Bundle b = WwwBundle(n, serial);
    ASSERT_OK_AND_ASSIGN(VerifiedBundle v,
                         VerifyBundle(b, www(), clock_.Now()));
    LocalFilesystem fs;
    ASSERT_OK_AND_ASSIGN(std::vector<RenderedFile> files,
                         RenderFiles(www(), v, fs));
    files.push_back(RenderedFile{
        .path = kVersionInfoFileName,
        .content = EncodeVersionInfo({.version_id = b.version_id,
                                      .serial = serial,
                                      .not_after = v.leaf.NotAfter(),
                                      .written_at = clock_.Now()}),
        .mode = 0644});
    TargetDirectory dir(Dir());
    ASSERT_OK(dir.Open(/*create=*/true));
    ASSERT_OK(dir.WriteVersion(TargetDirectory::VersionDirName(b.version_id),
                               files, std::nullopt, std::nullopt));
  }

  void SwapTo(const std::string& name) {
    TargetDirectory dir(Dir());
    ASSERT_OK(dir.Open(/*create=*/true));
    ASSERT_OK(dir.SwapCurrent(name));
  }

  void SetJournal(const Journal& j) {
    TargetDirectory dir(Dir());
    ASSERT_OK(dir.Open(/*create=*/true));
    ASSERT_OK(dir.WriteJournal(j));
  }

  int runs_before_ = 0;
};

TEST_F(RecoverTest, CompletesAnInstallInterruptedAfterTheSwap) {
  InstallFirst();
  WriteVersion(2, "0a02");
  SwapTo("www_2f2");
  SetJournal({.serving = "www_2f1",
              .candidate = "www_2f2",
              .phase = Journal::Phase::kSwapped});
  auto manager = NewManager();
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_EQ(Current(), "www_2f2");
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a02");
  EXPECT_EQ(runner_.runs(), runs_before_ + 1);
  EXPECT_EQ(checker_.serials().back(), "0a02");
  const Journal j = ReadJournalOrDie();
  EXPECT_EQ(j, (Journal{.serving = "www_2f2", .previous = "www_2f1"}));
  EXPECT_EQ(manager->Inventory()[0].version_id, "www/2");
  EXPECT_TRUE(manager->Inventory()[0].healthy);
  EXPECT_EQ(
      Metric("certfleet_agent_installs_total{target=\"www\",result=\"ok\"}"),
      2);
  // Recovering twice changes nothing.
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_EQ(runner_.runs(), runs_before_ + 1);
}

TEST_F(RecoverTest, RevertsAnInterruptedInstallThatFailsItsChecks) {
  InstallFirst();
  WriteVersion(2, "0a02");
  SwapTo("www_2f2");
  SetJournal({.serving = "www_2f1",
              .candidate = "www_2f2",
              .phase = Journal::Phase::kReloaded});
  checker_.FailFor("0a02", "serves serial 0a01, expected 0a02");
  auto manager = NewManager();
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_EQ(Current(), "www_2f1");
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");
  EXPECT_EQ(runner_.runs(), runs_before_ + 2);  // the candidate's, then www/1's
  EXPECT_EQ(Metric("certfleet_agent_rollbacks_total{target=\"www\"}"), 1);
  EXPECT_EQ(manager->Inventory()[0].version_id, "www/1");
  // No delivery waits for this outcome: it is the target's last failure,
  // kept in the journal and reported in every inventory.
  const LocalFailure failure{
      .version_id = "www/2",
      .failed_step = DeliveryStep::kHealth,
      .error =
          "serves serial 0a01, expected 0a02 (20 attempts over 4.75s); "
          "rolled back to www/1",
      .rolled_back = true};
  EXPECT_EQ(ReadJournalOrDie(),
            (Journal{.serving = "www_2f1", .last_failure = failure}));
  EXPECT_EQ(manager->Inventory()[0].last_failure, failure);
  // Across a restart, until an install succeeds.
  manager.reset();
  manager = NewManager();
  EXPECT_EQ(manager->Inventory()[0].last_failure, failure);
  ASSERT_TRUE(manager->Install(WwwBundle(3, "0a03"), Context()).ok);
  EXPECT_EQ(manager->Inventory()[0].last_failure, std::nullopt);
  EXPECT_EQ(ReadJournalOrDie().last_failure, std::nullopt);
}

TEST_F(RecoverTest, DropsACandidateThatWasNeverSwappedIn) {
  InstallFirst();
  WriteVersion(2, "0a02");
  // Debris of a write and a swap that were cut short.
  ASSERT_EQ(mkdir(Path(".versions/.tmp-www_2f3-999").c_str(), 0755), 0);
  WriteFileOrDie(Path(".versions/.tmp-www_2f3-999/key.pem"), "partial");
  ASSERT_EQ(symlink(".versions/www_2f2", Path("current.tmp-999").c_str()), 0);
  WriteFileOrDie(Path(".certfleet-state.tmp-999-1"), "{");
  ASSERT_EQ(symlink("current/key.pem", Path("key.pem.tmp-999").c_str()), 0);
  SetJournal({.serving = "www_2f1",
              .candidate = "www_2f2",
              .phase = Journal::Phase::kWriting});
  auto manager = NewManager();
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_EQ(Current(), "www_2f1");
  EXPECT_THAT(Versions(), ElementsAre("www_2f1"));
  EXPECT_EQ(access(Path("current.tmp-999").c_str(), F_OK), -1);
  EXPECT_EQ(access(Path(".certfleet-state.tmp-999-1").c_str(), F_OK), -1);
  EXPECT_EQ(access(Path("key.pem.tmp-999").c_str(), F_OK), -1);
  EXPECT_EQ(runner_.runs(), runs_before_);  // the service was never touched
  EXPECT_EQ(ReadJournalOrDie(), (Journal{.serving = "www_2f1"}));
}

TEST_F(RecoverTest, FinishesAnInterruptedRollback) {
  InstallFirst();
  WriteVersion(2, "0a02");
  SwapTo("www_2f2");
  SetJournal({.serving = "www_2f1",
              .candidate = "www_2f2",
              .phase = Journal::Phase::kRollingBack,
              .failed_step = DeliveryStep::kReload,
              .error = "reload /usr/sbin/reload-www: exited with status 1"});
  auto manager = NewManager();
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_EQ(Current(), "www_2f1");
  EXPECT_EQ(runner_.runs(), runs_before_ + 1);
  EXPECT_EQ(checker_.serials().back(), "0a01");
  const Journal j = ReadJournalOrDie();
  EXPECT_EQ(j.serving, "www_2f1");
  EXPECT_EQ(j.phase, Journal::Phase::kIdle);
  EXPECT_EQ(j.candidate, "");
  // The delivery that started the install never got its result.
  ASSERT_TRUE(j.last_failure.has_value());
  EXPECT_EQ(j.last_failure->version_id, "www/2");
  EXPECT_EQ(j.last_failure->failed_step, DeliveryStep::kReload);
  EXPECT_THAT(j.last_failure->error,
              AllOf(HasSubstr("reload /usr/sbin/reload-www: exited with "
                              "status 1"),
                    HasSubstr("rolled back to www/1")));
  EXPECT_TRUE(j.last_failure->rolled_back);
  EXPECT_EQ(manager->Inventory()[0].last_failure, j.last_failure);
}

TEST_F(RecoverTest, AnInterruptedRollbackWithNothingToRestoreRemovesCurrent) {
  {
    auto manager = NewManager();  // creates the directory
  }
  WriteVersion(1, "0a01");
  SwapTo("www_2f1");
  TargetDirectory dir(Dir());
  ASSERT_OK(dir.Open(/*create=*/true));
  ASSERT_OK(dir.EnsureStableLinks({"key.pem", "cert.pem"}));
  SetJournal({.candidate = "www_2f1", .phase = Journal::Phase::kRollingBack});
  auto manager = NewManager();
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_EQ(LinkTarget("current"), "");
  EXPECT_EQ(runner_.runs(), 0);
  const Journal j = ReadJournalOrDie();
  EXPECT_EQ(j.serving, "");
  EXPECT_EQ(j.phase, Journal::Phase::kIdle);
  // A rollback started by an agent that did not record the step.
  ASSERT_TRUE(j.last_failure.has_value());
  EXPECT_EQ(j.last_failure->version_id, "www/1");
  EXPECT_EQ(j.last_failure->failed_step, DeliveryStep::kUnknown);
  EXPECT_FALSE(j.last_failure->rolled_back);
  EXPECT_EQ(manager->Inventory()[0].version_id, "");
}

TEST_F(RecoverTest, InstallRecoversFirstWhenRecoverWasNotCalled) {
  InstallFirst();
  WriteVersion(2, "0a02");
  SwapTo("www_2f2");
  SetJournal({.serving = "www_2f1",
              .candidate = "www_2f2",
              .phase = Journal::Phase::kSwapped});
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(3, "0a03"), Context()).ok);
  EXPECT_THAT(checker_.serials(), ElementsAre("0a01", "0a02", "0a03"));
  EXPECT_EQ(ReadJournalOrDie(),
            (Journal{.serving = "www_2f3", .previous = "www_2f2"}));
}

TEST_F(RecoverTest, AMissingOrBrokenJournalIsRebuiltFromCurrent) {
  InstallFirst();
  ASSERT_EQ(unlink(Path(".certfleet-state").c_str()), 0);
  {
    auto manager = NewManager();
    ASSERT_OK(manager->Recover(Context()));
  }
  EXPECT_EQ(ReadJournalOrDie(), (Journal{.serving = "www_2f1"}));
  WriteFileOrDie(Path(".certfleet-state"), "{not json");
  auto manager = NewManager();
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_EQ(ReadJournalOrDie(), (Journal{.serving = "www_2f1"}));
  EXPECT_EQ(runner_.runs(), runs_before_);
}

TEST_F(RecoverTest, ACurrentThatIsNotALinkIsReportedNotTouched) {
  { auto manager = NewManager(); }
  WriteFileOrDie(Path("current"), "operator's file");
  auto manager = NewManager();
  EXPECT_THAT(manager->Recover(Context()),
              ::certfleet::testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition,
                  ::testing::HasSubstr("current is not a symbolic link")));
  const InstallOutcome outcome =
      manager->Install(WwwBundle(1, "0a01"), Context());
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kSwap);
  EXPECT_EQ(::certfleet::testing::ReadFileOrDie(Path("current")),
            "operator's file");
  EXPECT_THAT(Versions(), IsEmpty());
}

}  // namespace
}  // namespace certfleet::agent::testing
