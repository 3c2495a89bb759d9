// A plain SQLite connection for tests that look at (or tamper with) a store's
// database behind its back, the way an operator with the sqlite3 CLI would.
//
//   RawSqlite db(path);
//   ASSERT_OK(db.Exec("INSERT INTO schema_migrations VALUES (99, 'x')"));
//   EXPECT_THAT(db.QueryInt("SELECT COUNT(*) FROM versions"), IsOkAndHolds(3));
#ifndef CERTFLEET_TESTS_STORE_RAW_SQLITE_H_
#define CERTFLEET_TESTS_STORE_RAW_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace certfleet::store {

class RawSqlite {
 public:
  // Aborts the test binary when the database cannot be opened.
  explicit RawSqlite(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
      fprintf(stderr, "cannot open %s: %s\n", path.c_str(),
              sqlite3_errmsg(db_));
      abort();
    }
  }
  ~RawSqlite() { sqlite3_close_v2(db_); }
  RawSqlite(const RawSqlite&) = delete;
  RawSqlite& operator=(const RawSqlite&) = delete;

  sqlite3* get() { return db_; }

  absl::Status Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) {
      return absl::OkStatus();
    }
    absl::Status status = absl::InternalError(
        absl::StrCat(sql, ": ", error != nullptr ? error : "?"));
    sqlite3_free(error);
    return status;
  }

  // The first column of the first row, as text ("" for NULL).
  absl::StatusOr<std::string> QueryText(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return absl::InternalError(absl::StrCat(sql, ": ", sqlite3_errmsg(db_)));
    }
    absl::StatusOr<std::string> out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      out = text == nullptr ? std::string()
                            : std::string(reinterpret_cast<const char*>(text),
                                          sqlite3_column_bytes(stmt, 0));
    } else {
      out = absl::NotFoundError(
          absl::StrCat(sql, ": no row: ", sqlite3_errmsg(db_)));
    }
    sqlite3_finalize(stmt);
    return out;
  }

  // The first column of the first row, as an integer.
  absl::StatusOr<int64_t> QueryInt(const std::string& sql) {
    absl::StatusOr<std::string> text = QueryText(sql);
    if (!text.ok()) return text.status();
    int64_t value = 0;
    if (!absl::SimpleAtoi(*text, &value)) {
      return absl::InternalError(
          absl::StrCat(sql, ": not an integer: ", *text));
    }
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace certfleet::store

#endif  // CERTFLEET_TESTS_STORE_RAW_SQLITE_H_
