// The forward path of an install: verification before the disk, layout,
// formats, modes, ownership, no-op reinstall, pruning, inventory.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/strings/match.h"
#include "agent/install/target_directory.h"
#include "common/crypto/verify.h"
#include "common/filesystem.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/install_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::agent::testing {
namespace {

using ::certfleet::testing::ReadFileOrDie;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kV1[] = "www_2f1";  // TargetDirectory::VersionDirName("www/1")

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

TEST_F(InstallFixture, InstallsEveryFormatBehindStableLinks) {
  auto manager = NewManager();
  const Bundle bundle = WwwBundle(1, "0a01");
  const InstallOutcome outcome = manager->Install(bundle, Context());
  ASSERT_TRUE(outcome.ok) << outcome.failed_step << ": " << outcome.error;

  EXPECT_EQ(LinkTarget("current"), ".versions/www_2f1");
  EXPECT_EQ(LinkTarget("key.pem"), "current/key.pem");
  EXPECT_EQ(LinkTarget("cert.pem"), "current/cert.pem");
  EXPECT_EQ(LinkTarget("chain.pem"), "current/chain.pem");
  EXPECT_EQ(LinkTarget("fullchain.pem"), "current/fullchain.pem");
  EXPECT_EQ(LinkTarget("haproxy/www.pem"), "../current/haproxy/www.pem");
  EXPECT_EQ(LinkTarget("www.p12"), "current/www.p12");

  const std::string leaf = ReadFileOrDie(Path("cert.pem"));
  const std::string chain = Ca().intermediate().ToPem();
  EXPECT_EQ(leaf, bundle.leaf_pem);
  EXPECT_EQ(ReadFileOrDie(Path("chain.pem")), chain);
  EXPECT_EQ(ReadFileOrDie(Path("fullchain.pem")), leaf + chain);
  const std::string key = ReadFileOrDie(Path("key.pem"));
  EXPECT_THAT(key, StartsWith("-----BEGIN PRIVATE KEY-----"));
  // haproxy 2.6 documents "cat cert.pem key.pem > combined.pem".
  EXPECT_EQ(ReadFileOrDie(Path("haproxy/www.pem")), leaf + chain + key);
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");

  const Journal j = ReadJournalOrDie();
  EXPECT_EQ(j.phase, Journal::Phase::kIdle);
  EXPECT_EQ(j.serving, kV1);
  EXPECT_EQ(j.candidate, "");

  EXPECT_THAT(runner_.programs(), ElementsAre("/usr/sbin/reload-www"));
  EXPECT_THAT(checker_.serials(), ElementsAre("0a01"));
  // Reload, then the grace period, then the check.
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Seconds(1)));

  const std::vector<TargetStatus> inventory = manager->Inventory();
  ASSERT_EQ(inventory.size(), 1u);
  EXPECT_EQ(inventory[0].name, "www");
  EXPECT_EQ(inventory[0].version_id, "www/1");
  EXPECT_EQ(inventory[0].serial, "0a01");
  EXPECT_EQ(inventory[0].not_after, bundle.not_after);
  EXPECT_TRUE(inventory[0].healthy);
}

TEST_F(InstallFixture, FileModesDefaultByContentAndFollowTheConfiguration) {
  config_.targets[0].files[1].mode = 0640;  // cert.pem
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  const std::string v = Path(".versions/www_2f1/");
  EXPECT_EQ(ModeOf(v + "key.pem"), 0600u);
  EXPECT_EQ(ModeOf(v + "cert.pem"), 0640u);
  EXPECT_EQ(ModeOf(v + "chain.pem"), 0644u);
  EXPECT_EQ(ModeOf(v + "fullchain.pem"), 0644u);
  EXPECT_EQ(ModeOf(v + "haproxy/www.pem"), 0600u);
  EXPECT_EQ(ModeOf(v + "www.p12"), 0600u);
}

TEST_F(InstallFixture, TargetModeAppliesToFilesWithoutTheirOwn) {
  config_.targets[0].mode = 0640;
  config_.targets[0].files[0].mode = 0400;  // key.pem
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  const std::string v = Path(".versions/www_2f1/");
  EXPECT_EQ(ModeOf(v + "key.pem"), 0400u);
  EXPECT_EQ(ModeOf(v + "cert.pem"), 0640u);
  EXPECT_EQ(ModeOf(v + "haproxy/www.pem"), 0640u);
}

