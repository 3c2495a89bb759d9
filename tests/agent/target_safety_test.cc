// What a target's install refuses to trust, through the manager with fakes:
// a refused directory (and the other targets going on), a directory changed
// since the start, a journal that fails validation, files found at the
// stable paths before the first install, a lock file link, a disk that
// fills up mid-install, failed versions and their private keys, and
// entries of .versions/ the agent did not write.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/install/dir_fd.h"
#include "agent/install/target_directory.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/install_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::agent::testing {
namespace {

using ::certfleet::testing::ReadFileOrDie;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr uid_t kNobody = 65534;

struct stat LstatOrDie(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

class TargetSafetyTest : public InstallFixture {
 protected:
  // A second target "api" beside www, in <tmp>/api.
  void AddApiTarget() {
    TargetSpec api = WwwTarget(tmp_.File("api"), password_file_);
    api.name = "api";
    config_.targets.push_back(std::move(api));
  }
  Bundle ApiBundle(int n, const std::string& serial) const {
    Bundle b = WwwBundle(n, serial);
    b.target = "api";
    return b;
  }
};

TEST_F(TargetSafetyTest, ARefusedTargetDoesNotStopTheOthers) {
  // www's parent is writable by everyone: anyone could swap the target.
  const std::string parent = tmp_.File("open");
  ASSERT_EQ(mkdir(parent.c_str(), 0777), 0);
  ASSERT_EQ(chmod(parent.c_str(), 0777), 0);
  config_.targets[0].directory = parent + "/www";
  AddApiTarget();
  auto manager = NewManager();
  ASSERT_NE(manager, nullptr);
  // Nothing was created in the refused place.
  EXPECT_FALSE(std::filesystem::exists(parent + "/www"));

  const TargetStatus www = manager->Inventory()[0];
  EXPECT_THAT(www.state_problem,
              AllOf(StartsWith("target directory " + parent +
                               "/www is refused: " + parent +
                               " is writable by group or others"),
                    HasSubstr("owner root (uid 0), mode 0777")));
  EXPECT_FALSE(www.healthy);
  EXPECT_EQ(www.health_detail, www.state_problem);
  EXPECT_EQ(Metric("certfleet_agent_target_refused{target=\"www\"}"), 1);
  EXPECT_THAT(manager->Recover(Context()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(parent + " is writable")));

  const InstallOutcome refused =
      manager->Install(WwwBundle(1, "0a01"), Context());
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.failed_step, DeliveryStep::kWrite);
  EXPECT_EQ(refused.error, www.state_problem);
  EXPECT_FALSE(std::filesystem::exists(parent + "/www"));

  EXPECT_TRUE(manager->Install(ApiBundle(1, "0a01"), Context()).ok);
  EXPECT_EQ(manager->Inventory()[1].state_problem, "");
  EXPECT_EQ(manager->Inventory()[1].version_id, "www/1");

  // Fixed by the operator: the next install goes through.
  ASSERT_EQ(chmod(parent.c_str(), 0755), 0);
  EXPECT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  EXPECT_EQ(manager->Inventory()[0].state_problem, "");
  EXPECT_EQ(Metric("certfleet_agent_target_refused{target=\"www\"}"), 0);
}

TEST_F(TargetSafetyTest, TheDirectoryIsCheckedAgainBeforeEveryInstall) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  // chmod-ed after the start.
  ASSERT_EQ(chmod(Dir().c_str(), 0777), 0);
  const InstallOutcome outcome =
      manager->Install(WwwBundle(2, "0a02"), Context());
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kWrite);
  EXPECT_THAT(outcome.error,
              AllOf(HasSubstr(Dir() + " is writable by group or others"),
                    HasSubstr("mode 0777"), HasSubstr("even with the sticky")));
  EXPECT_EQ(Current(), "www_2f1");
  EXPECT_THAT(Versions(), ElementsAre("www_2f1"));
  ASSERT_EQ(chmod(Dir().c_str(), 0755), 0);
  EXPECT_TRUE(manager->Install(WwwBundle(2, "0a02"), Context()).ok);

  // Replaced by the operator (moved away, a fresh one made): opened again.
  ASSERT_EQ(rename(Dir().c_str(), tmp_.File("www.old").c_str()), 0);
  EXPECT_TRUE(manager->Install(WwwBundle(3, "0a03"), Context()).ok);
  EXPECT_EQ(Current(), "www_2f3");
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a03");
}

