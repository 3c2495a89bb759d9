// How the SQLite store lays the rollout records of store.h (rollouts, the
// audit log) out as table rows: column lists, row readers and parameter
// binders, as sqlite_records.h does for the issuance records.
//
//   StatementRun run(insert);  // "INSERT … (kRolloutColumns) VALUES (…)"
//   BindRollout(run, rollout, /*revision=*/1);
//   ...
//   ASSIGN_OR_RETURN(RolloutRecord rollout, ReadRollout(select_run));
#ifndef CERTFLEET_COORDINATOR_STORE_SQLITE_ROLLOUT_RECORDS_H_
#define CERTFLEET_COORDINATOR_STORE_SQLITE_ROLLOUT_RECORDS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "coordinator/store/sqlite_statement.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// Column lists, in the order the readers and binders use.
extern const char kRolloutColumns[];      // 11 columns
extern const char kAuditColumns[];        // 7 columns, id first
extern const char kAuditInsertColumns[];  // kAuditColumns without the id

// Read the current row of a SELECT of the matching column list.
absl::StatusOr<RolloutRecord> ReadRollout(const StatementRun& row);
absl::StatusOr<AuditRecord> ReadAudit(const StatementRun& row);

// Bind every column of the matching list, in order; `revision` is bound
// instead of r.revision (the store assigns it). Everything bound must
// outlive `run`.
void BindRollout(StatementRun& run, const RolloutRecord& r, int64_t revision);
// Binds kAuditInsertColumns: the id is the table's to assign.
void BindAudit(StatementRun& run, const AuditRecord& a);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_SQLITE_ROLLOUT_RECORDS_H_
