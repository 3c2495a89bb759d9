// How the SQLite store lays the fleet records of store.h (agents, bootstrap
// tokens, the internal CA, target states) out as table rows: column lists,
// row readers and parameter binders, as sqlite_records.h does for the
// issuance records.
//
//   StatementRun run(put_agent);  // "INSERT … (kAgentColumns) VALUES (…)"
//   BindAgent(run, agent, labels_json);
//   ...
//   ASSIGN_OR_RETURN(AgentRecord agent, ReadAgent(select_run));
#ifndef CERTFLEET_COORDINATOR_STORE_SQLITE_FLEET_RECORDS_H_
#define CERTFLEET_COORDINATOR_STORE_SQLITE_FLEET_RECORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "coordinator/store/sqlite_statement.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// Column lists, in the order the readers and binders use.
extern const char kAgentColumns[];        // 11 columns
extern const char kTokenColumns[];        // 9 columns
extern const char kInternalCaColumns[];   // 3 columns (without the id)
extern const char kTargetStateColumns[];  // 12 columns

// Read the current row of a SELECT of the matching column list. kDataLoss
// (naming the column) when the labels or the status column does not parse.
absl::StatusOr<AgentRecord> ReadAgent(const StatementRun& row);
absl::StatusOr<TokenRecord> ReadToken(const StatementRun& row);
absl::StatusOr<InternalCaRecord> ReadInternalCa(const StatementRun& row);
absl::StatusOr<TargetStateRecord> ReadTargetState(const StatementRun& row);

// Bind every column of the matching list, in order; labels come already
// encoded (json_columns.h). Everything bound must outlive `run`.
void BindAgent(StatementRun& run, const AgentRecord& a,
               const std::string& labels_json);
void BindToken(StatementRun& run, const TokenRecord& t,
               const std::string& labels_json);
void BindInternalCa(StatementRun& run, const InternalCaRecord& ca);
void BindTargetState(StatementRun& run, const TargetStateRecord& s);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_SQLITE_FLEET_RECORDS_H_
