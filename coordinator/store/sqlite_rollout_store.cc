// SqliteStore's rollout and audit-log methods (declared in sqlite_store.h;
// tables from migration 3).
#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/store/sqlite_row.h"
#include "coordinator/store/sqlite_statement.h"
#include "coordinator/store/sqlite_store.h"
#include "coordinator/store/store_errors.h"

namespace certfleet::store {

struct SqliteStore::RolloutStatements {
  StatementPtr begin, commit;
  StatementPtr insert_rollout, get_rollout, active_rollout, save_rollout;
  StatementPtr list_rollouts, list_certificate_rollouts;
  StatementPtr append_audit, list_audit, list_certificate_audit;
};

void SqliteStore::RolloutStatementsDeleter::operator()(
    RolloutStatements* s) const {
  delete s;
}

namespace {

// SQLite reads a negative LIMIT as "no limit"; the interface says 0.
int64_t SqlLimit(int limit) { return limit == 0 ? -1 : limit; }

}  // namespace

absl::StatusOr<SqliteStore::RolloutStatementsPtr>
SqliteStore::PrepareRolloutStatements(sqlite3* db) {
  RolloutStatementsPtr s(new RolloutStatements);
  // Newest first; rowid breaks ties of created_at in creation order, and is
  // part of every index entry, so the certificate index serves the ORDER BY.
  constexpr char kRolloutOrder[] =
      " ORDER BY created_at DESC, rowid DESC LIMIT ?";
  constexpr char kAuditOrder[] = " ORDER BY at DESC, id DESC LIMIT ?";
  const std::pair<StatementPtr*, std::string> sql[] = {
      {&s->begin, "BEGIN IMMEDIATE"},
      {&s->commit, "COMMIT"},
      {&s->insert_rollout, InsertRow<RolloutRecord>("INSERT INTO rollouts")},
      {&s->get_rollout,
       absl::StrCat(SelectFrom<RolloutRecord>("rollouts"), " WHERE id = ?")},
      // Served by the partial unique index rollouts_one_unfinished.
      {&s->active_rollout,
       absl::StrCat(SelectFrom<RolloutRecord>("rollouts"),
                    " WHERE certificate = ? AND finished = 0")},
      // The compare-and-set; the transaction around it has already checked
      // the same conditions, to say which one failed.
      {&s->save_rollout,
       "UPDATE rollouts SET phase = ?, updated_at = ?, finished = ?, "
       "state_json = ?, revision = revision + 1 "
       "WHERE id = ? AND revision = ? AND finished = 0"},
      {&s->list_rollouts,
       absl::StrCat(SelectFrom<RolloutRecord>("rollouts"),
                    " WHERE (? = 0 OR finished = 0)", kRolloutOrder)},
      {&s->list_certificate_rollouts,
       absl::StrCat(SelectFrom<RolloutRecord>("rollouts"),
                    " WHERE certificate = ? AND "
                    "(? = 0 OR finished = 0)",
                    kRolloutOrder)},
      {&s->append_audit,
       InsertRow<AuditRecord>("INSERT INTO audit_log", kInsert)},
      {&s->list_audit, absl::StrCat(SelectFrom<AuditRecord>("audit_log"),
                                    " WHERE at >= ?", kAuditOrder)},
      {&s->list_certificate_audit,
       absl::StrCat(SelectFrom<AuditRecord>("audit_log"),
                    " WHERE certificate = ? AND at >= ?", kAuditOrder)},
  };
  for (const auto& [target, text] : sql) {
    ASSIGN_OR_RETURN(*target, Prepare(db, text));
  }
  return s;
}

absl::StatusOr<RolloutRecord> SqliteStore::CreateRollout(
    const RolloutRecord& rollout) {
  RETURN_IF_ERROR(CheckNewRollout(rollout));
  auto op = [&] { return absl::StrCat("create rollout ", rollout.id); };
  RolloutRecord stored = rollout;
  stored.revision = 1;
  ASSIGN_OR_RETURN(RowValues<RolloutRecord> row, EncodeRow(stored, op));
  absl::MutexLock lock(&mu_);
  // IMMEDIATE: no other connection can create a rollout of the certificate
  // between the check and the insert (the unique index would refuse it,
  // but with a message naming no rollout).
  {
    StatementRun begin(rollouts_->begin.get());
    RETURN_IF_ERROR(Execute(db_, begin, op));
  }
  // Runs at once, under mu_ (the annotation says so to the lock analysis).
  absl::Status status = [&]()
                            ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    {
      StatementRun get(rollouts_->get_rollout.get());
      get.Text(rollout.id);
      ASSIGN_OR_RETURN(std::optional<RolloutRecord> taken,
                       QueryOne(db_, get, &ReadRow<RolloutRecord>, op));
      if (taken.has_value()) return RolloutIdTaken(rollout.id);
    }
    if (!rollout.finished) {
      StatementRun active(rollouts_->active_rollout.get());
      active.Text(rollout.certificate);
      ASSIGN_OR_RETURN(std::optional<RolloutRecord> current,
                       QueryOne(db_, active, &ReadRow<RolloutRecord>, op));
      if (current.has_value()) {
        return RolloutAlreadyActive(rollout.id, *current);
      }
    }
    {
      StatementRun insert(rollouts_->insert_rollout.get());
      row.Bind(insert);
      RETURN_IF_ERROR(Execute(db_, insert, op));
    }
    StatementRun commit(rollouts_->commit.get());
    return Execute(db_, commit, op);
  }();
  if (!status.ok()) {
    RollbackLocked();
    return status;
  }
  return stored;
}

