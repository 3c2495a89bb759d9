#include "common/crypto/kek.h"

#include <sys/stat.h>

#include <thread>
#include <vector>

#include "common/crypto/encoding.h"
#include "common/filesystem.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::crypto {
namespace {

using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::testing::HasSubstr;

Kek TestKek(char fill) { return Kek::FromBytes(std::string(32, fill)); }

// Coordinators started together on one key file (replicas sharing a
// volume) must all end with the same key.
TEST(KekTest, ConcurrentCreationsAgreeOnOneKey) {
  TempDir dir;
  const std::string path = dir.File("kek");
  std::vector<std::string> sealed(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      LocalFilesystem fs;
      absl::StatusOr<Kek> kek = Kek::LoadOrCreate(path, fs);
      ASSERT_OK(kek.status());
      ASSERT_OK_AND_ASSIGN(sealed[i], kek->Seal("secret", "aad"));
    });
  }
  for (std::thread& t : threads) t.join();
  LocalFilesystem fs;
  ASSERT_OK_AND_ASSIGN(Kek kek, Kek::LoadOrCreate(path, fs));
  for (const std::string& s : sealed) {
    absl::StatusOr<std::string> opened = kek.Open(s, "aad");
    ASSERT_OK(opened.status()) << "a thread used a key that is not the file's";
    EXPECT_EQ(*opened, "secret");
  }
}

