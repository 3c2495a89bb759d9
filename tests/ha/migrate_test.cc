// Moving an installation from SQLite to etcd: every kind of record is
// copied with its numbers (versions, rollout revisions, audit ids) and read
// back identical; a non-empty prefix is refused before anything is
// written; the real binary does the same from the command line.
#include "coordinator/app/migrate.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "common/process_runner.h"
#include "coordinator/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/store/status_or_matchers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::app {
namespace {

using ::certfleet::store::IsOkAndHolds;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kAt = absl::FromUnixNanos(1'800'000'000'123'456'789);

// A store with something of every kind, numbers that are not 1.
void Fill(store::Store& s) {
  ASSERT_OK(s.CreateInternalCaIfAbsent({.cert_pem = "ca",
                                        .key_sealed = std::string("k\0y", 3),
                                        .created_at = kAt})
                .status());
  ASSERT_OK(s.PutAccount({.issuer = "le",
                          .account_url = "https://ca/a/1",
                          .contacts = {"mailto:ops@example.test"},
                          .created_at = kAt,
                          .updated_at = kAt}));
  ASSERT_OK(s.PutCertificateState({.name = "web",
                                   .renew_at = kAt,
                                   .last_attempt_at = absl::InfinitePast()}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(s.AddVersion({.cert_name = "web",
                            .names = {"www.example.test"},
                            .serial_hex = absl::StrCat("0", i + 1),
                            .not_after = kAt + absl::Hours(i),
                            .key_sealed = std::string("\0\1", 2),
                            .created_at = kAt})
                  .status());
  }
  ASSERT_OK(s.AddVersion({.cert_name = "api", .created_at = kAt}).status());
  ASSERT_OK(s.MarkVersionRevoked("web", 2, kAt, "keyCompromise"));
  ASSERT_OK(s.PutOrder(
      {.cert_name = "mail",
       .order_url = "https://ca/o/9",
       .dns_records = {{"bind", "example.test.",
                        "_acme-challenge.mail.example.test.", "v"}}}));
  ASSERT_OK(s.PutAgent({.id = "agt-000000000001",
                        .hostname = "web-1",
                        .labels = {{"role", "web"}},
                        .enrolled_at = kAt}));
  ASSERT_OK(s.PutToken(
      {.id = "00112233445566aa", .secret_hash = "h", .expires_at = kAt}));
  ASSERT_OK(s.PutToken(
      {.id = "00112233445566bb", .secret_hash = "h", .expires_at = kAt}));
  ASSERT_OK(s.ConsumeToken("00112233445566bb", "agt-000000000001", kAt));
  ASSERT_OK(s.PutTargetState({.agent_id = "agt-000000000001",
                              .target = "www",
                              .certificate = "web",
                              .desired_version_id = "web/3",
                              .installed_version_id = "web/3",
                              .healthy = true,
                              .updated_at = kAt}));
  ASSERT_OK(s.PutDesiredVersion("agt-000000000001", "www", "web", "web/3"));
  ASSERT_OK(s.CreateRollout({.id = "ro-done",
                             .certificate = "web",
                             .kind = "rollout",
                             .to_version = "web/2",
                             .created_at = kAt})
                .status());
  ASSERT_OK(s.SaveRollout({.id = "ro-done",
                           .phase = "complete",
                           .finished = true,
                           .revision = 1})
                .status());
  ASSERT_OK(s.CreateRollout({.id = "ro-live",
                             .certificate = "web",
                             .kind = "rollout",
                             .from_version = "web/2",
                             .to_version = "web/3",
                             .phase = "baking",
                             .created_at = kAt + absl::Seconds(1)})
                .status());
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(s.AppendAudit({.at = kAt,
                             .actor = "admin:a",
                             .action = absl::StrCat("a", i),
                             .result = "ok"})
                  .status());
  }
}

class MigrateTest : public etcd::testing::EtcdTest {
 protected:
  void SetUp() override {
    EtcdTest::SetUp();
    ASSERT_OK_AND_ASSIGN(sqlite_,
                         store::SqliteStore::Open(tmp_.File("coordinator.db")));
    ASSERT_NO_FATAL_FAILURE(Fill(*sqlite_));
    client_ = NewClient();
    ASSERT_OK_AND_ASSIGN(etcd_, store::EtcdStore::Open({.client = client_.get(),
                                                        .prefix = prefix()}));
  }