absl::StatusOr<int64_t> SqliteStore::SaveRollout(const RolloutRecord& rollout) {
  auto op = [&] { return absl::StrCat("save rollout ", rollout.id); };
  absl::MutexLock lock(&mu_);
  // In one transaction with the read, so a refusal names the row as it was
  // when the save was refused.
  {
    StatementRun begin(rollouts_->begin.get());
    RETURN_IF_ERROR(Execute(db_, begin, op));
  }
  // Runs at once, under mu_ (the annotation says so to the lock analysis).
  absl::Status status = [&]()
                            ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    {
      StatementRun get(rollouts_->get_rollout.get());
      get.Text(rollout.id);
      ASSIGN_OR_RETURN(std::optional<RolloutRecord> stored,
                       QueryOne(db_, get, &ReadRow<RolloutRecord>, op));
      if (!stored.has_value() || stored->revision != rollout.revision ||
          stored->finished) {
        return SaveRolloutRefused(rollout, stored);
      }
    }
    {
      StatementRun save(rollouts_->save_rollout.get());
      save.Text(rollout.phase)
          .Time(rollout.updated_at)
          .Int(rollout.finished ? 1 : 0)
          .Text(rollout.state_json)
          .Text(rollout.id)
          .Int(rollout.revision);
      RETURN_IF_ERROR(Execute(db_, save, op));
      if (sqlite3_changes(db_) != 1) {
        return absl::InternalError(absl::StrCat(
            "store: ", op(), ": the row changed under the write lock"));
      }
    }
    StatementRun commit(rollouts_->commit.get());
    return Execute(db_, commit, op);
  }();
  if (!status.ok()) {
    RollbackLocked();
    return status;
  }
  return rollout.revision + 1;
}

absl::StatusOr<std::optional<RolloutRecord>> SqliteStore::GetRollout(
    const std::string& id) {
  absl::MutexLock lock(&mu_);
  StatementRun run(rollouts_->get_rollout.get());
  run.Text(id);
  return QueryOne(db_, run, &ReadRow<RolloutRecord>,
                  [&] { return absl::StrCat("get rollout ", id); });
}

absl::StatusOr<std::optional<RolloutRecord>> SqliteStore::ActiveRollout(
    const std::string& certificate) {
  absl::MutexLock lock(&mu_);
  StatementRun run(rollouts_->active_rollout.get());
  run.Text(certificate);
  return QueryOne(db_, run, &ReadRow<RolloutRecord>, [&] {
    return absl::StrCat("get the active rollout of ", certificate);
  });
}

absl::StatusOr<std::vector<RolloutRecord>> SqliteStore::ListRollouts(
    const RolloutFilter& filter) {
  RETURN_IF_ERROR(CheckLimit("list rollouts", filter.limit));
  absl::MutexLock lock(&mu_);
  const bool all = filter.certificate.empty();
  StatementRun run(all ? rollouts_->list_rollouts.get()
                       : rollouts_->list_certificate_rollouts.get());
  if (!all) run.Text(filter.certificate);
  run.Int(filter.unfinished_only ? 1 : 0).Int(SqlLimit(filter.limit));
  return QueryAll(db_, run, &ReadRow<RolloutRecord>, [&] {
    return all ? std::string("list rollouts")
               : absl::StrCat("list rollouts of ", filter.certificate);
  });
}

absl::StatusOr<int64_t> SqliteStore::AppendAudit(const AuditRecord& record) {
  RETURN_IF_ERROR(CheckAuditRecord(record));
  auto op = [&] {
    return absl::StrCat("append audit record ", record.action, " by ",
                        record.actor);
  };
  ASSIGN_OR_RETURN(RowValues<AuditRecord> row, EncodeRow(record, op));
  absl::MutexLock lock(&mu_);
  StatementRun run(rollouts_->append_audit.get());
  row.Bind(run, kInsert);
  RETURN_IF_ERROR(Execute(db_, run, op));
  // The connection is ours alone under mu_, so this is our insert's.
  return sqlite3_last_insert_rowid(db_);
}

absl::StatusOr<std::vector<AuditRecord>> SqliteStore::ListAudit(
    const AuditFilter& filter) {
  RETURN_IF_ERROR(CheckLimit("list audit records", filter.limit));
  absl::MutexLock lock(&mu_);
  const bool all = filter.certificate.empty();
  StatementRun run(all ? rollouts_->list_audit.get()
                       : rollouts_->list_certificate_audit.get());
  if (!all) run.Text(filter.certificate);
  run.Time(filter.since).Int(SqlLimit(filter.limit));
  return QueryAll(db_, run, &ReadRow<AuditRecord>, [&] {
    return all ? std::string("list audit records")
               : absl::StrCat("list audit records of ", filter.certificate);
  });
}

}  // namespace certfleet::store
