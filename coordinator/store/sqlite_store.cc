#include "coordinator/store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/filesystem.h"
#include "common/status_macros.h"
#include "coordinator/store/migrations.h"
#include "coordinator/store/sqlite_row.h"
#include "coordinator/store/sqlite_statement.h"

namespace certfleet::store {

struct SqliteStore::Statements {
  StatementPtr begin, commit, rollback;
  StatementPtr get_account, put_account, list_accounts;
  StatementPtr get_state, put_state, list_states;
  StatementPtr next_version, insert_version, get_version, latest_version,
      list_versions, revoke_version, delete_version, versioned_certificates;
  StatementPtr get_order, put_order, delete_order, list_orders;
};

namespace {

// Creates `path` with mode 0600 before SQLite opens it, because SQLite would
// create it honouring the umask; SQLite gives -wal and -shm the database
// file's mode. An existing file (and companions) is tightened to 0600.
absl::Status CreatePrivateFile(const std::string& path) {
  const std::string context = absl::StrCat("store: database ", path);
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(
          absl::StrCat(context, ": directory ", dir, " does not exist"));
    }
    return Annotate(ErrnoStatus(errno, "stat directory", dir), context);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat(context, ": ", dir, " is not a directory"));
  }
  // SQLite creates the -wal and -shm files next to the database.
  if (faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(context, ": directory ", dir, " is not writable"));
  }
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Annotate(ErrnoStatus(errno, "open", path), context);
  absl::Status status = absl::OkStatus();
  if (fstat(fd, &st) != 0) {
    status = ErrnoStatus(errno, "stat", path);
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::FailedPreconditionError("not a regular file");
  } else if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
    status = ErrnoStatus(errno, "chmod 0600", path);
  }
  close(fd);
  RETURN_IF_ERROR(Annotate(status, context));
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string companion = path + suffix;
    if (stat(companion.c_str(), &st) == 0 && (st.st_mode & 07777) != 0600 &&
        chmod(companion.c_str(), 0600) != 0) {
      return Annotate(ErrnoStatus(errno, "chmod 0600", companion), context);
    }
  }
  return absl::OkStatus();
}

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

// WAL mode, synchronous level, foreign keys. journal_mode answers with the
// mode in force, which stays "delete" where WAL is impossible.
absl::Status Configure(sqlite3* db, const std::string& path,
                       const SqliteOptions& options) {
  const std::string op = absl::StrCat("open database ", path);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(
      db, static_cast<int>(std::clamp<int64_t>(
              absl::ToInt64Milliseconds(options.busy_timeout), 0, INT32_MAX)));
  std::string mode;
  char* error = nullptr;
  int rc = sqlite3_exec(
      db, "PRAGMA journal_mode = WAL",
      [](void* out, int columns, char** values, char**) {
        if (columns > 0 && values[0] != nullptr) {
          *static_cast<std::string*>(out) = values[0];
        }
        return 0;
      },
      &mode, &error);
  sqlite3_free(error);  // the same text as sqlite3_errmsg
  if (rc != SQLITE_OK) return SqliteError(sqlite3_extended_errcode(db), db, op);
  if (mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat(
        "store: ", op, ": cannot use WAL journal mode (got \"", mode, "\")"));
  }
  // Negative: in KiB.
  const std::string cache_size =
      absl::StrCat("PRAGMA cache_size = -",
                   std::max<int64_t>(options.page_cache_bytes / 1024, 1));
  RETURN_IF_ERROR(Exec(db, cache_size.c_str(), op));
  return Exec(db,
              options.sync == SqliteOptions::Sync::kFull
                  ? "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON"
                  : "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
              op);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore::Statements>>
