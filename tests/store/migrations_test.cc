// Schema migrations of the SQLite store, on in-memory databases.
#include "coordinator/store/migrations.h"

#include <string>

#include "gmock/gmock.h"
#include "tests/store/raw_sqlite.h"
#include "tests/store/status_or_matchers.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::store {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

int64_t TableCount(RawSqlite& db, const std::string& name) {
  return *db.QueryInt(
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" +
      name + "'");
}

TEST(MigrationsTest, CompiledListIsNumberedWithoutGaps) {
  ASSERT_FALSE(AllMigrations().empty());
  for (size_t i = 0; i < AllMigrations().size(); ++i) {
    EXPECT_EQ(AllMigrations()[i].version, static_cast<int64_t>(i) + 1);
  }
  EXPECT_EQ(LatestSchemaVersion(), AllMigrations().back().version);
}

TEST(MigrationsTest, FreshDatabaseGetsEveryTableAndRecord) {
  RawSqlite db(":memory:");
  EXPECT_THAT(CurrentSchemaVersion(db.get()), IsOkAndHolds(0));
  ASSERT_OK(ApplyMigrations(db.get(), "mem.db"));
  for (const char* table :
       {"schema_migrations", "accounts", "certificate_state", "versions",
        "orders", "agents", "bootstrap_tokens", "internal_ca", "target_states",
        "rollouts", "audit_log"}) {
    EXPECT_EQ(TableCount(db, table), 1) << table;
  }
  EXPECT_THAT(CurrentSchemaVersion(db.get()),
              IsOkAndHolds(LatestSchemaVersion()));
  EXPECT_THAT(
      db.QueryText("SELECT applied_at FROM schema_migrations"),
      IsOkAndHolds(::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}"
                                           ":[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z")));
  // Applying again is a no-op (a rerun of migration 1 would fail: the tables
  // exist).
  ASSERT_OK(ApplyMigrations(db.get(), "mem.db"));
  EXPECT_THAT(db.QueryInt("SELECT COUNT(*) FROM schema_migrations"),
              IsOkAndHolds(LatestSchemaVersion()));
}

TEST(MigrationsTest, OnlyPendingMigrationsAreApplied) {
  const Migration first[] = {{1, "create a", "CREATE TABLE a (x)"}};
  const Migration both[] = {{1, "create a", "CREATE TABLE a (x)"},
                            {2, "create b", "CREATE TABLE b (y)"}};
  RawSqlite db(":memory:");
  ASSERT_OK(ApplyMigrations(db.get(), "mem.db", first));
  EXPECT_THAT(CurrentSchemaVersion(db.get()), IsOkAndHolds(1));
  ASSERT_OK(ApplyMigrations(db.get(), "mem.db", both));
  EXPECT_THAT(CurrentSchemaVersion(db.get()), IsOkAndHolds(2));
  EXPECT_EQ(TableCount(db, "b"), 1);
}

TEST(MigrationsTest, FailedMigrationIsRolledBackAndNamed) {
  const Migration broken[] = {
      {1, "create a", "CREATE TABLE a (x)"},
      {2, "create b, fill c", "CREATE TABLE b (y); INSERT INTO c VALUES (1)"}};
  RawSqlite db(":memory:");
  EXPECT_THAT(ApplyMigrations(db.get(), "/var/lib/certfleet/state.db", broken),
              StatusIs(absl::StatusCode::kInternal,
                       AllOf(HasSubstr("apply migration 2 (create b, fill c) "
                                       "to /var/lib/certfleet/state.db"),
                             HasSubstr("no such table: c"))));
  // Migration 1 stays; nothing of migration 2 does.
  EXPECT_THAT(CurrentSchemaVersion(db.get()), IsOkAndHolds(1));
  EXPECT_EQ(TableCount(db, "a"), 1);
  EXPECT_EQ(TableCount(db, "b"), 0);
  EXPECT_EQ(sqlite3_get_autocommit(db.get()), 1) << "transaction left open";

  const Migration fixed[] = {{1, "create a", "CREATE TABLE a (x)"},
                             {2, "create b", "CREATE TABLE b (y)"}};
  ASSERT_OK(ApplyMigrations(db.get(), "mem.db", fixed));
  EXPECT_THAT(CurrentSchemaVersion(db.get()), IsOkAndHolds(2));
}

TEST(MigrationsTest, NewerDatabaseIsRefused) {
  const Migration one[] = {{1, "create a", "CREATE TABLE a (x)"}};
  RawSqlite db(":memory:");
  ASSERT_OK(ApplyMigrations(db.get(), "mem.db", one));
  ASSERT_OK(db.Exec("INSERT INTO schema_migrations VALUES (3, 'later')"));
  EXPECT_THAT(
      ApplyMigrations(db.get(), "/srv/state.db", one),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "database /srv/state.db has schema version 3, newer than this "
               "coordinator supports (1); upgrade certfleet-coordinator"));
}

TEST(MigrationsTest, MisnumberedListIsRefused) {
  const Migration gap[] = {{1, "a", "CREATE TABLE a (x)"},
                           {3, "c", "CREATE TABLE c (x)"}};
  RawSqlite db(":memory:");
  EXPECT_THAT(ApplyMigrations(db.get(), "mem.db", gap),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("entry 1 has version 3")));
  EXPECT_EQ(TableCount(db, "a"), 0);
}

}  // namespace
}  // namespace certfleet::store