TEST_F(TargetSafetyTest, AJournalThatFailsValidationIsSetAsideNotActedOn) {
  auto first = NewManager();
  ASSERT_TRUE(first->Install(WwwBundle(1, "0a01"), Context()).ok);
  ASSERT_TRUE(first->Install(WwwBundle(2, "0a02"), Context()).ok);
  first.reset();
  // A candidate climbing out, and a previous version to delete.
  const std::string bad = R"({"serving":"www_2f2","previous":"www_2f1",)"
                          R"("candidate":"../../victim","phase":"writing"})";
  WriteFileOrDie(Path(kJournalFileName), bad);
  auto manager = NewManager();
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_THAT(Versions(), ElementsAre("www_2f1", "www_2f2"));
  EXPECT_EQ(Current(), "www_2f2");
  const TargetStatus status = manager->Inventory()[0];
  EXPECT_THAT(status.state_problem,
              AllOf(HasSubstr("\"../../victim\" is not a version name"),
                    HasSubstr("moved aside to " + Path(kJournalFileName) +
                              ".invalid-")));
  EXPECT_EQ(status.version_id, "www/2");
  EXPECT_EQ(Metric("certfleet_agent_state_problems_total{target=\"www\","
                   "kind=\"journal\"}"),
            1);
  // Kept for inspection, byte for byte; the journal rebuilt from current.
  std::string aside;
  for (const std::string& path : Tree()) {
    if (path.find(".invalid-") != std::string::npos) aside = path;
  }
  ASSERT_NE(aside, "");
  EXPECT_EQ(ReadFileOrDie(Dir() + aside), bad);
  EXPECT_EQ(ReadJournalOrDie(), (Journal{.serving = "www_2f2"}));
  EXPECT_EQ(runner_.runs(), 2);  // nothing reloaded for it

  // Reported after a restart too, until the operator removes it.
  manager.reset();
  manager = NewManager();
  EXPECT_THAT(manager->Inventory()[0].state_problem,
              HasSubstr("a journal that failed validation was moved aside"));
  ASSERT_EQ(unlink((Dir() + aside).c_str()), 0);
  manager.reset();
  manager = NewManager();
  EXPECT_EQ(manager->Inventory()[0].state_problem, "");
}

TEST_F(TargetSafetyTest, AJournalOfAnotherOwnerOrALinkIsNotTrusted) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  {
    auto manager = NewManager();
    ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  }
  ASSERT_EQ(chown(Path(kJournalFileName).c_str(), kNobody, kNobody), 0);
  {
    auto manager = NewManager();
    EXPECT_THAT(manager->Inventory()[0].state_problem,
                HasSubstr("is not the agent's (owner nobody (uid 65534)"));
  }
  // (It was moved aside; the journal is rebuilt at the next write.)
  EXPECT_FALSE(std::filesystem::exists(Path(kJournalFileName)));
  WriteFileOrDie(
      tmp_.File("elsewhere.json"),
      R"({"serving":"","previous":"","candidate":"","phase":"idle"})");
  ASSERT_EQ(symlink(tmp_.File("elsewhere.json").c_str(),
                    Path(kJournalFileName).c_str()),
            0);
  auto manager = NewManager();
  ASSERT_OK(manager->Recover(Context()));
  EXPECT_THAT(manager->Inventory()[0].state_problem,
              HasSubstr("is a symbolic link"));
  // The link was moved aside, not written through.
  EXPECT_EQ(ReadFileOrDie(tmp_.File("elsewhere.json")),
            R"({"serving":"","previous":"","candidate":"","phase":"idle"})");
  EXPECT_EQ(ReadJournalOrDie().serving, "www_2f1");
}