SqliteStore::PrepareStatements(sqlite3* db) {
  auto s = std::make_unique<Statements>();
  const std::pair<StatementPtr*, std::string> sql[] = {
      {&s->begin, "BEGIN IMMEDIATE"},
      {&s->commit, "COMMIT"},
      {&s->rollback, "ROLLBACK"},
      {&s->get_account, absl::StrCat(SelectFrom<AccountRecord>("accounts"),
                                     " WHERE issuer = ?")},
      {&s->list_accounts,
       absl::StrCat(SelectFrom<AccountRecord>("accounts"), " ORDER BY issuer")},
      {&s->put_account,
       InsertRow<AccountRecord>("INSERT OR REPLACE INTO accounts")},
      {&s->get_state,
       absl::StrCat(SelectFrom<CertificateState>("certificate_state"),
                    " WHERE name = ?")},
      {&s->put_state,
       InsertRow<CertificateState>("INSERT OR REPLACE INTO certificate_state")},
      {&s->list_states,
       absl::StrCat(SelectFrom<CertificateState>("certificate_state"),
                    " ORDER BY name")},
      {&s->next_version,
       "SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE cert_name = "
       "?"},
      {&s->insert_version, InsertRow<VersionRecord>("INSERT INTO versions")},
      {&s->get_version, absl::StrCat(SelectFrom<VersionRecord>("versions"),
                                     " WHERE cert_name = ? AND version = ?")},
      {&s->latest_version,
       absl::StrCat(SelectFrom<VersionRecord>("versions"),
                    " WHERE cert_name = ? ORDER BY version DESC "
                    "LIMIT 1")},
      {&s->list_versions,
       absl::StrCat(SelectFrom<VersionRecord>("versions"),
                    " WHERE cert_name = ? ORDER BY version DESC")},
      {&s->versioned_certificates,
       "SELECT DISTINCT cert_name FROM versions ORDER BY cert_name"},
      {&s->revoke_version,
       "UPDATE versions SET revoked_at = ?, revocation_reason = ? "
       "WHERE cert_name = ? AND version = ?"},
      // Never the newest: the next number is MAX + 1.
      {&s->delete_version,
       "DELETE FROM versions WHERE cert_name = ?1 AND version = ?2 AND "
       "version < (SELECT MAX(version) FROM versions WHERE cert_name = ?1)"},
      {&s->get_order,
       absl::StrCat(SelectFrom<OrderRecord>("orders"), " WHERE cert_name = ?")},
      {&s->put_order, InsertRow<OrderRecord>("INSERT OR REPLACE INTO orders")},
      {&s->delete_order, "DELETE FROM orders WHERE cert_name = ?"},
      {&s->list_orders,
       absl::StrCat(SelectFrom<OrderRecord>("orders"), " ORDER BY cert_name")},
  };
  for (const auto& [target, text] : sql) {
    ASSIGN_OR_RETURN(*target, Prepare(db, text));
  }
  return s;
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, SqliteOptions options) {
  RETURN_IF_ERROR(CreatePrivateFile(path));
  sqlite3* raw = nullptr;
  // No SQLITE_OPEN_CREATE: the file exists now, with the right mode.
  // NOMUTEX: the store's own mutex serialises use of the connection.
  int rc = sqlite3_open_v2(
      path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, DbCloser> db(raw);
  if (rc != SQLITE_OK) {
    return SqliteError(rc, raw, absl::StrCat("open database ", path));
  }
  RETURN_IF_ERROR(Configure(db.get(), path, options));
  RETURN_IF_ERROR(ApplyMigrations(db.get(), path));
  ASSIGN_OR_RETURN(std::unique_ptr<Statements> statements,
                   PrepareStatements(db.get()));
  ASSIGN_OR_RETURN(FleetStatementsPtr fleet_statements,
                   PrepareFleetStatements(db.get()));
  ASSIGN_OR_RETURN(RolloutStatementsPtr rollout_statements,
                   PrepareRolloutStatements(db.get()));
  return std::unique_ptr<SqliteStore>(new SqliteStore(
      path, db.release(), std::move(statements), std::move(fleet_statements),
      std::move(rollout_statements)));
}

SqliteStore::SqliteStore(std::string path, sqlite3* db,
                         std::unique_ptr<Statements> statements,
                         FleetStatementsPtr fleet_statements,
                         RolloutStatementsPtr rollout_statements)
    : path_(std::move(path)),
      db_(db),
      stmts_(std::move(statements)),
      fleet_(std::move(fleet_statements)),
      rollouts_(std::move(rollout_statements)) {}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mu_);
  stmts_.reset();  // finalize before closing
  fleet_.reset();
  rollouts_.reset();
  sqlite3_close_v2(db_);
}

