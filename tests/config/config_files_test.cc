// Files the configuration points at, on a real filesystem: secret files
// must be private to their owner, relative paths follow the config file,
// and LoadConfig reads the file itself.
#include <sys/stat.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/filesystem.h"
#include "coordinator/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/config/config_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::config {
namespace {

using certfleet::testing::StatusIs;
using certfleet::testing::TempDir;
using certfleet::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using testing::kValid;
using testing::ParseText;
using testing::ValidWith;

// kValid with the TSIG secret read from `path` (line 16, value at col 25).
std::string WithTsigSecretFile(const std::string& path) {
  return ValidWith("tsig_secret: c2VjcmV0LXNlY3JldA==",
                   absl::StrCat("tsig_secret_file: ", path));
}

std::string ModeError(const std::string& path, absl::string_view mode) {
  return absl::StrCat("\"", path, "\" is accessible by group or others (mode ",
                      mode,
                      "); a secret must be private to its owner: chmod "
                      "600 ",
                      path);
}

TEST(ConfigFilesTest, SecretFileReadableByOthersIsRefused) {
  TempDir dir("config-secret");
  const std::string secret = dir.File("tsig.secret");
  WriteFileOrDie(secret, "c2VjcmV0\n", 0644);
  LocalFilesystem fs;
  EXPECT_THAT(
      ParseText(WithTsigSecretFile(secret), fs),
      StatusIs(absl::StatusCode::kInvalidArgument,
               absl::StrCat("coordinator.yaml:16:25: dns_providers[0].rfc2136."
                            "tsig_secret_file: ",
                            ModeError(secret, "0644"))));
  ASSERT_EQ(chmod(secret.c_str(), 0640), 0);
  EXPECT_THAT(ParseText(WithTsigSecretFile(secret), fs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(ModeError(secret, "0640"))));
  ASSERT_EQ(chmod(secret.c_str(), 0602), 0);  // writable by others
  EXPECT_THAT(ParseText(WithTsigSecretFile(secret), fs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(ModeError(secret, "0602"))));
}

TEST(ConfigFilesTest, PrivateSecretFileIsReadAndTrimmed) {
  TempDir dir("config-secret");
  const std::string secret = dir.File("tsig.secret");
  WriteFileOrDie(secret, "  c2VjcmV0\n", 0600);
  LocalFilesystem fs;
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c,
                       ParseText(WithTsigSecretFile(secret), fs));
  EXPECT_EQ(c.dns_providers.at(0).rfc2136.tsig_secret, "c2VjcmV0");

  ASSERT_EQ(chmod(secret.c_str(), 0400), 0);
  EXPECT_OK(ParseText(WithTsigSecretFile(secret), fs));
}

TEST(ConfigFilesTest, TsigSecretFileMayBeTsigKeygenOutput) {
  TempDir dir("config-secret");
  const std::string secret = dir.File("certfleet.key");
  WriteFileOrDie(secret,
                 "key \"certfleet\" {\n\talgorithm hmac-sha256;\n\tsecret "
                 "\"dGhpcyBpcyBhIHRlc3Q=\";\n};\n",
                 0600);
  LocalFilesystem fs;
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c,
                       ParseText(WithTsigSecretFile(secret), fs));
  EXPECT_EQ(c.dns_providers.at(0).rfc2136.tsig_secret, "dGhpcyBpcyBhIHRlc3Q=");
}

TEST(ConfigFilesTest, MissingOrEmptySecretFile) {
  TempDir dir("config-secret");
  LocalFilesystem fs;
  const std::string missing = dir.File("nope");
  EXPECT_THAT(ParseText(WithTsigSecretFile(missing), fs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("coordinator.yaml:16:25: dns_providers[0]."
                                    "rfc2136.tsig_secret_file: \"",
                                    missing, "\" does not exist")));
  const std::string empty = dir.File("empty");
  WriteFileOrDie(empty, "\n", 0600);
  EXPECT_THAT(ParseText(WithTsigSecretFile(empty), fs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("coordinator.yaml:16:25: dns_providers[0]."
                                    "rfc2136.tsig_secret_file: \"",
                                    empty, "\" is empty")));
}

