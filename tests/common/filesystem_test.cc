#include "common/filesystem.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet {
namespace {

using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;

TEST(LocalFilesystemTest, AtomicWriteSetsModeAndReplaces) {
  TempDir dir;
  LocalFilesystem fs;
  const std::string path = dir.File("a/b/key");
  ASSERT_OK(fs.MakeDirs(dir.File("a/b"), 0700));
  ASSERT_OK(fs.WriteFileAtomic(path, "one", 0600));
  ASSERT_OK(fs.WriteFileAtomic(path, "two", 0600));
  EXPECT_EQ(*fs.ReadFile(path), "two");
  ASSERT_OK_AND_ASSIGN(FileInfo info, fs.Stat(path));
  EXPECT_TRUE(info.exists);
  EXPECT_EQ(info.mode, 0600u);
}

TEST(LocalFilesystemTest, ExclusiveWriteCreatesOnceAndKeepsTheFirst) {
  TempDir dir;
  LocalFilesystem fs;
  const std::string path = dir.File("kek");
  ASSERT_OK(fs.WriteFileExclusive(path, "first", 0600));
  EXPECT_THAT(fs.WriteFileExclusive(path, "second", 0600),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(*fs.ReadFile(path), "first");
  ASSERT_OK_AND_ASSIGN(FileInfo info, fs.Stat(path));
  EXPECT_EQ(info.mode, 0600u);
  // No temporary file is left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(LocalFilesystemTest, MissingFile) {
  TempDir dir;
  LocalFilesystem fs;
  EXPECT_THAT(fs.ReadFile(dir.File("nope")),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(FileInfo info, fs.Stat(dir.File("nope")));
  EXPECT_FALSE(info.exists);
}

TEST(LocalFilesystemTest, WriteIntoMissingDirectoryFailsCleanly) {
  TempDir dir;
  LocalFilesystem fs;
  EXPECT_THAT(fs.WriteFileAtomic(dir.File("no/such/file"), "x", 0600),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace certfleet
