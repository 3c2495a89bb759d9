// The audit listing's filter, the same for every backend: records at or
// after `since`, of one certificate, newest first (by time, then by id),
// at most `limit`.
//
//   return FilterAudit(all_records_newest_id_first, filter);
#ifndef CERTFLEET_COORDINATOR_STORE_AUDIT_FILTER_H_
#define CERTFLEET_COORDINATOR_STORE_AUDIT_FILTER_H_

#include <vector>

#include "coordinator/store/store.h"

namespace certfleet::store {

// `records` ordered by id, newest first.
std::vector<AuditRecord> FilterAudit(const std::vector<AuditRecord>& records,
                                     const AuditFilter& filter);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_AUDIT_FILTER_H_