// Rolls back the open transaction, if any; used after a failed step.
void SqliteStore::RollbackLocked() {
  if (sqlite3_get_autocommit(db_) != 0) return;  // none open
  StatementRun run(stmts_->rollback.get());
  run.Step();  // on failure SQLite has already rolled back
}

absl::StatusOr<std::optional<AccountRecord>> SqliteStore::GetAccount(
    const std::string& issuer) {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->get_account.get());
  run.Text(issuer);
  return QueryOne(db_, run, &ReadRow<AccountRecord>,
                  [&] { return absl::StrCat("get account ", issuer); });
}

absl::StatusOr<std::vector<AccountRecord>> SqliteStore::ListAccounts() {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->list_accounts.get());
  return QueryAll(db_, run, &ReadRow<AccountRecord>,
                  [] { return std::string("list accounts"); });
}

namespace {
absl::StatusOr<std::string> ReadFirstText(const StatementRun& row) {
  return row.ColumnText(0);
}
}  // namespace

absl::StatusOr<std::vector<std::string>>
SqliteStore::ListVersionedCertificates() {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->versioned_certificates.get());
  return QueryAll(db_, run, &ReadFirstText,
                  [] { return std::string("list versioned certificates"); });
}

absl::Status SqliteStore::PutAccount(const AccountRecord& account) {
  auto op = [&] { return absl::StrCat("put account ", account.issuer); };
  ASSIGN_OR_RETURN(RowValues<AccountRecord> row, EncodeRow(account, op));
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->put_account.get());
  row.Bind(run);
  return Execute(db_, run, op);
}

absl::StatusOr<std::optional<CertificateState>>
SqliteStore::GetCertificateState(const std::string& name) {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->get_state.get());
  run.Text(name);
  return QueryOne(db_, run, &ReadRow<CertificateState>,
                  [&] { return absl::StrCat("get certificate state ", name); });
}

absl::Status SqliteStore::PutCertificateState(const CertificateState& state) {
  auto op = [&] { return absl::StrCat("put certificate state ", state.name); };
  ASSIGN_OR_RETURN(RowValues<CertificateState> row, EncodeRow(state, op));
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->put_state.get());
  row.Bind(run);
  return Execute(db_, run, op);
}

absl::StatusOr<std::vector<CertificateState>>
SqliteStore::ListCertificateStates() {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->list_states.get());
  return QueryAll(db_, run, &ReadRow<CertificateState>,
                  [] { return std::string("list certificate states"); });
}

absl::StatusOr<int64_t> SqliteStore::AddVersion(const VersionRecord& v) {
  int64_t number = 0;  // named in errors once known
  auto op = [&] {
    return number == 0 ? absl::StrCat("add version ", v.cert_name)
                       : absl::StrCat("add version ", v.cert_name, "#", number);
  };
  VersionRecord stored = v;  // its number is assigned below
  ASSIGN_OR_RETURN(RowValues<VersionRecord> row, EncodeRow(stored, op));
  absl::MutexLock lock(&mu_);
  // IMMEDIATE takes the write lock up front, so no other connection can
  // claim the same number between the SELECT and the INSERT.
  {
    StatementRun begin(stmts_->begin.get());
    RETURN_IF_ERROR(Execute(db_, begin, op));
  }
  // Runs at once, under mu_ (the annotation says so to the lock analysis).
  absl::Status status = [&]()
                            ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    {
      StatementRun next(stmts_->next_version.get());
      next.Text(v.cert_name);
      int rc = next.Step();
      if (rc != SQLITE_ROW) return SqliteError(rc, db_, op());
      number = next.ColumnInt(0);
    }
    {
      StatementRun insert(stmts_->insert_version.get());
      stored.version = number;
      row.Bind(insert);
      RETURN_IF_ERROR(Execute(db_, insert, op));
    }
    {
      StatementRun delete_order(stmts_->delete_order.get());
      delete_order.Text(v.cert_name);
      RETURN_IF_ERROR(Execute(db_, delete_order, op));
    }
    StatementRun commit(stmts_->commit.get());
    return Execute(db_, commit, op);
  }();
  if (!status.ok()) {
    RollbackLocked();
    return status;
  }
  return number;
}