TEST_F(TargetSafetyTest, AdoptionKeepsOnlyRegularFilesWithTheConfiguredModes) {
  config_.targets[0].uid = kNobody;
  const Bundle before = WwwBundle(0, "0b00");
  std::filesystem::create_directories(Path("haproxy"));
  // A regular key file planted with set-uid: kept, but as a key file.
  WriteFileOrDie(Path("key.pem"), before.key_pem, 04755);
  WriteFileOrDie(Path("cert.pem"), before.leaf_pem, 0666);
  // A link to a file the agent must not copy into the target.
  WriteFileOrDie(tmp_.File("secret"), "secret", 0600);
  ASSERT_EQ(symlink(tmp_.File("secret").c_str(), Path("fullchain.pem").c_str()),
            0);
  // A FIFO (reading it would block) and a file too large to be a PEM.
  ASSERT_EQ(mkfifo(Path("chain.pem").c_str(), 0644), 0);
  WriteFileOrDie(Path("haproxy/www.pem"),
                 std::string(kMaxAdoptedFileBytes + 1, 'x'));
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);

  EXPECT_THAT(Versions(), ElementsAre("adopted", "www_2f1"));
  const std::string adopted = Path(".versions/adopted/");
  EXPECT_EQ(ReadFileOrDie(adopted + "key.pem"), before.key_pem);
  EXPECT_EQ(LstatOrDie(adopted + "key.pem").st_mode & 07777, 0600u);
  EXPECT_EQ(LstatOrDie(adopted + "key.pem").st_uid, kNobody);
  EXPECT_EQ(ReadFileOrDie(adopted + "cert.pem"), before.leaf_pem);
  EXPECT_EQ(LstatOrDie(adopted + "cert.pem").st_mode & 07777, 0644u);
  for (const char* missing :
       {"fullchain.pem", "chain.pem", "haproxy/www.pem", "www.p12"}) {
    EXPECT_FALSE(std::filesystem::exists(adopted + missing)) << missing;
  }
  // Every stable path is the agent's link now; the secret is untouched.
  EXPECT_EQ(LinkTarget("fullchain.pem"), "current/fullchain.pem");
  EXPECT_EQ(LinkTarget("chain.pem"), "current/chain.pem");
  EXPECT_EQ(LinkTarget("haproxy/www.pem"), "../current/haproxy/www.pem");
  EXPECT_EQ(ReadFileOrDie(tmp_.File("secret")), "secret");
  EXPECT_EQ(Metric("certfleet_agent_state_problems_total{target=\"www\","
                   "kind=\"not_adopted\"}"),
            3);
  EXPECT_EQ(manager->Inventory()[0].version_id, "www/1");
}

TEST_F(TargetSafetyTest, ALockFileLinkIsRefusedAndNotFollowed) {
  std::filesystem::create_directories(Dir());
  ASSERT_EQ(symlink(tmp_.File("created-as-root").c_str(),
                    Path(".certfleet-lock").c_str()),
            0);
  auto manager = NewManager();
  EXPECT_FALSE(std::filesystem::exists(tmp_.File("created-as-root")));
  EXPECT_THAT(manager->Inventory()[0].state_problem,
              HasSubstr(Path(".certfleet-lock") + " is a symbolic link"));
  EXPECT_EQ(manager->Install(WwwBundle(1, "0a01"), Context()).failed_step,
            DeliveryStep::kWrite);
  EXPECT_FALSE(std::filesystem::exists(tmp_.File("created-as-root")));
}

// The disk fills up once `op` on `name` happened: every later write fails
// with ENOSPC until Free().
class FillingDisk : public WriteFaults {
 public:
  FillingDisk(std::string op, std::string name)
      : op_(std::move(op)), name_(std::move(name)) {}
  int Inject(absl::string_view op, absl::string_view,
             absl::string_view name) override {
    absl::MutexLock lock(&mu_);
    if (full_) return ENOSPC;
    if (op == op_ && name == name_) full_ = true;
    return 0;
  }
  void Free() {
    absl::MutexLock lock(&mu_);
    full_ = false;
    op_.clear();
  }

 private:
  absl::Mutex mu_;
  std::string op_ ABSL_GUARDED_BY(mu_);
  const std::string name_;
  bool full_ ABSL_GUARDED_BY(mu_) = false;
};

TEST_F(TargetSafetyTest, AFullDiskLeftoverIsCleanedUpAtTheNextDelivery) {
  // Full right after www/2 is renamed into place: the journal cannot be
  // rewritten, so it still says "writing www_2f2".
  FillingDisk disk("rename", "www_2f2");
  absl::StatusOr<std::unique_ptr<TargetManager>> created =
      TargetManager::Create(config_, runner_, clock_, checker_, &registry_,
                            &disk);
  ASSERT_OK(created);
  auto& manager = *created;
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  const InstallOutcome full = manager->Install(WwwBundle(2, "0a02"), Context());
  EXPECT_EQ(full.failed_step, DeliveryStep::kWrite);
  EXPECT_THAT(full.error, HasSubstr("No space left on device"));
  EXPECT_EQ(Current(), "www_2f1");
  EXPECT_THAT(Versions(), ElementsAre("www_2f1", "www_2f2"));
  EXPECT_EQ(ReadJournalOrDie().phase, Journal::Phase::kWriting);
  EXPECT_EQ(ReadJournalOrDie().candidate, "www_2f2");

  // Space again: the next delivery first recovers (the half-installed
  // www/2, with its private key, goes), then installs.
  disk.Free();
  ASSERT_TRUE(manager->Install(WwwBundle(3, "0a03"), Context()).ok);
  EXPECT_THAT(Versions(), ElementsAre("www_2f1", "www_2f3"));
  EXPECT_EQ(ReadJournalOrDie(),
            (Journal{.serving = "www_2f3", .previous = "www_2f1"}));
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a03");
}

