#include "coordinator/store/sqlite_statement.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace certfleet::store {

absl::StatusCode SqliteStatusCode(int rc) {
  switch (rc) {
    // Extended constraint codes first: they decide between "exists" and
    // "state is wrong".
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_ROWID:
      return absl::StatusCode::kAlreadyExists;
    case SQLITE_IOERR_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
    case SQLITE_IOERR:  // often transient (NFS, full queue); retrying is safe
      return absl::StatusCode::kUnavailable;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_CONSTRAINT:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_TOOBIG:
      return absl::StatusCode::kInvalidArgument;
    case SQLITE_INTERRUPT:
      return absl::StatusCode::kCancelled;
    case SQLITE_SCHEMA:
      return absl::StatusCode::kAborted;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status SqliteError(int rc, sqlite3* db, absl::string_view op) {
  // The connection's message is more specific ("UNIQUE constraint failed:
  // versions.cert_name, versions.version") but only describes `rc` when it
  // was the connection's last error.
  const char* message = (db != nullptr && sqlite3_extended_errcode(db) == rc)
                            ? sqlite3_errmsg(db)
                            : sqlite3_errstr(rc);
  return absl::Status(SqliteStatusCode(rc),
                      absl::StrCat("store: ", op, ": ", message));
}

int64_t TimeToUnixNanos(absl::Time t) {
  if (t == absl::InfinitePast()) return std::numeric_limits<int64_t>::min();
  if (t == absl::InfiniteFuture()) return std::numeric_limits<int64_t>::max();
  return absl::ToUnixNanos(t);
}

absl::Time UnixNanosToTime(int64_t nanos) {
  if (nanos == std::numeric_limits<int64_t>::min()) return absl::InfinitePast();
  if (nanos == std::numeric_limits<int64_t>::max()) {
    return absl::InfiniteFuture();
  }
  return absl::FromUnixNanos(nanos);
}

absl::StatusOr<StatementPtr> Prepare(sqlite3* db, absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(rc, db, absl::StrCat("prepare \"", sql, "\""));
  }
  return StatementPtr(stmt);
}

absl::Status Exec(sqlite3* db, const char* sql, absl::string_view op) {
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return absl::Status(SqliteStatusCode(sqlite3_extended_errcode(db)),
                      absl::StrCat("store: ", op, ": ", message));
}

absl::Status Execute(sqlite3* db, StatementRun& run, OpName op) {
  int rc = run.Step();
  if (rc != SQLITE_DONE) return SqliteError(rc, db, op());
  return absl::OkStatus();
}

StatementRun::~StatementRun() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

StatementRun& StatementRun::Text(absl::string_view value) {
  // A null pointer would bind NULL instead of an empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  Check(sqlite3_bind_text64(stmt_, next_param_++, data, value.size(),
                            SQLITE_STATIC, SQLITE_UTF8));
  return *this;
}

StatementRun& StatementRun::Blob(absl::string_view value) {
  // A null pointer would bind NULL instead of an empty blob.
  const char* data = value.data() != nullptr ? value.data() : "";
  Check(sqlite3_bind_blob64(stmt_, next_param_++, data, value.size(),
                            SQLITE_STATIC));
  return *this;
}

StatementRun& StatementRun::Int(int64_t value) {
  Check(sqlite3_bind_int64(stmt_, next_param_++, value));
  return *this;
}

StatementRun& StatementRun::Time(absl::Time value) {
  return Int(TimeToUnixNanos(value));
}

int StatementRun::Step() {
  if (bind_rc_ != SQLITE_OK) return bind_rc_;
  return sqlite3_step(stmt_);
}

std::string StatementRun::ColumnText(int i) const {
  const unsigned char* text = sqlite3_column_text(stmt_, i);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     sqlite3_column_bytes(stmt_, i));
}

std::string StatementRun::ColumnBlob(int i) const {
  const void* blob = sqlite3_column_blob(stmt_, i);
  if (blob == nullptr) return std::string();
  return std::string(static_cast<const char*>(blob),
                     sqlite3_column_bytes(stmt_, i));
}

int64_t StatementRun::ColumnInt(int i) const {
  return sqlite3_column_int64(stmt_, i);
}

absl::Time StatementRun::ColumnTime(int i) const {
  return UnixNanosToTime(ColumnInt(i));
}

}  // namespace certfleet::store