  testing::TempDir tmp_{"migrate"};
  std::unique_ptr<store::SqliteStore> sqlite_;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<store::EtcdStore> etcd_;
};

TEST_F(MigrateTest, CopiesEveryRecordAndVerifiesIt) {
  ASSERT_OK_AND_ASSIGN(MigrationReport report, Migrate(*sqlite_, *etcd_));
  EXPECT_EQ(report.copied["versions"], 4);
  EXPECT_EQ(report.copied["tokens"], 2);
  EXPECT_EQ(report.copied["rollouts"], 2);
  EXPECT_EQ(report.copied["audit records"], 3);
  EXPECT_EQ(report.copied["orders"], 1);
  EXPECT_THAT(report.Summary(), HasSubstr("copied and verified identical"));
  // What the replicas rely on: the active rollout, the numbering going on.
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> active,
                       etcd_->ActiveRollout("web"));
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->id, "ro-live");
  EXPECT_THAT(etcd_->AddVersion({.cert_name = "web"}), IsOkAndHolds(4));
  EXPECT_THAT(etcd_->AppendAudit({.actor = "x", .action = "y", .result = "ok"}),
              IsOkAndHolds(4));
  ASSERT_OK_AND_ASSIGN(auto revoked, etcd_->GetVersion("web", 2));
  EXPECT_EQ(revoked->revocation_reason, "keyCompromise");
}

// Retention deletes old versions; the copy keeps every number, gaps and all,
// and numbering goes on after the newest.
TEST_F(MigrateTest, VersionsKeepTheirNumbersAcrossPrunedGaps) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(sqlite_->AddVersion({.cert_name = "web", .created_at = kAt})
                  .status());  // 4, 5, 6
  }
  ASSERT_OK(sqlite_->DeleteVersion("web", 1));
  ASSERT_OK(sqlite_->DeleteVersion("web", 4));
  ASSERT_OK(sqlite_->DeleteVersion("web", 5));

  ASSERT_OK_AND_ASSIGN(MigrationReport report, Migrate(*sqlite_, *etcd_));
  EXPECT_EQ(report.copied["versions"], 4);  // web 2, 3, 6 and api 1
  ASSERT_OK_AND_ASSIGN(std::vector<store::VersionRecord> web,
                       etcd_->ListVersions("web"));
  std::vector<int64_t> numbers;
  for (const store::VersionRecord& v : web) numbers.push_back(v.version);
  EXPECT_THAT(numbers, ::testing::ElementsAre(6, 3, 2));
  EXPECT_EQ(web[2].revocation_reason, "keyCompromise");
  EXPECT_THAT(etcd_->AddVersion({.cert_name = "web"}), IsOkAndHolds(7));
}

TEST_F(MigrateTest, ANonEmptyPrefixIsRefusedBeforeWriting) {
  ASSERT_OK(etcd_->PutAgent({.id = "agt-00000000beef"}));
  EXPECT_THAT(Migrate(*sqlite_, *etcd_).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already holds 1 keys")));
  ASSERT_OK_AND_ASSIGN(std::vector<store::AgentRecord> agents,
                       etcd_->ListAgents());
  EXPECT_EQ(agents.size(), 1u);
}

TEST_F(MigrateTest, TheCommandMigratesAndRefusesASecondTime) {
  sqlite_.reset();  // a stopped coordinator
  std::string endpoints;
  for (const std::string& e : cluster().endpoints()) {
    absl::StrAppend(&endpoints, endpoints.empty() ? "" : ",", e);
  }
  auto run = [&](const std::string& from) {
    SubprocessRunner runner;
    absl::StatusOr<ProcessResult> r =
        runner.Run({.argv = {CERTFLEET_COORDINATOR_BINARY, "migrate", "--from",
                             "sqlite:" + from, "--to", "etcd:" + endpoints,
                             "--prefix", prefix() + "cmd/"},
                    .timeout = absl::Seconds(60)},
                   Context::Background());
    EXPECT_OK(r.status());
    return r.ok() ? *r : ProcessResult{};
  };
  ProcessResult first = run(tmp_.File("coordinator.db"));
  EXPECT_EQ(first.exit_code, 0) << first.stderr_data;
  EXPECT_THAT(first.stdout_data, HasSubstr("versions 4"));
  EXPECT_THAT(first.stdout_data, HasSubstr("verified identical"));
  ProcessResult again = run(tmp_.File("coordinator.db"));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.stderr_data, HasSubstr("already holds"));
  ProcessResult missing = run(tmp_.File("nope.db"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.stderr_data, HasSubstr("no such SQLite store"));
}

}  // namespace
}  // namespace certfleet::app