TEST_F(TargetSafetyTest, AFailedWriteRemovesItsCandidateAtOnce) {
  // Only the stable links of this first install cannot be made; the
  // journal can still be rewritten, so the written candidate (it holds a
  // private key) is removed at once.
  class FailSymlinks : public WriteFaults {
    int Inject(absl::string_view op, absl::string_view,
               absl::string_view) override {
      return op == "symlink" ? ENOSPC : 0;
    }
  } faults;
  absl::StatusOr<std::unique_ptr<TargetManager>> created =
      TargetManager::Create(config_, runner_, clock_, checker_, &registry_,
                            &faults);
  ASSERT_OK(created);
  const InstallOutcome outcome =
      (*created)->Install(WwwBundle(1, "0a01"), Context());
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kWrite);
  EXPECT_THAT(Versions(), IsEmpty());
  EXPECT_EQ(ReadJournalOrDie(), Journal{});
}

TEST_F(TargetSafetyTest, FailedVersionsArePrunedToKeepVersionsAtOnce) {
  config_.targets[0].keep_versions = 2;
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  runner_.SetHandler([](const ProcessSpec&) { return Exit(0); });
  for (int n = 2; n <= 4; ++n) {
    const std::string serial = absl::StrCat("0a0", n);
    checker_.FailFor(serial, "serves the old serial");
    const InstallOutcome outcome =
        manager->Install(WwwBundle(n, serial), Context());
    EXPECT_EQ(outcome.failed_step, DeliveryStep::kHealth);
    EXPECT_TRUE(outcome.rolled_back);
  }
  // Serving www/1, and only the newest failed version: each holds a key.
  EXPECT_THAT(Versions(), ElementsAre("www_2f1", "www_2f4"));
}

TEST_F(TargetSafetyTest, ATooLongVersionIdIsRefusedBeforeTheDisk) {
  auto manager = NewManager();
  const std::set<std::string> before = Tree();
  Bundle b = WwwBundle(1, "0a01");
  b.version_id = std::string(150, '/');
  const InstallOutcome outcome = manager->Install(b, Context());
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kVerify);
  EXPECT_THAT(outcome.error, HasSubstr("is too long"));
  EXPECT_EQ(Tree(), before);
}

TEST_F(TargetSafetyTest, EntriesOfVersionsTheAgentDidNotWriteAreLeftAlone) {
  config_.targets[0].keep_versions = 2;
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  // Not the agent's: an operator's notes, a directory without a record,
  // an invalid name, and a link to a directory outside.
  WriteFileOrDie(Path(".versions/notes"), "notes");
  std::filesystem::create_directories(Path(".versions/old_2f0"));
  std::filesystem::create_directories(Path(".versions/.hidden"));
  std::filesystem::create_directories(tmp_.File("outside/www_2f9"));
  WriteFileOrDie(tmp_.File("outside/www_2f9/keep"), "keep");
  ASSERT_EQ(symlink(tmp_.File("outside/www_2f9").c_str(),
                    Path(".versions/www_2f9").c_str()),
            0);
  for (int n = 2; n <= 4; ++n) {
    ASSERT_TRUE(
        manager->Install(WwwBundle(n, absl::StrCat("0a0", n)), Context()).ok);
  }
  EXPECT_THAT(Versions(), ElementsAre(".hidden", "notes", "old_2f0", "www_2f3",
                                      "www_2f4", "www_2f9"));
  EXPECT_EQ(ReadFileOrDie(tmp_.File("outside/www_2f9/keep")), "keep");
  // `current` pointing anywhere but at a version is reported, not followed.
  ASSERT_EQ(unlink(Path("current").c_str()), 0);
  ASSERT_EQ(symlink(".versions/../../outside", Path("current").c_str()), 0);
  const InstallOutcome outcome =
      manager->Install(WwwBundle(5, "0a05"), Context());
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kSwap);
  EXPECT_THAT(outcome.error, HasSubstr("not at a version in .versions/"));
}

TEST_F(TargetSafetyTest, StatusReadsProblemsWithoutCreatingAnything) {
  const std::string parent = tmp_.File("open");
  ASSERT_EQ(mkdir(parent.c_str(), 0777), 0);
  ASSERT_EQ(chmod(parent.c_str(), 0777), 0);
  config_.targets[0].directory = parent + "/www";
  const std::vector<TargetStatus> inventory = ReadInventory(config_);
  EXPECT_THAT(inventory[0].state_problem,
              HasSubstr(parent + " is writable by group or others"));
  EXPECT_FALSE(std::filesystem::exists(parent + "/www"));
}

}  // namespace
}  // namespace certfleet::agent::testing
