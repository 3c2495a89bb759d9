// Thin helpers over the SQLite C API for the SQLite store: prepared statements
// compiled once and reused, one execution of a statement with its bindings,
// and the mapping of SQLite result codes to absl::Status.
//
//   ASSIGN_OR_RETURN(StatementPtr get, Prepare(db, "SELECT x FROM t WHERE
//   k=?"));
//   ...
//   StatementRun run(get.get());
//   run.Text(key);
//   int rc = run.Step();
//   if (rc == SQLITE_ROW) value = run.ColumnText(0);
//   else if (rc != SQLITE_DONE) return SqliteError(rc, db, "get x");
#ifndef CERTFLEET_COORDINATOR_STORE_SQLITE_STATEMENT_H_
#define CERTFLEET_COORDINATOR_STORE_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"

namespace certfleet::store {

// Status for SQLite result code `rc` (primary or extended) raised while doing
// `op` on `db` (may be null): "store: <op>: <sqlite message>". The code tells
// the caller what to do: SQLITE_BUSY/LOCKED → kUnavailable (retry),
// SQLITE_FULL/NOMEM → kResourceExhausted, SQLITE_CORRUPT/NOTADB → kDataLoss,
// unique/primary-key constraint → kAlreadyExists, other constraints →
// kFailedPrecondition, READONLY/PERM → kPermissionDenied, others → kInternal.
absl::Status SqliteError(int rc, sqlite3* db, absl::string_view op);

// The status code SqliteError uses for `rc`.
absl::StatusCode SqliteStatusCode(int rc);

// Times are stored as INTEGER unix nanoseconds (rounded down), with
// INT64_MIN / INT64_MAX standing for absl::InfinitePast / InfiniteFuture so
// both round-trip exactly. Finite times outside ±292 years of 1970 saturate.
int64_t TimeToUnixNanos(absl::Time t);
absl::Time UnixNanosToTime(int64_t nanos);

struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
// A compiled statement; finalized when released.
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Compiles `sql` (one statement) for repeated use (SQLITE_PREPARE_PERSISTENT).
absl::StatusOr<StatementPtr> Prepare(sqlite3* db, absl::string_view sql);

// Runs `sql` (any number of statements, no results) on `db`.
absl::Status Exec(sqlite3* db, const char* sql, absl::string_view op);

// One execution of a prepared statement. Parameters are bound in order (the
// first call binds ?1, the next ?2, …). Strings are bound without copying, so
// they must outlive this object. The destructor resets the statement and
// clears its bindings, leaving it ready for the next execution.
class StatementRun {
 public:
  explicit StatementRun(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementRun();
  StatementRun(const StatementRun&) = delete;
  StatementRun& operator=(const StatementRun&) = delete;

  StatementRun& Text(absl::string_view value);
  StatementRun& Blob(absl::string_view value);
  StatementRun& Int(int64_t value);
  StatementRun& Time(absl::Time value);

  // Steps once: SQLITE_ROW, SQLITE_DONE or an error code (the first failed
  // bind, if a bind failed).
  int Step();

  // Columns of the current row, counted from 0. NULL reads as "" / 0.
  std::string ColumnText(int i) const;
  std::string ColumnBlob(int i) const;
  int64_t ColumnInt(int i) const;
  absl::Time ColumnTime(int i) const;

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3_stmt* stmt_;
  int next_param_ = 1;
  int bind_rc_ = SQLITE_OK;
};

// Names the operation in an error message ("get order web"); called only when
// an error is reported, so the hot path builds no strings.
using OpName = absl::FunctionRef<std::string()>;

// Runs a statement that returns no rows.
absl::Status Execute(sqlite3* db, StatementRun& run, OpName op);

// Steps `run` once: the row read by `read`, or nullopt when there is none.
template <typename T>
absl::StatusOr<std::optional<T>> QueryOne(
    sqlite3* db, StatementRun& run,
    absl::StatusOr<T> (*read)(const StatementRun&), OpName op) {
  int rc = run.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(rc, db, op());
  absl::StatusOr<T> value = read(run);
  if (!value.ok()) {
    return Annotate(value.status(), absl::StrCat("store: ", op()));
  }
  return *std::move(value);
}

// Every row of `run`, read by `read`.
template <typename T>
absl::StatusOr<std::vector<T>> QueryAll(
    sqlite3* db, StatementRun& run,
    absl::StatusOr<T> (*read)(const StatementRun&), OpName op) {
  std::vector<T> out;
  for (;;) {
    int rc = run.Step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) return SqliteError(rc, db, op());
    absl::StatusOr<T> value = read(run);
    if (!value.ok()) {
      return Annotate(value.status(), absl::StrCat("store: ", op()));
    }
    out.push_back(*std::move(value));
  }
}

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_SQLITE_STATEMENT_H_
