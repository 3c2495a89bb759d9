// The descriptor layer under every target directory (dir_fd.h) and the
// rules a target directory and the directories above it must pass
// (directory_chain.h): links at every position, foreign owners, writable
// directories, removal that never leaves its directory, files read and
// written without following links. Ownership cases need root (the tests run
// as root here and in CI) and are skipped otherwise.
#include "agent/install/dir_fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "agent/install/directory_chain.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent {
namespace {

using ::certfleet::testing::ReadFileOrDie;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr uid_t kNobody = 65534;

MATCHER_P(OkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

class DirFdTest : public ::testing::Test {
 protected:
  DirFdTest() {
    // mkdtemp makes it 0700; the rules need nothing more of it.
    MakeDir("a");
    MakeDir("a/b");
    MakeDir("a/b/c");
  }

  std::string Path(const std::string& rel) const { return tmp_.File(rel); }
  void MakeDir(const std::string& rel, mode_t mode = 0755) {
    ASSERT_EQ(mkdir(Path(rel).c_str(), mode), 0) << rel;
    ASSERT_EQ(chmod(Path(rel).c_str(), mode), 0) << rel;
  }
  DirFd OpenOrDie(const std::string& rel) {
    absl::StatusOr<DirFd> dir = OpenTargetDirectory(Path(rel), false, nullptr);
    EXPECT_OK(dir);
    return dir.ok() ? *std::move(dir) : DirFd();
  }
  static bool Root() { return geteuid() == 0; }

  TempDir tmp_{"dir-fd"};
};

TEST_F(DirFdTest, OpensAnAcceptableChainAndHoldsIt) {
  DirFd dir = OpenOrDie("a/b/c");
  EXPECT_EQ(dir.path(), Path("a/b/c"));
  // The descriptor keeps pointing at the directory opened, whatever happens
  // to the path afterwards.
  ASSERT_EQ(rename(Path("a/b/c").c_str(), Path("a/b/moved").c_str()), 0);
  ASSERT_OK(dir.WriteFileAtomic("f", "x", 0644));
  EXPECT_EQ(ReadFileOrDie(Path("a/b/moved/f")), "x");
  EXPECT_THAT(StillTargetDirectory(dir, Path("a/b/c")), OkAndHolds(false));
  MakeDir("a/b/c");
  EXPECT_THAT(StillTargetDirectory(dir, Path("a/b/c")), OkAndHolds(false));
  EXPECT_THAT(StillTargetDirectory(dir, Path("a/b/moved")), OkAndHolds(true));
}

TEST_F(DirFdTest, ALinkAtAnyPositionIsRefused) {
  for (const std::string rel : {"a", "a/b", "a/b/c"}) {
    SCOPED_TRACE(rel);
    const std::string real = Path(rel + ".real");
    ASSERT_EQ(rename(Path(rel).c_str(), real.c_str()), 0);
    ASSERT_EQ(symlink(real.c_str(), Path(rel).c_str()), 0);
    for (bool create : {false, true}) {
      EXPECT_THAT(OpenTargetDirectory(Path("a/b/c"), create, nullptr),
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           AllOf(HasSubstr(Path(rel) + " is a symbolic link"),
                                 HasSubstr("mode 0777"))));
    }
    EXPECT_THAT(CheckTargetDirectory(Path("a/b/c")),
                StatusIs(absl::StatusCode::kFailedPrecondition));
    ASSERT_EQ(unlink(Path(rel).c_str()), 0);
    ASSERT_EQ(rename(real.c_str(), Path(rel).c_str()), 0);
  }
  // A link where a missing directory would be created (raced into place) is
  // refused too, and nothing is created behind it.
  MakeDir("elsewhere");
  ASSERT_EQ(symlink(Path("elsewhere").c_str(), Path("a/b/c/d").c_str()), 0);
  EXPECT_THAT(OpenTargetDirectory(Path("a/b/c/d/e"), true, nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(Path("a/b/c/d") + " is a symbolic link")));
  EXPECT_FALSE(std::filesystem::exists(Path("elsewhere/e")));
}

TEST_F(DirFdTest, ADirectoryOfAnotherUserIsRefusedAtAnyPosition) {
  if (!Root()) GTEST_SKIP() << "needs root to chown";
  for (const std::string rel : {"a", "a/b", "a/b/c"}) {
    SCOPED_TRACE(rel);
    ASSERT_EQ(chown(Path(rel).c_str(), kNobody, kNobody), 0);
    EXPECT_THAT(OpenTargetDirectory(Path("a/b/c"), true, nullptr),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         AllOf(HasSubstr(Path(rel) + " is owned by another "
                                                     "user"),
                               HasSubstr("owner nobody (uid 65534)"),
                               HasSubstr("mode 0755"))));
    ASSERT_EQ(chown(Path(rel).c_str(), 0, 0), 0);
  }
  ASSERT_OK(OpenTargetDirectory(Path("a/b/c"), false, nullptr).status());
}