TEST(ConfigFilesTest, EabKeyFileFollowsTheSameRule) {
  TempDir dir("config-secret");
  const std::string key = dir.File("eab.key");
  WriteFileOrDie(key, "c2VjcmV0LWtleQ\n", 0604);
  LocalFilesystem fs;
  const std::string yaml =
      ValidWith("    directory: https://127.0.0.1:14000/dir\n",
                absl::StrCat("    directory: https://127.0.0.1:14000/dir\n"
                             "    eab:\n"
                             "      kid: kid-7\n"
                             "      hmac_key_file: ",
                             key, "\n"));
  EXPECT_THAT(ParseText(yaml, fs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("coordinator.yaml:11:22: issuers[0].eab."
                                    "hmac_key_file: ",
                                    ModeError(key, "0604"))));
  ASSERT_EQ(chmod(key.c_str(), 0600), 0);
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c, ParseText(yaml, fs));
  ASSERT_TRUE(c.issuers.at(0).eab.has_value());
  EXPECT_EQ(c.issuers.at(0).eab->kid, "kid-7");
  EXPECT_EQ(c.issuers.at(0).eab->hmac_key, "c2VjcmV0LWtleQ");
}

TEST(ConfigFilesTest, SecretInlineAndFileTogetherIsAnError) {
  LocalFilesystem fs;
  EXPECT_THAT(
      ParseText(ValidWith("      tsig_secret: c2VjcmV0LXNlY3JldA==\n",
                          "      tsig_secret: c2VjcmV0LXNlY3JldA==\n"
                          "      tsig_secret_file: /etc/certfleet/tsig\n"),
                fs),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "coordinator.yaml:17:25: dns_providers[0].rfc2136."
               "tsig_secret_file: set either tsig_secret or tsig_secret_file, "
               "not both"));
}

TEST(ConfigFilesTest, KeyEncryptionKeyMustBePrivateWhenItExists) {
  TempDir dir("config-kek");
  const std::string kek = dir.File("kek");
  LocalFilesystem fs;
  const std::string yaml = ValidWith("/etc/certfleet/kek", kek);
  // Not there yet: the key store creates it (mode 0600) on first start.
  EXPECT_OK(ParseText(yaml, fs));
  WriteFileOrDie(kek, std::string(32, 'k'), 0644);
  EXPECT_THAT(ParseText(yaml, fs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("coordinator.yaml:3:26: "
                                    "key_encryption_key_file: ",
                                    ModeError(kek, "0644"))));
  ASSERT_EQ(chmod(kek.c_str(), 0600), 0);
  EXPECT_OK(ParseText(yaml, fs));
}

TEST(ConfigFilesTest, LoadConfigResolvesRelativePathsAgainstTheFile) {
  TempDir dir("config-load");
  WriteFileOrDie(dir.File("tsig.secret"), "dGVzdA==\n", 0600);
  WriteFileOrDie(dir.File("ca.pem"), "-----BEGIN CERTIFICATE-----\n", 0644);
  const std::string yaml = absl::StrReplaceAll(
      kValid,
      {{"/var/lib/certfleet/coordinator.db", "coordinator.db"},
       {"/etc/certfleet/kek", "kek"},
       {"tsig_secret: c2VjcmV0LXNlY3JldA==", "tsig_secret_file: tsig.secret"},
       {"https://127.0.0.1:14000/dir",
        "https://127.0.0.1:14000/dir\n    trust_bundle: ./ca.pem"}});
  WriteFileOrDie(dir.File("coordinator.yaml"), yaml, 0644);
  LocalFilesystem fs;
  ASSERT_OK_AND_ASSIGN(CoordinatorConfig c,
                       LoadConfig(dir.File("coordinator.yaml"), fs));
  EXPECT_EQ(c.source_path, dir.File("coordinator.yaml"));
  EXPECT_EQ(c.store.sqlite_path, dir.File("coordinator.db"));
  EXPECT_EQ(c.key_encryption_key_file, dir.File("kek"));
  EXPECT_EQ(c.issuers.at(0).trust_bundle, dir.File("ca.pem"));
  EXPECT_EQ(c.dns_providers.at(0).rfc2136.tsig_secret, "dGVzdA==");
}

TEST(ConfigFilesTest, LoadConfigNamesTheFileInErrors) {
  TempDir dir("config-load");
  const std::string path = dir.File("coordinator.yaml");
  LocalFilesystem fs;
  EXPECT_THAT(
      LoadConfig(path, fs),
      StatusIs(absl::StatusCode::kNotFound,
               HasSubstr(absl::StrCat("configuration file: open ", path))));
  WriteFileOrDie(path, ValidWith("issuer: pebble", "issuer: nope"), 0644);
  EXPECT_THAT(LoadConfig(path, fs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(path,
                                    ":20:13: certificates[0].issuer: "
                                    "\"nope\" is not an issuer "
                                    "(issuers: \"pebble\")")));
}

}  // namespace
}  // namespace certfleet::config
