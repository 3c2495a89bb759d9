#include "bench/sqlite_query.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace certfleet::bench {

absl::StatusOr<int64_t> QueryInt(
    const std::string& path, const char* sql,
    const std::function<void(sqlite3_stmt*)>& bind) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat(path, ": ", why));
  }
  sqlite3_busy_timeout(db, 2000);
  sqlite3_stmt* stmt = nullptr;
  int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK) {
    if (bind) bind(stmt);
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  }
  const std::string error = value < 0 ? sqlite3_errmsg(db) : "";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (value < 0) return absl::UnavailableError(absl::StrCat(path, ": ", error));
  return value;
}

}  // namespace certfleet::bench