TEST_F(DirFdTest, WritableDirectoriesAreRefusedUnlessStickyAbove) {
  for (const std::string rel : {"a", "a/b", "a/b/c"}) {
    for (mode_t mode : {0777, 0775, 0757}) {
      SCOPED_TRACE(absl::StrCat(rel, " ", mode));
      ASSERT_EQ(chmod(Path(rel).c_str(), mode), 0);
      EXPECT_THAT(CheckTargetDirectory(Path("a/b/c")),
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           HasSubstr(Path(rel) + " is writable by group or "
                                                 "others")));
      ASSERT_EQ(chmod(Path(rel).c_str(), 0755), 0);
    }
  }
  // Sticky (like /tmp): others may add entries but not rename or remove
  // root's, so it is allowed above the target...
  ASSERT_EQ(chmod(Path("a").c_str(), 01777), 0);
  EXPECT_OK(CheckTargetDirectory(Path("a/b/c")));
  // ...but not for the target itself, where an entry someone adds (a
  // journal, a lock file) would be read by the agent.
  ASSERT_EQ(chmod(Path("a/b/c").c_str(), 01777), 0);
  EXPECT_THAT(CheckTargetDirectory(Path("a/b/c")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(Path("a/b/c")),
                             HasSubstr("even with the sticky bit"),
                             HasSubstr("mode 1777"))));
}

TEST_F(DirFdTest, AnotherUsersDirectoryInStickyTmpIsRefused) {
  if (!Root()) GTEST_SKIP() << "needs root to chown";
  // /tmp/x made by someone else: they can replace anything in it.
  ASSERT_EQ(chmod(Path("a").c_str(), 01777), 0);
  ASSERT_EQ(chown(Path("a/b").c_str(), kNobody, kNobody), 0);
  EXPECT_THAT(CheckTargetDirectory(Path("a/b/c")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(Path("a/b") + " is owned by another user")));
}

