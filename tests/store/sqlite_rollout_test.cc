// SqliteStore's rollout tables beyond the contract: a database written by a
// coordinator before rollouts (schema 2) migrates and keeps its data; the
// one-unfinished-rollout rule and the save compare-and-set hold across two
// connections (two coordinator processes) and, for the first, against raw
// SQL too; the audit log stays append-only even for the sqlite3 CLI.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/store/migrations.h"
#include "coordinator/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "tests/store/raw_sqlite.h"
#include "tests/store/status_or_matchers.h"
#include "tests/store/store_contract_test.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::store {
namespace {

using ::certfleet::testing::StatusIs;
using ::certfleet::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

class SqliteRolloutTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> OpenOrDie() {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path_);
    EXPECT_THAT(store, ::certfleet::testing::IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  TempDir dir_{"sqlite-rollout"};
  const std::string path_ = dir_.File("state.db");
};

RolloutRecord Rollout(const std::string& id, const std::string& certificate) {
  return {.id = id,
          .certificate = certificate,
          .kind = "rollout",
          .from_version = certificate + "/1",
          .to_version = certificate + "/2",
          .phase = "pending",
          .created_at = absl::FromUnixSeconds(1'700'000'000),
          .updated_at = absl::FromUnixSeconds(1'700'000'000),
          .state_json = R"({"phase":"pending"})"};
}

TEST_F(SqliteRolloutTest, SchemaTwoDatabaseMigratesKeepingItsData) {
  {
    // What a coordinator from before rollouts left behind.
    RawSqlite old(path_);
    ASSERT_OK(ApplyMigrations(old.get(), path_, AllMigrations().subspan(0, 2)));
    ASSERT_OK(old.Exec(
        "INSERT INTO agents VALUES ('agt-1', 'edge-1', '{\"pool\":\"eu\"}', "
        "1, 2, '0a', 3, 'tok')"));
    ASSERT_OK(old.Exec(
        "INSERT INTO target_states VALUES ('agt-1', 'nginx', 'web', 'web/2', "
        "'web/1', 'ff', 4, 0, 'handshake failed', 'reload: exit status 1', "
        "5)"));
    ASSERT_OK(old.Exec(
        "INSERT INTO versions VALUES ('web', 1, 'pebble', '[\"web.example.\"]',"
        " 'ec256', '0a', 1, 2, 'leaf', 'chain', x'01', 'order', 'ari', 3, "
        "-9223372036854775807 - 1, '')"));
    EXPECT_THAT(CurrentSchemaVersion(old.get()), IsOkAndHolds(2));
  }

  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    RawSqlite raw(path_);
    EXPECT_THAT(CurrentSchemaVersion(raw.get()),
                IsOkAndHolds(LatestSchemaVersion()));
  }
  // The existing row reads with no version for its old error.
  const TargetStateRecord migrated = {.agent_id = "agt-1",
                                      .target = "nginx",
                                      .certificate = "web",
                                      .desired_version_id = "web/2",
                                      .installed_version_id = "web/1",
                                      .serial = "ff",
                                      .not_after = absl::FromUnixNanos(4),
                                      .healthy = false,
                                      .detail = "handshake failed",
                                      .last_error = "reload: exit status 1",
                                      .last_error_version_id = "",
                                      .updated_at = absl::FromUnixNanos(5)};
  EXPECT_THAT(store->ListAllTargetStates(),
              IsOkAndHolds(ElementsAre(migrated)));
  const AgentRecord agent = {.id = "agt-1",
                             .hostname = "edge-1",
                             .labels = {{"pool", "eu"}},
                             .enrolled_at = absl::FromUnixNanos(1),
                             .last_seen_at = absl::FromUnixNanos(2),
                             .identity_serial = "0a",
                             .identity_not_after = absl::FromUnixNanos(3),
                             .token_id = "tok"};
  EXPECT_THAT(store->GetAgent("agt-1"), IsOkAndHolds(Optional(agent)));
  EXPECT_THAT(store->AddVersion({.cert_name = "web"}), IsOkAndHolds(2));

  // The new column and tables work.
  TargetStateRecord failed = migrated;
  failed.last_error_version_id = "web/2";
  ASSERT_OK(store->PutTargetState(failed));
  EXPECT_THAT(store->ListTargetStates("agt-1"),
              IsOkAndHolds(ElementsAre(failed)));
  ASSERT_OK(store->CreateRollout(Rollout("ro-1", "web")));
  ASSERT_OK(store->AppendAudit({.actor = "admin:alice",
                                .action = "rollout.start",
                                .certificate = "web",
                                .result = "ok"}));
}

TEST_F(SqliteRolloutTest, RolloutsAndAuditSurviveCloseAndReopen) {
  RolloutRecord rollout = Rollout("ro-1", "web");
  int64_t audit_id = 0;
  {
    std::unique_ptr<SqliteStore> store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(rollout, store->CreateRollout(rollout));
    rollout.phase = "baking";
    ASSERT_OK_AND_ASSIGN(rollout.revision, store->SaveRollout(rollout));
    ASSERT_OK_AND_ASSIGN(audit_id,
                         store->AppendAudit({.actor = "coordinator",
                                             .action = "rollout.start",
                                             .certificate = "web",
                                             .result = "ok"}));
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->ActiveRollout("web"), IsOkAndHolds(Optional(rollout)));
  EXPECT_EQ(rollout.revision, 2);
  // Ids carry on after a reopen.
  EXPECT_THAT(store->AppendAudit({.actor = "coordinator",
                                  .action = "rollout.complete",
                                  .result = "ok"}),
              IsOkAndHolds(audit_id + 1));
}

TEST_F(SqliteRolloutTest, TwoConnectionsCreateOneUnfinishedRollout) {
  std::unique_ptr<SqliteStore> a = OpenOrDie();
  std::unique_ptr<SqliteStore> b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const std::string certificate = absl::StrCat("cert-", round);
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      SqliteStore* store = t % 2 == 0 ? a.get() : b.get();
      threads.emplace_back([&, store, t] {
        absl::StatusOr<RolloutRecord> created = store->CreateRollout(
            Rollout(absl::StrCat("ro-", round, "-", t), certificate));
        if (created.ok()) {
          ++winners;
        } else {
          EXPECT_THAT(created.status(),
                      StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("already has an unfinished rollout")));
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(winners.load(), 1) << certificate;
  }
}

TEST_F(SqliteRolloutTest, TwoConnectionsSaveOneRevisionOnce) {
  std::unique_ptr<SqliteStore> a = OpenOrDie();
  std::unique_ptr<SqliteStore> b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK_AND_ASSIGN(RolloutRecord read,
                       a->CreateRollout(Rollout("ro-1", "web")));
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      SqliteStore* store = t % 2 == 0 ? a.get() : b.get();
      threads.emplace_back([&, store, t] {
        RolloutRecord mine = read;
        mine.phase = absl::StrCat("round-", round, "-", t);
        absl::StatusOr<int64_t> saved = store->SaveRollout(mine);
        if (saved.ok()) {
          ++winners;
        } else {
          EXPECT_EQ(saved.status().code(), absl::StatusCode::kAborted)
              << saved.status();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    ASSERT_OK_AND_ASSIGN(std::optional<RolloutRecord> stored,
                         b->GetRollout("ro-1"));
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->revision, read.revision + 1);
    read = *stored;
  }
}

TEST_F(SqliteRolloutTest, DatabaseRefusesASecondUnfinishedRolloutItself) {
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->CreateRollout(Rollout("ro-1", "web")));
  RawSqlite raw(path_);
  // What a buggy writer (or an operator) bypassing CreateRollout would do.
  EXPECT_THAT(
      raw.Exec("INSERT INTO rollouts VALUES ('ro-2', 'web', 'rollout', '', "
               "'web/3', 'pending', 1, 1, 0, 1, '{}')"),
      StatusIs(absl::StatusCode::kInternal,
               HasSubstr("UNIQUE constraint failed: rollouts.certificate")));
  ASSERT_OK(
      raw.Exec("INSERT INTO rollouts VALUES ('ro-3', 'web', 'rollout', '', "
               "'web/3', 'aborted', 1, 1, 1, 1, '{}')"));
  EXPECT_THAT(
      raw.Exec("INSERT INTO rollouts VALUES ('ro-4', 'api', 'deploy', '', "
               "'api/3', 'pending', 1, 1, 0, 1, '{}')"),
      StatusIs(absl::StatusCode::kInternal, HasSubstr("CHECK constraint")));
}

TEST_F(SqliteRolloutTest, AuditLogIsAppendOnlyEvenForTheCli) {
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  const AuditRecord record = {.at = absl::FromUnixSeconds(1'700'000'000),
                              .actor = "admin:alice",
                              .action = "rollout.abort",
                              .certificate = "web",
                              .result = "ok"};
  ASSERT_OK_AND_ASSIGN(int64_t id, store->AppendAudit(record));
  RawSqlite raw(path_);
  EXPECT_THAT(raw.Exec("UPDATE audit_log SET result = 'forged'"),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("audit_log is append-only")));
  EXPECT_THAT(raw.Exec("DELETE FROM audit_log"),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("audit_log is append-only")));
  AuditRecord stored = record;
  stored.id = id;
  EXPECT_THAT(store->ListAudit({}), IsOkAndHolds(ElementsAre(stored)));
}

TEST_F(SqliteRolloutTest, ColumnsAreReadableWithTheSqliteCli) {
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(RolloutRecord rollout,
                       store->CreateRollout(Rollout("ro-1", "web")));
  rollout.finished = true;
  rollout.phase = "complete";
  ASSERT_OK(store->SaveRollout(rollout));
  ASSERT_OK(store->PutTargetState({.agent_id = "agt-1",
                                   .target = "nginx",
                                   .last_error = "x",
                                   .last_error_version_id = "web/2"}));
  RawSqlite raw(path_);
  EXPECT_THAT(raw.QueryText("SELECT state_json FROM rollouts"),
              IsOkAndHolds(R"({"phase":"pending"})"));
  EXPECT_THAT(raw.QueryText("SELECT typeof(state_json) FROM rollouts"),
              IsOkAndHolds("text"));
  EXPECT_THAT(raw.QueryInt("SELECT finished FROM rollouts"), IsOkAndHolds(1));
  EXPECT_THAT(raw.QueryInt("SELECT revision FROM rollouts"), IsOkAndHolds(2));
  EXPECT_THAT(raw.QueryText("SELECT last_error_version_id FROM target_states"),
              IsOkAndHolds("web/2"));
}

}  // namespace
}  // namespace certfleet::store