TEST_F(InstallFixture, FilesGetTheConfiguredOwnerAndGroup) {
  if (geteuid() != 0) GTEST_SKIP() << "chown needs root";
  config_.targets[0].owner = "nobody";
  config_.targets[0].uid = 65534;
  config_.targets[0].group = "nogroup";
  config_.targets[0].gid = 65534;
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  for (const char* f : {"key.pem", "cert.pem", "haproxy/www.pem", "www.p12"}) {
    struct stat st;
    ASSERT_EQ(stat(Path(f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_uid, 65534u) << f;
    EXPECT_EQ(st.st_gid, 65534u) << f;
  }
}

TEST_F(InstallFixture, Pkcs12OpensWithThePasswordAndModernAlgorithms) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  const std::string der = ReadFileOrDie(Path("www.p12"));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  ASSERT_NE(p12, nullptr);
  EXPECT_EQ(PKCS12_verify_mac(p12, "wrong", -1), 0);
  ASSERT_EQ(PKCS12_verify_mac(p12, "s3cret pass", -1), 1);
  const X509_ALGOR* mac_alg = nullptr;
  PKCS12_get0_mac(nullptr, &mac_alg, nullptr, nullptr, p12);
  ASSERT_NE(mac_alg, nullptr);
  const ASN1_OBJECT* mac_md = nullptr;
  X509_ALGOR_get0(&mac_md, nullptr, nullptr, mac_alg);
  EXPECT_EQ(OBJ_obj2nid(mac_md), NID_sha256);

  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  ASSERT_EQ(PKCS12_parse(p12, "s3cret pass", &pkey, &cert, &ca), 1);
  ASSERT_OK_AND_ASSIGN(crypto::PrivateKey key,
                       crypto::PrivateKey::FromRaw(pkey));
  const crypto::Certificate leaf = crypto::Certificate::FromRaw(cert);
  EXPECT_EQ(leaf.SerialHex(), "0a01");
  EXPECT_OK(crypto::CheckKeyMatches(key, leaf));
  ASSERT_NE(ca, nullptr);
  ASSERT_EQ(sk_X509_num(ca), 1);
  EXPECT_EQ(crypto::Certificate::FromRaw(sk_X509_value(ca, 0)).SubjectDn(),
            Ca().intermediate().SubjectDn());
  EVP_PKEY_free(pkey);
  X509_free(cert);
  sk_X509_pop_free(ca, X509_free);
  PKCS12_free(p12);

  // And the openssl command line, as an operator would open it.
  SubprocessRunner real;
  ASSERT_OK_AND_ASSIGN(
      ProcessResult r,
      real.Run({.argv = {"openssl", "pkcs12", "-in", Path("www.p12"), "-passin",
                         "file:" + password_file_, "-info", "-nodes"}},
               Context()));
  ASSERT_TRUE(r.success()) << r.Describe() << ": " << r.stderr_data;
  EXPECT_THAT(r.stderr_data, HasSubstr("MAC: sha256"));
  EXPECT_THAT(r.stderr_data, HasSubstr("AES-256-CBC"));
  EXPECT_THAT(r.stdout_data, HasSubstr("BEGIN PRIVATE KEY"));
}

struct RefusalCase {
  const char* name;
  const char* expected_error;  // prefix of InstallOutcome::error
};

class RefusalTest : public InstallFixture,
                    public ::testing::WithParamInterface<RefusalCase> {
 protected:
  Bundle BadBundle(const std::string& which) {
    if (which == "key_mismatch") {
      Bundle b = WwwBundle(2, "0b02");
      b.key_pem = WwwBundle(3, "0b03").key_pem;
      return b;
    }
    if (which == "chain_broken") {
      Bundle b = WwwBundle(2, "0b02");
      b.chain_pem = OtherCa().intermediate().ToPem();
      return b;
    }
    if (which == "names_not_covered") {
      return WwwBundle(2, "0b02", {.dns_names = {"other.example.test"}});
    }
    if (which == "expired") {
      return WwwBundle(
          2, "0b02",
          {.not_before = crypto::testing::kTestNow - absl::Hours(2400),
           .not_after = crypto::testing::kTestNow - absl::Hours(1)});
    }
    if (which == "not_yet_valid") {
      return WwwBundle(
          2, "0b02",
          {.not_before = crypto::testing::kTestNow + absl::Hours(1),
           .not_after = crypto::testing::kTestNow + absl::Hours(2400)});
    }
    if (which == "garbage_key") {
      Bundle b = WwwBundle(2, "0b02");
      b.key_pem = "not a key";
      return b;
    }
    Bundle b = WwwBundle(2, "0b02");
    b.target = "nope";
    return b;
  }
};

TEST_P(RefusalTest, RefusesBeforeTouchingTheDisk) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  const std::set<std::string> before = Tree();
  const std::string journal_before = ReadFileOrDie(Path(".certfleet-state"));
  const int runs = runner_.runs();

  const InstallOutcome outcome =
      manager->Install(BadBundle(GetParam().name), Context());
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kVerify);
  EXPECT_THAT(outcome.error, StartsWith(GetParam().expected_error));
  EXPECT_FALSE(outcome.rolled_back);
  EXPECT_EQ(Tree(), before);
  EXPECT_EQ(ReadFileOrDie(Path(".certfleet-state")), journal_before);
  EXPECT_EQ(runner_.runs(), runs);
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");
  EXPECT_EQ(manager->Inventory()[0].version_id, "www/1");
}

