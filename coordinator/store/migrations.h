// Schema migrations of the SQLite store. The migrations are compiled into the
// binary as an ordered list; the database records in `schema_migrations`
// which ones it has. At open, every pending migration is applied, each in its
// own transaction; a database newer than the binary is refused.
//
//   RETURN_IF_ERROR(ApplyMigrations(db, path));  // SqliteStore::Open does this
//
// Adding a migration: append {N+1, "what it does", "SQL"} to the list in
// migrations.cc. Never edit or reorder an applied one.
#ifndef CERTFLEET_COORDINATOR_STORE_MIGRATIONS_H_
#define CERTFLEET_COORDINATOR_STORE_MIGRATIONS_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace certfleet::store {

// One schema change.
struct Migration {
  int64_t version;          // 1, 2, 3… without gaps
  const char* description;  // for error messages
  const char* sql;          // one or more statements
};

// The migrations this binary knows, in order.
absl::Span<const Migration> AllMigrations();

// The schema version this binary writes (the last migration's version).
int64_t LatestSchemaVersion();

// The highest version recorded in `schema_migrations`; 0 when the table is
// missing or empty.
absl::StatusOr<int64_t> CurrentSchemaVersion(sqlite3* db);

// Creates `schema_migrations` if needed and applies every migration of
// `migrations` (ordered, versions 1..N) whose version is above the
// database's, each in its own BEGIN IMMEDIATE transaction together with its
// schema_migrations row. kFailedPrecondition when the database already has a
// version above N; a failed migration is rolled back and reported with its
// number. `path` names the database in messages.
absl::Status ApplyMigrations(sqlite3* db, const std::string& path,
                             absl::Span<const Migration> migrations);
// The same with AllMigrations().
absl::Status ApplyMigrations(sqlite3* db, const std::string& path);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_MIGRATIONS_H_
