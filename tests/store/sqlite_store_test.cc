// SqliteStore: the store contract, plus what only a file-backed store has —
// persistence, file modes, migrations, SQLite errors and crash recovery.
#include "coordinator/store/sqlite_store.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "coordinator/store/migrations.h"
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
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Optional;

// Each contract test gets a fresh database file in one per-process directory
// (removed at exit).
std::unique_ptr<Store> NewSqliteStore() {
  static TempDir dir("sqlite-contract");
  static std::atomic<int> counter{0};
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(dir.File(absl::StrCat("state-", counter++, ".db")));
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return *std::move(store);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreFactory(NewSqliteStore)));

VersionRecord Version(const std::string& cert_name) {
  return {.cert_name = cert_name,
          .issuer = "pebble",
          .names = {"web.example.", "*.web.example."},
          .key_type = "ec256",
          .not_before = absl::FromUnixSeconds(1'700'000'000),
          .not_after = absl::FromUnixNanos(1'707'776'000'000'000'001),
          .key_sealed = std::string("k\0y", 3)};
}

OrderRecord Order(const std::string& cert_name) {
  return {.cert_name = cert_name,
          .issuer = "pebble",
          .order_url = "https://127.0.0.1:14000/my-order/1",
          .names = {"web.example."},
          .stage = "placed",
          .dns_records = {{.provider = "bind",
                           .zone = "web.example.",
                           .fqdn = "_acme-challenge.web.example.",
                           .value = "token"}}};
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> OpenOrDie(SqliteOptions options = {}) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path_, options);
    EXPECT_THAT(store, ::certfleet::testing::IsOk());
    return store.ok() ? *std::move(store) : nullptr;
  }

  TempDir dir_{"sqlite-store"};
  const std::string path_ = dir_.File("state.db");
};

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  const AccountRecord account = {.issuer = "pebble",
                                 .key_sealed = std::string("\0\1", 2),
                                 .contacts = {"mailto:ops@example.com"},
                                 .updated_at = absl::InfiniteFuture()};
  const CertificateState state = {.name = "web", .consecutive_failures = 2};
  {
    std::unique_ptr<SqliteStore> store =
        OpenOrDie({.sync = SqliteOptions::Sync::kFull});
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->PutAccount(account));
    ASSERT_OK(store->PutCertificateState(state));
    ASSERT_OK(store->AddVersion(Version("web")));
    ASSERT_OK(store->MarkVersionRevoked("web", 1, absl::FromUnixSeconds(5),
                                        "superseded"));
    ASSERT_OK(store->PutOrder(Order("web")));
  }
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->GetAccount("pebble"), IsOkAndHolds(Optional(account)));
  EXPECT_THAT(store->GetCertificateState("web"), IsOkAndHolds(Optional(state)));
  VersionRecord version = Version("web");
  version.version = 1;
  version.revoked_at = absl::FromUnixSeconds(5);
  version.revocation_reason = "superseded";
  EXPECT_THAT(store->GetVersion("web", 1), IsOkAndHolds(Optional(version)));
  EXPECT_THAT(store->GetOrder("web"), IsOkAndHolds(Optional(Order("web"))));
  // Numbering continues from the stored versions.
  EXPECT_THAT(store->AddVersion(Version("web")), IsOkAndHolds(2));
}

TEST_F(SqliteStoreTest, FilesAreMode0600WhateverTheUmask) {
  const mode_t old_umask = umask(022);
  absl::Cleanup restore = [old_umask] { umask(old_umask); };
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddVersion(Version("web")));  // writes the WAL
  EXPECT_EQ(ModeOf(path_), 0600u);
  EXPECT_EQ(ModeOf(path_ + "-wal"), 0600u);
  EXPECT_EQ(ModeOf(path_ + "-shm"), 0600u);
}

TEST_F(SqliteStoreTest, ExistingFileWithLooseModeIsTightened) {
  testing::WriteFileOrDie(path_, "", 0644);
  ASSERT_NE(OpenOrDie(), nullptr);
  EXPECT_EQ(ModeOf(path_), 0600u);
}