TEST_F(DirFdTest, MissingComponentsAreCreatedPrivateThen0755) {
  const mode_t old_umask = umask(077);
  absl::StatusOr<DirFd> dir =
      OpenTargetDirectory(Path("a/b/c/new/deeper"), true, nullptr);
  umask(old_umask);
  ASSERT_OK(dir);
  EXPECT_EQ(ModeOf(Path("a/b/c/new")), 0755u);
  EXPECT_EQ(ModeOf(Path("a/b/c/new/deeper")), 0755u);
  struct stat st;
  ASSERT_EQ(stat(Path("a/b/c/new").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, geteuid());
}

TEST_F(DirFdTest, CheckCreatesNothingAndAcceptsAMissingTail) {
  EXPECT_OK(CheckTargetDirectory(Path("a/b/c/x/y")));
  EXPECT_FALSE(std::filesystem::exists(Path("a/b/c/x")));
  EXPECT_THAT(OpenTargetDirectory(Path("a/b/c/x/y"), false, nullptr),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("c/x")));
  WriteFileOrDie(Path("a/b/file"), "");
  EXPECT_THAT(CheckTargetDirectory(Path("a/b/file/c")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not a directory")));
}

TEST_F(DirFdTest, StillTargetDirectoryReportsAChmodSinceOpening) {
  DirFd dir = OpenOrDie("a/b/c");
  EXPECT_THAT(StillTargetDirectory(dir, Path("a/b/c")), OkAndHolds(true));
  ASSERT_EQ(chmod(Path("a").c_str(), 0777), 0);
  EXPECT_THAT(StillTargetDirectory(dir, Path("a/b/c")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(Path("a") + " is writable")));
}

TEST_F(DirFdTest, RemoveTreeNeverLeavesItsDirectory) {
  MakeDir("outside");
  WriteFileOrDie(Path("outside/keep"), "keep");
  DirFd dir = OpenOrDie("a/b/c");
  MakeDir("a/b/c/v");
  MakeDir("a/b/c/v/sub");
  WriteFileOrDie(Path("a/b/c/v/sub/f"), "f");
  ASSERT_EQ(symlink(Path("outside").c_str(), Path("a/b/c/v/dirlink").c_str()),
            0);
  ASSERT_EQ(symlink(Path("outside/keep").c_str(),
                    Path("a/b/c/v/sub/filelink").c_str()),
            0);
  ASSERT_EQ(mkfifo(Path("a/b/c/v/fifo").c_str(), 0600), 0);
  ASSERT_OK(dir.RemoveTree("v"));
  EXPECT_FALSE(std::filesystem::exists(Path("a/b/c/v")));
  EXPECT_EQ(ReadFileOrDie(Path("outside/keep")), "keep");
  // A link named for removal is removed itself, never what it points at.
  ASSERT_EQ(symlink(Path("outside").c_str(), Path("a/b/c/link").c_str()), 0);
  ASSERT_OK(dir.RemoveTree("link"));
  EXPECT_EQ(ReadFileOrDie(Path("outside/keep")), "keep");
  EXPECT_OK(dir.RemoveTree("absent"));
  // Only one name at a time, never a path.
  EXPECT_THAT(dir.RemoveTree("../../../outside"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(dir.RemoveTree(".."),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(std::filesystem::exists(Path("outside/keep")));
}

TEST_F(DirFdTest, RemoveTreeStopsAtAnImplausibleDepth) {
  DirFd dir = OpenOrDie("a/b/c");
  std::string rel = "a/b/c/deep";
  for (int i = 0; i < 20; ++i, rel += "/d") MakeDir(rel);
  EXPECT_THAT(dir.RemoveTree("deep"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("nested deeper")));
}

TEST_F(DirFdTest, ReadFileFollowsNoLinkAndReadsOnlyRegularFiles) {
  DirFd dir = OpenOrDie("a/b/c");
  WriteFileOrDie(Path("secret"), "secret", 0600);
  ASSERT_EQ(symlink(Path("secret").c_str(), Path("a/b/c/link").c_str()), 0);
  EXPECT_THAT(dir.ReadFile("link", 1024),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is a symbolic link")));
  // A FIFO nobody writes to: refused at once, not waited on.
  ASSERT_EQ(mkfifo(Path("a/b/c/fifo").c_str(), 0600), 0);
  EXPECT_THAT(dir.ReadFile("fifo", 1024),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not a regular file")));
  WriteFileOrDie(Path("a/b/c/big"), std::string(2048, 'x'));
  EXPECT_THAT(dir.ReadFile("big", 1024),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("larger than 1024 bytes")));
  EXPECT_THAT(dir.ReadFile("absent", 1024),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(dir.ReadFile("big", 4096), OkAndHolds(std::string(2048, 'x')));
}

TEST_F(DirFdTest, WrittenFilesNeverCarrySetuidSetgidOrSticky) {
  DirFd dir = OpenOrDie("a/b/c");
  ASSERT_OK(dir.WriteNewFile("f", "x", 07755, std::nullopt, std::nullopt));
  EXPECT_EQ(ModeOf(Path("a/b/c/f")), 0755u);
  ASSERT_OK(dir.WriteFileAtomic("g", "x", 06644));
  EXPECT_EQ(ModeOf(Path("a/b/c/g")), 0644u);
  // An existing name is never written through (O_EXCL|O_NOFOLLOW).
  WriteFileOrDie(Path("target"), "target");
  ASSERT_EQ(symlink(Path("target").c_str(), Path("a/b/c/l").c_str()), 0);
  EXPECT_THAT(dir.WriteNewFile("l", "x", 0644, std::nullopt, std::nullopt),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(ReadFileOrDie(Path("target")), "target");
  // Atomic replacement replaces the link itself.
  ASSERT_OK(dir.WriteFileAtomic("l", "new", 0644));
  EXPECT_EQ(ReadFileOrDie(Path("target")), "target");
  EXPECT_EQ(ReadFileOrDie(Path("a/b/c/l")), "new");
}

TEST_F(DirFdTest, OwnDirectoriesMustBeTheAgents) {
  DirFd dir = OpenOrDie("a/b/c");
  MakeDir("elsewhere");
  ASSERT_EQ(symlink(Path("elsewhere").c_str(), Path("a/b/c/link").c_str()), 0);
  EXPECT_THAT(dir.OpenOwnDir("link"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is a symbolic link")));
  EXPECT_THAT(dir.MakeOwnDir("link"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is a symbolic link")));
  MakeDir("a/b/c/open", 0777);
  EXPECT_THAT(dir.OpenOwnDir("open"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("writable by group or others")));
  if (Root()) {
    MakeDir("a/b/c/theirs");
    ASSERT_EQ(chown(Path("a/b/c/theirs").c_str(), kNobody, kNobody), 0);
    EXPECT_THAT(dir.OpenOwnDir("theirs"),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("owner nobody (uid 65534)")));
  }
  ASSERT_OK(dir.MakeOwnDir("mine").status());
  EXPECT_EQ(ModeOf(Path("a/b/c/mine")), 0755u);
}

TEST_F(DirFdTest, TheLockFileIsNeverALink) {
  DirFd dir = OpenOrDie("a/b/c");
  ASSERT_EQ(symlink(Path("created-by-the-agent").c_str(),
                    Path("a/b/c/.certfleet-lock").c_str()),
            0);
  EXPECT_THAT(dir.OpenLockFile(".certfleet-lock"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(".certfleet-lock is a symbolic link")));
  EXPECT_FALSE(std::filesystem::exists(Path("created-by-the-agent")));
  ASSERT_EQ(unlink(Path("a/b/c/.certfleet-lock").c_str()), 0);
  ASSERT_EQ(mkfifo(Path("a/b/c/.certfleet-lock").c_str(), 0600), 0);
  EXPECT_THAT(dir.OpenLockFile(".certfleet-lock"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not a regular file")));
  ASSERT_EQ(unlink(Path("a/b/c/.certfleet-lock").c_str()), 0);
  ASSERT_OK(dir.OpenLockFile(".certfleet-lock").status());
  EXPECT_EQ(ModeOf(Path("a/b/c/.certfleet-lock")), 0600u);
}

TEST_F(DirFdTest, ReplaceWithSymlinkAndReadLinkDoNotFollow) {
  DirFd dir = OpenOrDie("a/b/c");
  ASSERT_OK(dir.ReplaceWithSymlink("current", ".versions/v1"));
  EXPECT_THAT(dir.ReadLink("current"), OkAndHolds(std::string(".versions/v1")));
  WriteFileOrDie(Path("a/b/c/file"), "x");
  EXPECT_THAT(dir.ReadLink("file"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(dir.ReadLink("absent"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, dir.List());
  EXPECT_THAT(names, UnorderedElementsAre("current", "file"));
}

// Fails every operation named `op` with ENOSPC.
class FailOp : public WriteFaults {
 public:
  explicit FailOp(std::string op) : op_(std::move(op)) {}
  int Inject(absl::string_view op, absl::string_view,
             absl::string_view) override {
    return op == op_ ? ENOSPC : 0;
  }

 private:
  std::string op_;
};

TEST_F(DirFdTest, InjectedWriteFaultsSurfaceAndLeaveNoTemporary) {
  FailOp faults("write");
  absl::StatusOr<DirFd> dir =
      OpenTargetDirectory(Path("a/b/c"), false, &faults);
  ASSERT_OK(dir);
  EXPECT_THAT(dir->WriteFileAtomic("f", "x", 0644),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("No space left on device")));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, dir->List());
  EXPECT_THAT(names, ::testing::IsEmpty());
}

TEST(DirFdNamesTest, OnlySingleComponentsAreNames) {
  EXPECT_TRUE(IsSingleComponent("key.pem"));
  EXPECT_TRUE(IsSingleComponent(".versions"));
  for (const char* bad : {"", ".", "..", "a/b", "/a", "a/"}) {
    EXPECT_FALSE(IsSingleComponent(bad)) << bad;
  }
  EXPECT_FALSE(IsSingleComponent(absl::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace certfleet::agent
