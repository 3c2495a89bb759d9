// Reads the coordinator's SQLite store from a benchmark while the
// coordinator runs: a read-only connection of its own (WAL: readers never
// block the writer), one integer result.
//
//   ASSIGN_OR_RETURN(int64_t n,
//       QueryInt(dir + "/store.db", "SELECT COUNT(*) FROM agents"));
#ifndef CERTFLEET_BENCH_SQLITE_QUERY_H_
#define CERTFLEET_BENCH_SQLITE_QUERY_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace certfleet::bench {

// The first column of the first row of `sql` on the database at `path`;
// `bind`, when set, binds the statement's parameters. Unavailable, naming
// the path and SQLite's message, when the database cannot be read.
absl::StatusOr<int64_t> QueryInt(
    const std::string& path, const char* sql,
    const std::function<void(sqlite3_stmt*)>& bind = nullptr);

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_SQLITE_QUERY_H_