INSTANTIATE_TEST_SUITE_P(
    Bundles, RefusalTest,
    ::testing::Values(RefusalCase{"key_mismatch",
                                  "key: private key does not match"},
                      RefusalCase{"chain_broken", "chain: "},
                      RefusalCase{"names_not_covered", "names: "},
                      RefusalCase{"expired", "validity: "},
                      RefusalCase{"not_yet_valid", "validity: "},
                      RefusalCase{"garbage_key", "key: "},
                      RefusalCase{"unknown_target", "unknown target \"nope\""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(InstallFixture, RefusalOfAFirstBundleLeavesAnEmptyDirectory) {
  auto manager = NewManager();
  const std::set<std::string> before = Tree();
  EXPECT_THAT(before, ElementsAre("/.certfleet-lock", "/.versions"));
  Bundle b = WwwBundle(1, "0a01", {.dns_names = {"other.example.test"}});
  const InstallOutcome outcome = manager->Install(b, Context());
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kVerify);
  EXPECT_THAT(outcome.error, HasSubstr("www.example.test"));
  EXPECT_EQ(Tree(), before);
}

TEST_F(InstallFixture, TheVersionAlreadyServedIsANoOp) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  const int runs = runner_.runs();
  const size_t checks = checker_.serials().size();
  const InstallOutcome again =
      manager->Install(WwwBundle(1, "0a01"), Context());
  EXPECT_TRUE(again.ok);
  EXPECT_EQ(runner_.runs(), runs);
  EXPECT_EQ(checker_.serials().size(), checks);
  EXPECT_EQ(
      Metric("certfleet_agent_installs_total{target=\"www\",result=\"ok\"}"),
      1);
}

// Re-sent after it expired (an agent reconnecting late): what is served is
// not refused, since nothing would change.
TEST_F(InstallFixture, TheVersionAlreadyServedIsANoOpEvenAfterItExpired) {
  auto manager = NewManager();
  const Bundle bundle = WwwBundle(1, "0a01");
  ASSERT_TRUE(manager->Install(bundle, Context()).ok);
  clock_.SetTime(bundle.not_after + absl::Hours(1));
  EXPECT_TRUE(manager->Install(bundle, Context()).ok);
  EXPECT_EQ(Metric("certfleet_agent_installs_total{target=\"www\","
                   "result=\"rejected\"}"),
            -1);
}

TEST_F(InstallFixture, PrunesToKeepVersionsButNeverServingOrPrevious) {
  auto manager = NewManager();
  for (int n = 1; n <= 5; ++n) {
    ASSERT_TRUE(
        manager->Install(WwwBundle(n, absl::StrCat("0a0", n)), Context()).ok);
  }
  EXPECT_THAT(Versions(), ElementsAre("www_2f3", "www_2f4", "www_2f5"));
  const Journal j = ReadJournalOrDie();
  EXPECT_EQ(j.serving, "www_2f5");
  EXPECT_EQ(j.previous, "www_2f4");
  // Back to an old version: it is written afresh and becomes the newest.
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a11"), Context()).ok);
  EXPECT_THAT(Versions(), ElementsAre("www_2f1", "www_2f4", "www_2f5"));
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a11");
}

TEST_F(InstallFixture, VersionIdsCannotLeaveTheVersionsDirectory) {
  EXPECT_EQ(TargetDirectory::VersionDirName("../../etc"), "_2e._2f._2e_2fetc");
  EXPECT_EQ(TargetDirectory::VersionDirName("a_b"), "a_5fb");
  EXPECT_EQ(TargetDirectory::VersionDirName(""), "_");
  auto manager = NewManager();
  Bundle b = WwwBundle(1, "0a01");
  b.version_id = "../../evil";
  ASSERT_TRUE(manager->Install(b, Context()).ok);
  EXPECT_EQ(Current(), "_2e._2f._2e_2fevil");
  EXPECT_EQ(manager->Inventory()[0].version_id, "../../evil");
}

TEST_F(InstallFixture, InventoryAndExpiryGaugeAfterARestart) {
  const Bundle bundle = WwwBundle(1, "0a01");
  {
    auto manager = NewManager();
    ASSERT_TRUE(manager->Install(bundle, Context()).ok);
  }
  metrics::Registry fresh;
  ASSERT_OK_AND_ASSIGN(
      auto manager,
      TargetManager::Create(config_, runner_, clock_, checker_, &fresh));
  const TargetStatus status = manager->Inventory()[0];
  EXPECT_EQ(status.version_id, "www/1");
  EXPECT_EQ(status.serial, "0a01");
  EXPECT_EQ(status.not_after, bundle.not_after);
  EXPECT_FALSE(status.healthy);
  EXPECT_EQ(status.health_detail, "not checked since the agent started");
  EXPECT_THAT(fresh.Render(),
              HasSubstr(absl::StrCat(
                  "certfleet_agent_certificate_not_after_timestamp_seconds{"
                  "target=\"www\"} ",
                  absl::ToUnixSeconds(bundle.not_after))));
  EXPECT_OK(manager->CheckHealth("www", Context()));
  EXPECT_TRUE(manager->Inventory()[0].healthy);
  EXPECT_THAT(manager->CheckHealth("nope", Context()),
              ::certfleet::testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(InstallFixture, ReadInventoryWorksWhileTheAgentHoldsTheTargets) {
  EXPECT_EQ(ReadInventory(config_)[0].version_id, "");
  EXPECT_EQ(access(Dir().c_str(), F_OK), -1);  // created nothing
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  const std::vector<TargetStatus> inventory = ReadInventory(config_);
  ASSERT_EQ(inventory.size(), 1u);
  EXPECT_EQ(inventory[0].name, "www");
  EXPECT_EQ(inventory[0].version_id, "www/1");
  EXPECT_EQ(inventory[0].serial, "0a01");
  EXPECT_FALSE(inventory[0].healthy);
  EXPECT_EQ(inventory[0].health_detail, "not checked (read from disk)");
}

TEST_F(InstallFixture, ASecondManagerOnTheSameDirectoryIsRefused) {
  auto first = NewManager();
  absl::StatusOr<std::unique_ptr<TargetManager>> second =
      TargetManager::Create(config_, runner_, clock_, checker_, nullptr);
  EXPECT_THAT(second, ::certfleet::testing::StatusIs(
                          absl::StatusCode::kFailedPrecondition,
                          HasSubstr("in use by another certfleet agent")));
}

// What a killed agent's child holds between its fork and its exec: let go
// of within a moment, so the restarted agent waits instead of failing.
TEST_F(InstallFixture, ALockReleasedWithinASecondIsWaitedFor) {
  std::filesystem::create_directories(Dir());
  const int fd =
      open(Path(".certfleet-lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  std::thread release([fd] {
    absl::SleepFor(absl::Milliseconds(200));
    close(fd);
  });
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<TargetManager>> manager =
      TargetManager::Create(config_, runner_, clock_, checker_, nullptr);
  release.join();
  EXPECT_TRUE(manager.ok()) << manager.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
}

TEST_F(InstallFixture, APasswordFileThatVanishedFailsTheWriteStep) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  ASSERT_EQ(unlink(password_file_.c_str()), 0);
  const InstallOutcome outcome =
      manager->Install(WwwBundle(2, "0a02"), Context());
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kWrite);
  EXPECT_THAT(outcome.error, HasSubstr("www.p12"));
  EXPECT_THAT(outcome.error, HasSubstr(password_file_));
  EXPECT_FALSE(outcome.rolled_back);
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");
  EXPECT_THAT(Versions(), ElementsAre("www_2f1"));
}

}  // namespace
}  // namespace certfleet::agent::testing
