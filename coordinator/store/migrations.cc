#include "coordinator/store/migrations.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "coordinator/store/sqlite_statement.h"

namespace certfleet::store {
namespace {

// Times are INTEGER unix nanoseconds (INT64_MIN / INT64_MAX for the infinite
// past / future); string lists are JSON arrays so the sqlite3 CLI shows them
// readably; sealed keys are BLOBs. The tables keyed by name are WITHOUT ROWID:
// one b-tree instead of table + key index, so a write touches fewer pages
// (PutOrder ≈ 30 % cheaper). versions keeps its rowid: its rows (two PEMs,
// a few KB) are too large for WITHOUT ROWID, which measured slower.
constexpr char kCreateTables[] = R"sql(
CREATE TABLE accounts (
  issuer        TEXT NOT NULL PRIMARY KEY,
  directory_url TEXT NOT NULL,
  account_url   TEXT NOT NULL,
  key_type      TEXT NOT NULL,
  key_sealed    BLOB NOT NULL,
  contacts      TEXT NOT NULL,  -- JSON array of strings
  status        TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE certificate_state (
  name                 TEXT NOT NULL PRIMARY KEY,
  next_attempt_at      INTEGER NOT NULL,
  renew_at             INTEGER NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  last_error           TEXT NOT NULL,
  last_attempt_at      INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE versions (
  cert_name         TEXT NOT NULL,
  version           INTEGER NOT NULL CHECK (version >= 1),
  issuer            TEXT NOT NULL,
  names             TEXT NOT NULL,  -- JSON array of strings
  key_type          TEXT NOT NULL,
  serial_hex        TEXT NOT NULL,
  not_before        INTEGER NOT NULL,
  not_after         INTEGER NOT NULL,
  leaf_pem          TEXT NOT NULL,
  chain_pem         TEXT NOT NULL,
  key_sealed        BLOB NOT NULL,
  order_url         TEXT NOT NULL,
  ari_cert_id       TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  revoked_at        INTEGER NOT NULL,
  revocation_reason TEXT NOT NULL,
  PRIMARY KEY (cert_name, version)
);
CREATE TABLE orders (
  cert_name        TEXT NOT NULL PRIMARY KEY,
  issuer           TEXT NOT NULL,
  order_url        TEXT NOT NULL,
  spec_fingerprint TEXT NOT NULL,
  names            TEXT NOT NULL,  -- JSON array of strings
  key_type         TEXT NOT NULL,
  key_sealed       BLOB NOT NULL,
  stage            TEXT NOT NULL,
  dns_records      TEXT NOT NULL,  -- JSON array of {provider, zone, fqdn, value}
  replaces         TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// The fleet: enrolled agents, bootstrap tokens (only the secret's hash), the
// internal CA (one row, id 1), and each agent target's desired and reported
// state. Labels are JSON objects. used_at is INT64_MIN while a token is
// unused, which lets ConsumeToken be one conditional UPDATE.
constexpr char kCreateFleetTables[] = R"sql(
CREATE TABLE agents (
  id                 TEXT NOT NULL PRIMARY KEY,
  hostname           TEXT NOT NULL,
  labels             TEXT NOT NULL,  -- JSON object of strings
  enrolled_at        INTEGER NOT NULL,
  last_seen_at       INTEGER NOT NULL,
  identity_serial    TEXT NOT NULL,
  identity_not_after INTEGER NOT NULL,
  token_id           TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE bootstrap_tokens (
  id          TEXT NOT NULL PRIMARY KEY,
  secret_hash BLOB NOT NULL,
  labels      TEXT NOT NULL,  -- JSON object of strings
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER NOT NULL,
  used_by     TEXT NOT NULL,
  description TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE internal_ca (
  id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  cert_pem   TEXT NOT NULL,
  key_sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE target_states (
  agent_id             TEXT NOT NULL,
  target               TEXT NOT NULL,
  certificate          TEXT NOT NULL,
  desired_version_id   TEXT NOT NULL,
  installed_version_id TEXT NOT NULL,
  serial               TEXT NOT NULL,
  not_after            INTEGER NOT NULL,
  healthy              INTEGER NOT NULL CHECK (healthy IN (0, 1)),
  detail               TEXT NOT NULL,
  last_error           TEXT NOT NULL,
  updated_at           INTEGER NOT NULL,
  PRIMARY KEY (agent_id, target)
) WITHOUT ROWID;
)sql";

// Rollouts and the audit log (issue 4), and the version a failed delivery
// concerned. rollouts keeps its rowid: its state_json grows with the fleet
// (a record per target), too large for WITHOUT ROWID. The partial unique
// index is what holds "one unfinished rollout per certificate" even against
// another coordinator writing the same file; revision makes SaveRollout a
// compare-and-set. The audit log's triggers make append-only hold for the
// sqlite3 CLI too, short of dropping them. ADD COLUMN with a default keeps
// every existing target_states row, with "" for the new column.
constexpr char kCreateRolloutTables[] = R"sql(
CREATE TABLE rollouts (
  id           TEXT NOT NULL PRIMARY KEY,
  certificate  TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('rollout', 'rollback')),
  from_version TEXT NOT NULL,
  to_version   TEXT NOT NULL,
  phase        TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  finished     INTEGER NOT NULL CHECK (finished IN (0, 1)),
  revision     INTEGER NOT NULL CHECK (revision >= 1),
  state_json   TEXT NOT NULL
);
CREATE INDEX rollouts_by_certificate ON rollouts (certificate, created_at);
CREATE UNIQUE INDEX rollouts_one_unfinished ON rollouts (certificate)
  WHERE finished = 0;
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  certificate TEXT NOT NULL,
  detail      TEXT NOT NULL,
  result      TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_certificate ON audit_log (certificate, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
ALTER TABLE target_states
  ADD COLUMN last_error_version_id TEXT NOT NULL DEFAULT '';
)sql";

// Revocable agent identities (issue 10): an agent's status (active,
// disabled, removed) with when and by whom it last changed, and the agent a
// bootstrap token re-enrolls. ADD COLUMN cannot take an expression as its
// default, so status_changed_at is set to INT64_MIN ("never",
// absl::InfinitePast) by an UPDATE after it is added; every existing agent
// is active and every existing token enrolls a new agent.
constexpr char kRevocableAgents[] = R"sql(
ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
  CHECK (status IN ('active', 'disabled', 'removed'));
ALTER TABLE agents ADD COLUMN status_changed_at INTEGER NOT NULL DEFAULT 0;
UPDATE agents SET status_changed_at = -9223372036854775807 - 1;
ALTER TABLE agents ADD COLUMN status_changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE bootstrap_tokens ADD COLUMN for_agent TEXT NOT NULL DEFAULT '';
)sql";

// Which client-side order limit set a certificate's next attempt: a wait
// imposed by a limit since raised is lifted at the next start.
constexpr char kStateLimitedBy[] = R"sql(
ALTER TABLE certificate_state ADD COLUMN limited_by TEXT NOT NULL DEFAULT '';
)sql";

// Which challenges an order answered, and when: a resumed order does not
// answer one again while the CA may still be validating it. An older
// order has none recorded (its "answered" stage still counts). As in
// kRevocableAgents, "never" (INT64_MIN, absl::InfinitePast) is set by an
// UPDATE: ADD COLUMN takes no expression as its default.
constexpr char kOrderAnswers[] = R"sql(
ALTER TABLE orders ADD COLUMN answered_challenges TEXT NOT NULL DEFAULT '[]';
ALTER TABLE orders ADD COLUMN answered_at INTEGER NOT NULL DEFAULT 0;
UPDATE orders SET answered_at = -9223372036854775807 - 1;
)sql";

constexpr Migration kMigrations[] = {
    {1, "create accounts, certificate_state, versions, orders", kCreateTables},
    {2, "create agents, bootstrap_tokens, internal_ca, target_states",
     kCreateFleetTables},
    {3, "create rollouts, audit_log; add target_states.last_error_version_id",
     kCreateRolloutTables},
    {4,
     "add agents.status, status_changed_at, status_changed_by; "
     "bootstrap_tokens.for_agent",
     kRevocableAgents},
    {5, "add certificate_state.limited_by", kStateLimitedBy},
    {6, "add orders.answered_challenges, answered_at", kOrderAnswers},
};

absl::Status NewerSchemaError(const std::string& path, int64_t current,
                              int64_t latest) {
  return absl::FailedPreconditionError(absl::StrFormat(
      "database %s has schema version %d, newer than this coordinator "
      "supports (%d); upgrade certfleet-coordinator",
      path, current, latest));
}

// Applies `m` unless another process got there first.
absl::Status ApplyOne(sqlite3* db, const std::string& path, const Migration& m,
                      int64_t latest) {
  const std::string op = absl::StrFormat("apply migration %d (%s) to %s",
                                         m.version, m.description, path);
  RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", op));
  auto applied = [&]() -> absl::Status {
    // Re-read under the write lock: another coordinator may have migrated.
    ASSIGN_OR_RETURN(int64_t current, CurrentSchemaVersion(db));
    if (current > latest) return NewerSchemaError(path, current, latest);
    if (current >= m.version) return absl::OkStatus();
    RETURN_IF_ERROR(Exec(db, m.sql, op));
    ASSIGN_OR_RETURN(
        StatementPtr record,
        Prepare(db,
                "INSERT INTO schema_migrations (version, applied_at) "
                "VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"));
    StatementRun run(record.get());
    run.Int(m.version);
    int rc = run.Step();
    if (rc != SQLITE_DONE) return SqliteError(rc, db, op);
    return Exec(db, "COMMIT", op);
  }();
  if (sqlite3_get_autocommit(db) == 0) {
    // Still in the transaction: undo a half-applied migration, or end the
    // empty transaction of one that was already applied.
    sqlite3_exec(db, applied.ok() ? "COMMIT" : "ROLLBACK", nullptr, nullptr,
                 nullptr);
  }
  return applied;
}

}  // namespace

absl::Span<const Migration> AllMigrations() { return kMigrations; }

int64_t LatestSchemaVersion() { return AllMigrations().back().version; }

absl::StatusOr<int64_t> CurrentSchemaVersion(sqlite3* db) {
  constexpr char kOp[] = "read schema version";
  {
    ASSIGN_OR_RETURN(StatementPtr exists,
                     Prepare(db,
                             "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                             "AND name = 'schema_migrations'"));
    StatementRun run(exists.get());
    int rc = run.Step();
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return SqliteError(rc, db, kOp);
  }
  ASSIGN_OR_RETURN(
      StatementPtr max,
      Prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  StatementRun run(max.get());
  int rc = run.Step();
  if (rc != SQLITE_ROW) return SqliteError(rc, db, kOp);
  return run.ColumnInt(0);
}

absl::Status ApplyMigrations(sqlite3* db, const std::string& path,
                             absl::Span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int64_t>(i) + 1) {
      return absl::InternalError(absl::StrFormat(
          "store: migration list is not numbered 1..%d: entry %d has version "
          "%d",
          migrations.size(), i, migrations[i].version));
    }
  }
  RETURN_IF_ERROR(Exec(db,
                       "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " version INTEGER NOT NULL PRIMARY KEY,"
                       " applied_at TEXT NOT NULL)",
                       absl::StrCat("create schema_migrations in ", path)));
  const int64_t latest = migrations.empty() ? 0 : migrations.back().version;
  ASSIGN_OR_RETURN(int64_t current, CurrentSchemaVersion(db));
  if (current > latest) return NewerSchemaError(path, current, latest);
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    RETURN_IF_ERROR(ApplyOne(db, path, m, latest));
  }
  return absl::OkStatus();
}

absl::Status ApplyMigrations(sqlite3* db, const std::string& path) {
  return ApplyMigrations(db, path, AllMigrations());
}

}  // namespace certfleet::store
