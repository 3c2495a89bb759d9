// Attacks of a hostile local user on the agent's filesystem work, each
// performed against a real certfleet-agent process running as root.
//
// Most attacks need a foothold: a directory on the target's path that the
// attacker can write. The agent refuses such a target directory outright
// (its owner, mode or a link on the way), so the first test of each pair
// plants the attack as `nobody` in a directory given to nobody and shows
// the refusal with nothing touched. The second plants the same content as
// root in a correctly owned directory — as if it got there through another
// hole — and shows that the agent still neither follows it, trusts it, nor
// copies its privileges (defence in depth). Every test also checks that
// target "ok", configured beside the attacked one, keeps working.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/filesystem.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent_attack/attack_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent_attack {
namespace {

using ::certfleet::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The file's content; "" when it cannot be read (gone).
std::string ReadOrEmpty(const std::string& path) {
  LocalFilesystem fs;
  return fs.ReadFile(path).value_or("");
}

std::string LinkTarget(const std::string& path) {
  std::error_code ec;
  return std::filesystem::read_symlink(path, ec).string();
}

class AttackedTarget : public AttackTest {
 protected:
  // The delivery to "www" was refused before anything was written, and the
  // message names the offending directory, its owner and its mode; target
  // "ok" installs normally; the refusal is logged at error level.
  void ExpectRefused(const v1::DeliveryResult& www, const std::string& offender,
                     const std::string& owner, const std::string& mode) {
    EXPECT_FALSE(www.ok());
    EXPECT_EQ(www.failed_step(), "write");
    EXPECT_THAT(www.error(),
                AllOf(HasSubstr(offender), HasSubstr(owner), HasSubstr(mode)));
    EXPECT_FALSE(www.rolled_back());
    EXPECT_THAT(ErrorLines(), Contains(HasSubstr(offender)));
    const v1::DeliveryResult ok = Deliver("ok", 1);
    EXPECT_TRUE(ok.ok()) << ok.ShortDebugString();
  }
};

// --- A stable file symlinked to a secret the attacker cannot read ---

TEST_F(AttackedTarget, SymlinkedFullchainInAForeignDirectoryIsRefused) {
  const std::string www = Foothold("svc/www");
  AsNobody(absl::StrCat("ln -s ", File("secret"), " ", www, "/fullchain.pem"));
  const Snapshot before = TakeSnapshot();
  WriteConfig(www);
  StartAgent();
  ExpectRefused(Deliver("www", 1), www, "nobody (uid 65534)", "mode 0755");
  EXPECT_EQ(TakeSnapshot(), before);
}

TEST_F(AttackedTarget, SymlinkedFullchainIsNotFollowedNorCopied) {
  const std::string www = RootDir("srv/www");
  AsRoot(absl::StrCat("ln -s ", File("secret"), " ", www, "/fullchain.pem"));
  const Snapshot before = TakeSnapshot({www});
  WriteConfig(www);
  StartAgent();
  const v1::DeliveryResult r = Deliver("www", 1);
  EXPECT_TRUE(r.ok()) << r.ShortDebugString();
  // The secret was neither read into the target nor changed; the link was
  // replaced by the agent's own.
  EXPECT_THAT(Suspicious(www), IsEmpty());
  EXPECT_EQ(LinkTarget(www + "/fullchain.pem"), "current/fullchain.pem");
  EXPECT_EQ(TakeSnapshot({www}), before);
  EXPECT_THAT(AgentLog(), HasSubstr("fullchain.pem is a symbolic link"));
}

// --- A set-uid binary planted where the key goes ---

TEST_F(AttackedTarget, SetuidPrivkeyInAForeignDirectoryIsRefused) {
  const std::string www = Foothold("svc/www");
  AsNobody(absl::StrCat("cp /bin/true ", www, "/privkey.pem; chmod 4755 ", www,
                        "/privkey.pem"));
  const Snapshot before = TakeSnapshot();
  WriteConfig(www);
  StartAgent();
  ExpectRefused(Deliver("www", 1), www, "nobody (uid 65534)", "mode 0755");
  EXPECT_EQ(TakeSnapshot(), before);
}

TEST_F(AttackedTarget, SetuidPrivkeyIsAdoptedWithTheConfiguredModeOnly) {
  const std::string www = RootDir("srv/www");
  AsRoot(absl::StrCat("cp /bin/true ", www, "/privkey.pem; chmod 4755 ", www,
                      "/privkey.pem"));
  WriteConfig(www);
  StartAgent();
  const v1::DeliveryResult r = Deliver("www", 1);
  EXPECT_TRUE(r.ok()) << r.ShortDebugString();
  // Kept to roll back to, but as a key file: 0600, never set-uid.
  struct stat st;
  ASSERT_EQ(lstat((www + "/.versions/adopted/privkey.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_THAT(Suspicious(www), IsEmpty());
}

// --- A journal whose candidate climbs out of .versions/ ---

// What an agent killed while writing would have left, but naming a
// directory four levels up: the lab's victim/.
void PlantClimbingJournal(const std::string& www, std::string* script) {
  *script = absl::StrCat(
      "mkdir -p ", www, "/.versions/x; printf '%s' '",
      R"({"serving":"","previous":"","candidate":"x/../../../../victim",)",
      R"("phase":"writing"})", "' > ", www, "/.certfleet-state");
}

TEST_F(AttackedTarget, ClimbingJournalInAForeignDirectoryIsRefused) {
  const std::string www = Foothold("svc/www");
  std::string script;
  PlantClimbingJournal(www, &script);
  AsNobody(script);
  const Snapshot before = TakeSnapshot();
  WriteConfig(www);
  StartAgent();
  ExpectRefused(Deliver("www", 1), www, "nobody (uid 65534)", "mode 0755");
  EXPECT_EQ(TakeSnapshot(), before);
  EXPECT_EQ(ReadOrEmpty(File("victim/keep.txt")), "must survive\n");
}

TEST_F(AttackedTarget, ClimbingJournalIsMovedAsideAndReported) {
  const std::string www = RootDir("srv/www");
  std::string script;
  PlantClimbingJournal(www, &script);
  AsRoot(script);
  const Snapshot before = TakeSnapshot({www});
  WriteConfig(www);
  StartAgent();
  ASSERT_OK_AND_ASSIGN(v1::Inventory inventory,
                       coordinator_->LatestInventory(kWait));
  // Nothing named in the journal was removed; it was set aside, logged at
  // error level and reported.
  EXPECT_EQ(TakeSnapshot({www}), before);
  EXPECT_EQ(ReadOrEmpty(File("victim/keep.txt")), "must survive\n");
  ASSERT_EQ(inventory.targets_size(), 2);
  EXPECT_EQ(inventory.targets(0).name(), "www");
  EXPECT_THAT(inventory.targets(0).state_problem(),
              AllOf(HasSubstr("x/../../../../victim"),
                    HasSubstr(".certfleet-state.invalid-")));
  EXPECT_EQ(inventory.targets(1).state_problem(), "");
  EXPECT_THAT(ErrorLines(), Contains(HasSubstr("x/../../../../victim")));
  EXPECT_TRUE(std::filesystem::is_directory(www + "/.versions/x"));
  // And the target still works.
  const v1::DeliveryResult r = Deliver("www", 1);
  EXPECT_TRUE(r.ok()) << r.ShortDebugString();
}

// --- .versions replaced by a link to a decoy tree ---

TEST_F(AttackedTarget, VersionsLinkInAForeignDirectoryIsRefused) {
  const std::string www = Foothold("svc/www");
  AsNobody(absl::StrCat("ln -s ", File("decoy-etc"), " ", www, "/.versions"));
  const Snapshot before = TakeSnapshot();
  WriteConfig(www);
  StartAgent();
  ExpectRefused(Deliver("www", 1), www, "nobody (uid 65534)", "mode 0755");
  EXPECT_EQ(TakeSnapshot(), before);
}

TEST_F(AttackedTarget, VersionsLinkIsNeitherWrittenNorPruned) {
  const std::string www = RootDir("srv/www");
  WriteConfig(www);
  StartAgent();
  for (int n = 1; n <= 2; ++n) ASSERT_TRUE(Deliver("www", n).ok());
  StopAgent();
  // A decoy tree of what look like versions: pruning would remove them.
  for (const char* name : {"web_2f1", "web_2f2", "old"}) {
    RootDir(absl::StrCat("decoy-versions/", name));
    WriteFileOrDie(File(absl::StrCat("decoy-versions/", name, "/keep.txt")),
                   name);
  }
  AsRoot(absl::StrCat("rm -rf ", www, "/.versions; ln -s ",
                      File("decoy-versions"), " ", www, "/.versions"));
  const Snapshot before = TakeSnapshot({www});
  StartAgent();
  for (int n = 3; n <= 5; ++n) {
    const v1::DeliveryResult r = Deliver("www", n);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.failed_step(), "write");
    EXPECT_THAT(r.error(), HasSubstr(www + "/.versions is a symbolic link"));
  }
  EXPECT_EQ(TakeSnapshot({www}), before);
  EXPECT_EQ(LinkTarget(www + "/.versions"), File("decoy-versions"));
  EXPECT_TRUE(Deliver("ok", 1).ok());
}

// --- The lock file replaced by a link ---

TEST_F(AttackedTarget, LockLinkInAForeignDirectoryIsRefused) {
  const std::string www = Foothold("svc/www");
  AsNobody(absl::StrCat("ln -s ", File("decoy-etc/pwned"), " ", www,
                        "/.certfleet-lock"));
  const Snapshot before = TakeSnapshot();
  WriteConfig(www);
  StartAgent();
  ExpectRefused(Deliver("www", 1), www, "nobody (uid 65534)", "mode 0755");
  EXPECT_EQ(TakeSnapshot(), before);
  EXPECT_FALSE(std::filesystem::exists(File("decoy-etc/pwned")));
}

TEST_F(AttackedTarget, LockLinkIsNotFollowed) {
  const std::string www = RootDir("srv/www");
  AsRoot(absl::StrCat("ln -s ", File("decoy-etc/pwned"), " ", www,
                      "/.certfleet-lock"));
  const Snapshot before = TakeSnapshot({www});
  WriteConfig(www);
  StartAgent();
  const v1::DeliveryResult r = Deliver("www", 1);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.failed_step(), "write");
  EXPECT_THAT(r.error(), HasSubstr(".certfleet-lock is a symbolic link"));
  EXPECT_FALSE(std::filesystem::exists(File("decoy-etc/pwned")));
  EXPECT_EQ(TakeSnapshot({www}), before);
  EXPECT_TRUE(Deliver("ok", 1).ok());
}

// --- The target directory itself a link to a decoy /etc ---

TEST_F(AttackedTarget, TargetLinkInAForeignParentIsRefused) {
  const std::string hostile = Foothold("hostile");
  AsNobody(absl::StrCat("ln -s ", File("decoy-etc"), " ", hostile, "/www"));
  const Snapshot before = TakeSnapshot();
  WriteConfig(hostile + "/www");
  StartAgent();
  ExpectRefused(Deliver("www", 1), hostile, "nobody (uid 65534)", "mode 0755");
  EXPECT_EQ(TakeSnapshot(), before);
}

TEST_F(AttackedTarget, TargetLinkIsNotFollowed) {
  const std::string srv = RootDir("srv");
  AsRoot(absl::StrCat("ln -s ", File("decoy-etc"), " ", srv, "/www"));
  const Snapshot before = TakeSnapshot();
  WriteConfig(srv + "/www");
  const auto [status, output] = CheckConfig();
  EXPECT_EQ(status, 2);
  EXPECT_THAT(output, AllOf(HasSubstr("targets[0].directory"),
                            HasSubstr(srv + "/www is a symbolic link")));
  StartAgent();
  ExpectRefused(Deliver("www", 1), srv + "/www is a symbolic link",
                "root (uid 0)", "mode 0777");
  EXPECT_EQ(TakeSnapshot(), before);
}

// --- World-writable directories ---

TEST_F(AttackedTarget, WorldWritableTargetDirectoryIsRefused) {
  const std::string www = RootDir("srv/www");
  ASSERT_EQ(chmod(www.c_str(), 0777), 0);
  // What anyone can do there: plant files for the agent to trust.
  AsNobody(absl::StrCat("printf x > ", www, "/privkey.pem"));
  const Snapshot before = TakeSnapshot();
  WriteConfig(www);
  const auto [status, output] = CheckConfig();
  EXPECT_EQ(status, 2);
  EXPECT_THAT(output, AllOf(HasSubstr(config_ + ":"),
                            HasSubstr("targets[0].directory: \"" + www +
                                      "\" is refused"),
                            HasSubstr("root (uid 0)"), HasSubstr("mode 0777")));
  StartAgent();
  ExpectRefused(Deliver("www", 1), www, "root (uid 0)", "mode 0777");
  EXPECT_EQ(TakeSnapshot(), before);
}

TEST_F(AttackedTarget, WorldWritableParentIsRefused) {
  const std::string open = RootDir("open");
  const std::string www = RootDir("open/www");
  ASSERT_EQ(chmod(open.c_str(), 0777), 0);
  // Anyone can swap the target for a directory of their own there.
  AsNobody(absl::StrCat("mkdir ", open, "/www.attacker"));
  const Snapshot before = TakeSnapshot();
  WriteConfig(www);
  const auto [status, output] = CheckConfig();
  EXPECT_EQ(status, 2);
  EXPECT_THAT(output,
              AllOf(HasSubstr("targets[0].directory: \"" + www +
                              "\" is refused: " + open + " is writable"),
                    HasSubstr("mode 0777")));
  StartAgent();
  ExpectRefused(Deliver("www", 1), open, "root (uid 0)", "mode 0777");
  EXPECT_EQ(TakeSnapshot(), before);
}

}  // namespace
}  // namespace certfleet::agent_attack
