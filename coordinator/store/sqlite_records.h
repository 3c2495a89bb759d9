// How the SQLite store lays the record types of store.h out as table rows:
// the column lists (shared by SELECT and INSERT, so their orders agree), the
// readers of a result row, and the binders of an INSERT's parameters.
//
//   StatementRun run(insert_order);  // "INSERT … (kOrderColumns) VALUES (…)"
//   BindOrder(run, order, names_json, dns_json, answered_json);
//   ...
//   ASSIGN_OR_RETURN(OrderRecord order, ReadOrder(select_run));
#ifndef CERTFLEET_COORDINATOR_STORE_SQLITE_RECORDS_H_
#define CERTFLEET_COORDINATOR_STORE_SQLITE_RECORDS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/store/sqlite_statement.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// Column lists, in the order the readers and binders use.
extern const char kAccountColumns[];  // 9 columns
extern const char kStateColumns[];    // 7 columns
extern const char kVersionColumns[];  // 16 columns
extern const char kOrderColumns[];    // 12 columns

// Read the current row of a SELECT of the matching column list. kDataLoss
// (naming the column) when a JSON column does not parse.
absl::StatusOr<AccountRecord> ReadAccount(const StatementRun& row);
absl::StatusOr<CertificateState> ReadState(const StatementRun& row);
absl::StatusOr<VersionRecord> ReadVersion(const StatementRun& row);
absl::StatusOr<OrderRecord> ReadOrder(const StatementRun& row);

// Bind every column of the matching list, in order. The JSON columns come
// already encoded (json_columns.h); everything bound must outlive `run`.
void BindAccount(StatementRun& run, const AccountRecord& a,
                 const std::string& contacts_json);
void BindState(StatementRun& run, const CertificateState& s);
// `version` is bound instead of v.version (AddVersion assigns it).
void BindVersion(StatementRun& run, const VersionRecord& v, int64_t version,
                 const std::string& names_json);
void BindOrder(StatementRun& run, const OrderRecord& o,
               const std::string& names_json,
               const std::string& dns_records_json,
               const std::string& answered_json);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_SQLITE_RECORDS_H_