TEST(KekTest, SealOpenRoundTrip) {
  Kek kek = TestKek('k');
  const std::string plaintext = "-----BEGIN PRIVATE KEY-----\nabc\n";
  ASSERT_OK_AND_ASSIGN(std::string sealed, kek.Seal(plaintext, "cert/web"));
  EXPECT_EQ(sealed.size(), 4 + 8 + 12 + plaintext.size() + 16);
  EXPECT_EQ(sealed.substr(0, 4), "cfk1");
  EXPECT_EQ(HexEncode(sealed.substr(4, 8)), kek.KeyId());
  EXPECT_EQ(sealed.find("PRIVATE KEY"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(std::string opened, kek.Open(sealed, "cert/web"));
  EXPECT_EQ(opened, plaintext);
}

TEST(KekTest, EmptyPlaintextAndFreshNonces) {
  Kek kek = TestKek('k');
  ASSERT_OK_AND_ASSIGN(std::string a, kek.Seal("", ""));
  ASSERT_OK_AND_ASSIGN(std::string b, kek.Seal("", ""));
  EXPECT_NE(a, b);  // Different nonces.
  ASSERT_OK_AND_ASSIGN(std::string opened, kek.Open(a, ""));
  EXPECT_EQ(opened, "");
}

TEST(KekTest, KeyIdIsSha256Prefix) {
  Kek kek = TestKek('k');
  EXPECT_EQ(kek.KeyId(), HexEncode(Sha256(std::string(32, 'k')).substr(0, 8)));
  EXPECT_EQ(kek.KeyId().size(), 16u);
}

TEST(KekTest, WrongAadFailsAuthentication) {
  Kek kek = TestKek('k');
  ASSERT_OK_AND_ASSIGN(std::string sealed, kek.Seal("secret", "cert/a"));
  EXPECT_THAT(kek.Open(sealed, "cert/b"),
              StatusIs(absl::StatusCode::kDataLoss,
                       "authentication failed (wrong key-encryption key or "
                       "tampered data)"));
}

TEST(KekTest, EveryTamperedByteIsDetected) {
  Kek kek = TestKek('k');
  ASSERT_OK_AND_ASSIGN(std::string sealed, kek.Seal("secret key bytes", "aad"));
  // Nonce, ciphertext and tag bytes (the header is checked separately).
  for (size_t i = 12; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= 0x01;
    EXPECT_THAT(kek.Open(bad, "aad"),
                StatusIs(absl::StatusCode::kDataLoss,
                         HasSubstr("authentication failed")))
        << "byte " << i;
  }
}

TEST(KekTest, OtherKeyIdIsNamed) {
  Kek a = TestKek('a');
  Kek b = TestKek('b');
  ASSERT_OK_AND_ASSIGN(std::string sealed, a.Seal("secret", "aad"));
  EXPECT_THAT(b.Open(sealed, "aad"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "sealed under a different key-encryption key (id " +
                           a.KeyId() + ", this key is " + b.KeyId() + ")"));
}

TEST(KekTest, BadMagicOrShortInput) {
  Kek kek = TestKek('k');
  ASSERT_OK_AND_ASSIGN(std::string sealed, kek.Seal("secret", "aad"));
  std::string bad_magic = sealed;
  bad_magic[0] = 'X';
  EXPECT_THAT(kek.Open(bad_magic, "aad"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("not a sealed certfleet key")));
  EXPECT_THAT(kek.Open(sealed.substr(0, 39), "aad"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("not a sealed certfleet key")));
  EXPECT_THAT(kek.Open("-----BEGIN PRIVATE KEY-----", "aad"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("not a sealed certfleet key")));
}

TEST(KekLoadTest, CreatesWithMode0600AndReloadsTheSameKey) {
  TempDir dir("kek");
  LocalFilesystem fs;
  const std::string path = dir.path() + "/state/secrets/kek";
  ASSERT_OK_AND_ASSIGN(Kek created, Kek::LoadOrCreate(path, fs));

  ASSERT_OK_AND_ASSIGN(FileInfo info, fs.Stat(path));
  EXPECT_TRUE(info.exists);
  EXPECT_EQ(info.mode, 0600u);
  EXPECT_EQ(info.size, 32);
  ASSERT_OK_AND_ASSIGN(FileInfo parent, fs.Stat(dir.path() + "/state/secrets"));
  EXPECT_EQ(parent.mode, 0700u);

  ASSERT_OK_AND_ASSIGN(std::string sealed, created.Seal("pem", "name"));
  ASSERT_OK_AND_ASSIGN(Kek reloaded, Kek::LoadOrCreate(path, fs));
  EXPECT_EQ(reloaded.KeyId(), created.KeyId());
  ASSERT_OK_AND_ASSIGN(std::string opened, reloaded.Open(sealed, "name"));
  EXPECT_EQ(opened, "pem");
}

TEST(KekLoadTest, RefusesGroupOrOtherPermissions) {
  TempDir dir("kek");
  LocalFilesystem fs;
  const std::string path = dir.File("kek");
  certfleet::testing::WriteFileOrDie(path, std::string(32, 'x'), 0644);
  EXPECT_THAT(Kek::LoadOrCreate(path, fs),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "key-encryption key " + path +
                           " has mode 0644; it must not be readable by group "
                           "or others (chmod 600 " +
                           path + ")"));
  ASSERT_EQ(chmod(path.c_str(), 0610),
            0);  // Group execute only: still refused.
  EXPECT_THAT(Kek::LoadOrCreate(path, fs),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("has mode 0610")));
  ASSERT_EQ(chmod(path.c_str(), 0400), 0);
  ASSERT_OK_AND_ASSIGN(Kek kek, Kek::LoadOrCreate(path, fs));
  EXPECT_EQ(kek.KeyId(), TestKek('x').KeyId());
}

TEST(KekLoadTest, WrongSizeIsFailedPrecondition) {
  TempDir dir("kek");
  LocalFilesystem fs;
  const std::string path = dir.File("kek");
  certfleet::testing::WriteFileOrDie(path, std::string(31, 'x'), 0600);
  EXPECT_THAT(Kek::LoadOrCreate(path, fs),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("key-encryption key " + path +
                                 " is 31 bytes; it must be exactly 32")));
  certfleet::testing::WriteFileOrDie(path, "", 0600);
  EXPECT_THAT(
      Kek::LoadOrCreate(path, fs),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is 0 bytes")));
}

TEST(KekLoadTest, DirectoryIsFailedPrecondition) {
  TempDir dir("kek");
  LocalFilesystem fs;
  EXPECT_THAT(Kek::LoadOrCreate(dir.path(), fs),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is a directory")));
}

}  // namespace
}  // namespace certfleet::crypto