TEST_F(SqliteStoreTest, MigrationsAreAppliedOnce) {
  const std::string kRows =
      "SELECT group_concat(version || '@' || applied_at, ',') FROM "
      "schema_migrations";
  ASSERT_NE(OpenOrDie(), nullptr);
  std::string rows_after_first_open;
  {
    RawSqlite raw(path_);
    EXPECT_THAT(raw.QueryInt("SELECT COUNT(*) FROM schema_migrations"),
                IsOkAndHolds(LatestSchemaVersion()));
    EXPECT_THAT(raw.QueryInt("SELECT MAX(version) FROM schema_migrations"),
                IsOkAndHolds(LatestSchemaVersion()));
    ASSERT_OK_AND_ASSIGN(rows_after_first_open, raw.QueryText(kRows));
  }
  ASSERT_NE(OpenOrDie(), nullptr);
  RawSqlite raw(path_);
  EXPECT_THAT(raw.QueryText(kRows), IsOkAndHolds(rows_after_first_open));
  EXPECT_EQ(LatestSchemaVersion(), 6);  // update with the next migration
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  ASSERT_NE(OpenOrDie(), nullptr);
  const int64_t newer = LatestSchemaVersion() + 1;
  {
    RawSqlite raw(path_);
    ASSERT_OK(raw.Exec(absl::StrCat("INSERT INTO schema_migrations VALUES (",
                                    newer, ", 'future')")));
  }
  EXPECT_THAT(
      SqliteStore::Open(path_),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr(absl::StrFormat(
                   "database %s has schema version %d, newer than this "
                   "coordinator supports (%d); upgrade certfleet-coordinator",
                   path_, newer, LatestSchemaVersion()))));
}

TEST_F(SqliteStoreTest, MissingParentDirectoryIsNotFound) {
  const std::string path = dir_.File("missing/state.db");
  EXPECT_THAT(SqliteStore::Open(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
}

TEST_F(SqliteStoreTest, UnwritableDirectoryIsPermissionDenied) {
  const std::string read_only = dir_.File("ro");
  ASSERT_EQ(mkdir(read_only.c_str(), 0555), 0);
  ASSERT_EQ(chmod(read_only.c_str(), 0555), 0);
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  const std::string path = read_only + "/state.db";
  if (geteuid() != 0) {
    EXPECT_THAT(SqliteStore::Open(path),
                StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(path)));
    return;
  }
  // Root writes anywhere: check as "nobody", in a child. Exit codes say what
  // went wrong (no gtest assertions in the child).
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(20);
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path);
    if (store.ok()) _exit(21);
    if (store.status().code() != absl::StatusCode::kPermissionDenied) _exit(22);
    if (!absl::StrContains(store.status().message(), path)) _exit(23);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  if (WEXITSTATUS(wstatus) == 20) GTEST_SKIP() << "cannot setuid(nobody)";
  EXPECT_EQ(WEXITSTATUS(wstatus), 0)
      << "21: opened; 22: wrong status code; 23: message lacks the path";
}

TEST_F(SqliteStoreTest, NotADatabaseIsDataLoss) {
  testing::WriteFileOrDie(path_, std::string(4096, 'x'), 0600);
  EXPECT_THAT(
      SqliteStore::Open(path_),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr(path_), HasSubstr("file is not a database"))));
}

TEST_F(SqliteStoreTest, WriteLockHeldElsewhereIsUnavailable) {
  std::unique_ptr<SqliteStore> store =
      OpenOrDie({.busy_timeout = absl::Milliseconds(10)});
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->PutOrder(Order("web")));
  RawSqlite other(path_);
  ASSERT_OK(other.Exec("BEGIN IMMEDIATE"));  // holds the write lock

  EXPECT_THAT(
      store->AddVersion(Version("web")),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("store: add version web: database is locked")));
  EXPECT_THAT(store->PutOrder(Order("api")),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("store: put order api: database is locked")));
  // Reads go on under WAL.
  EXPECT_THAT(store->GetOrder("web"), IsOkAndHolds(Optional(Order("web"))));

  ASSERT_OK(other.Exec("ROLLBACK"));
  // Nothing of the failed call remains, and no transaction was left open.
  EXPECT_THAT(store->AddVersion(Version("web")), IsOkAndHolds(1));
  EXPECT_THAT(store->GetOrder("web"), IsOkAndHolds(std::nullopt));
}