absl::StatusOr<std::optional<VersionRecord>> SqliteStore::GetVersion(
    const std::string& cert_name, int64_t version) {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->get_version.get());
  run.Text(cert_name).Int(version);
  return QueryOne(db_, run, &ReadRow<VersionRecord>, [&] {
    return absl::StrCat("get version ", cert_name, "#", version);
  });
}

absl::StatusOr<std::optional<VersionRecord>> SqliteStore::LatestVersion(
    const std::string& cert_name) {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->latest_version.get());
  run.Text(cert_name);
  return QueryOne(db_, run, &ReadRow<VersionRecord>, [&] {
    return absl::StrCat("latest version of ", cert_name);
  });
}

absl::StatusOr<std::vector<VersionRecord>> SqliteStore::ListVersions(
    const std::string& cert_name) {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->list_versions.get());
  run.Text(cert_name);
  return QueryAll(db_, run, &ReadRow<VersionRecord>,
                  [&] { return absl::StrCat("list versions of ", cert_name); });
}

absl::Status SqliteStore::MarkVersionRevoked(const std::string& cert_name,
                                             int64_t version, absl::Time when,
                                             const std::string& reason) {
  auto op = [&] {
    return absl::StrCat("mark version ", cert_name, "#", version, " revoked");
  };
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->revoke_version.get());
  run.Time(when).Text(reason).Text(cert_name).Int(version);
  RETURN_IF_ERROR(Execute(db_, run, op));
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(
        absl::StrCat("store: ", op(), ": no such version"));
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::DeleteVersion(const std::string& cert_name,
                                        int64_t version) {
  auto op = [&] {
    return absl::StrCat("delete version ", cert_name, "#", version);
  };
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->delete_version.get());
  run.Text(cert_name).Int(version);
  RETURN_IF_ERROR(Execute(db_, run, op));
  if (sqlite3_changes(db_) == 1) return absl::OkStatus();
  // Nothing deleted: missing, or the newest.
  StatementRun get(stmts_->get_version.get());
  get.Text(cert_name).Int(version);
  ASSIGN_OR_RETURN(std::optional<VersionRecord> existing,
                   QueryOne(db_, get, &ReadRow<VersionRecord>, op));
  if (!existing.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("store: ", op(), ": no such version"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "store: ", op(), ": it is the newest version, which is kept"));
}

absl::StatusOr<std::optional<OrderRecord>> SqliteStore::GetOrder(
    const std::string& cert_name) {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->get_order.get());
  run.Text(cert_name);
  return QueryOne(db_, run, &ReadRow<OrderRecord>,
                  [&] { return absl::StrCat("get order ", cert_name); });
}

absl::Status SqliteStore::PutOrder(const OrderRecord& order) {
  auto op = [&] { return absl::StrCat("put order ", order.cert_name); };
  ASSIGN_OR_RETURN(RowValues<OrderRecord> row, EncodeRow(order, op));
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->put_order.get());
  row.Bind(run);
  return Execute(db_, run, op);
}

absl::Status SqliteStore::DeleteOrder(const std::string& cert_name) {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->delete_order.get());
  run.Text(cert_name);
  return Execute(db_, run,
                 [&] { return absl::StrCat("delete order ", cert_name); });
}

absl::StatusOr<std::vector<OrderRecord>> SqliteStore::ListOrders() {
  absl::MutexLock lock(&mu_);
  StatementRun run(stmts_->list_orders.get());
  return QueryAll(db_, run, &ReadRow<OrderRecord>,
                  [] { return std::string("list orders"); });
}

}  // namespace certfleet::store