TEST_F(SqliteStoreTest, KilledWriterLeavesARecoverableDatabase) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child writes, then dies without closing the connection: the
    // commits are only in the WAL, never checkpointed into the main file.
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path_);
    if (!store.ok()) _exit(10);
    if (!(*store)->PutOrder(Order("web")).ok()) _exit(11);
    if (!(*store)->PutOrder(Order("api")).ok()) _exit(12);
    if (!(*store)->AddVersion(Version("web")).ok()) _exit(13);
    raise(SIGKILL);
    _exit(14);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus))
      << "child exited with " << WEXITSTATUS(wstatus);
  ASSERT_EQ(WTERMSIG(wstatus), SIGKILL);
  struct stat wal;
  ASSERT_EQ(stat((path_ + "-wal").c_str(), &wal), 0);
  EXPECT_GT(wal.st_size, 0);

  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  VersionRecord version = Version("web");
  version.version = 1;
  EXPECT_THAT(store->LatestVersion("web"), IsOkAndHolds(Optional(version)));
  EXPECT_THAT(store->GetOrder("web"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store->GetOrder("api"), IsOkAndHolds(Optional(Order("api"))));
  EXPECT_THAT(store->AddVersion(Version("web")), IsOkAndHolds(2));
}

TEST_F(SqliteStoreTest, TwoConnectionsNumberVersionsWithoutGaps) {
  std::unique_ptr<SqliteStore> a = OpenOrDie();
  std::unique_ptr<SqliteStore> b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kThreadsPerStore = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<int64_t>> assigned(2 * kThreadsPerStore);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerStore; ++t) {
    SqliteStore* store = t % 2 == 0 ? a.get() : b.get();
    threads.emplace_back([store, t, &assigned] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<int64_t> number = store->AddVersion(Version("web"));
        EXPECT_THAT(number, ::certfleet::testing::IsOk());
        if (number.ok()) assigned[t].push_back(*number);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<int64_t> all;
  for (const auto& numbers : assigned) {
    all.insert(all.end(), numbers.begin(), numbers.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(2 * kThreadsPerStore * kPerThread);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
  EXPECT_EQ(all, expected);
}

TEST_F(SqliteStoreTest, ColumnsAreReadableWithTheSqliteCli) {
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->AddVersion(Version("web")));
  ASSERT_OK(store->PutOrder(Order("api")));
  RawSqlite raw(path_);
  EXPECT_THAT(raw.QueryText("SELECT names FROM versions"),
              IsOkAndHolds(R"(["web.example.","*.web.example."])"));
  EXPECT_THAT(raw.QueryText("SELECT typeof(key_sealed) FROM versions"),
              IsOkAndHolds("blob"));
  EXPECT_THAT(raw.QueryInt("SELECT length(key_sealed) FROM versions"),
              IsOkAndHolds(3));
  EXPECT_THAT(raw.QueryInt("SELECT revoked_at FROM versions"),
              IsOkAndHolds(INT64_MIN));
  EXPECT_THAT(raw.QueryInt("SELECT not_after FROM versions"),
              IsOkAndHolds(1'707'776'000'000'000'001));
  EXPECT_THAT(raw.QueryText("SELECT dns_records FROM orders"),
              IsOkAndHolds(R"([{"fqdn":"_acme-challenge.web.example.",)"
                           R"("provider":"bind","value":"token",)"
                           R"("zone":"web.example."}])"));
}

TEST_F(SqliteStoreTest, UnreadableJsonColumnIsDataLoss) {
  std::unique_ptr<SqliteStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->PutOrder(Order("web")));
  RawSqlite raw(path_);
  ASSERT_OK(raw.Exec("UPDATE orders SET dns_records = '[{\"zone\": 1}]'"));
  EXPECT_THAT(store->GetOrder("web"),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("store: get order web"),
                             HasSubstr("column dns_records"))));
  ASSERT_OK(raw.Exec("UPDATE orders SET names = 'not json'"));
  EXPECT_THAT(store->ListOrders(),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("store: list orders"),
                             HasSubstr("column names"))));
}

}  // namespace
}  // namespace certfleet::store
