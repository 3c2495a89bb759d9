#include "coordinator/store/audit_filter.h"

#include <algorithm>

namespace certfleet::store {

std::vector<AuditRecord> FilterAudit(const std::vector<AuditRecord>& records,
                                     const AuditFilter& filter) {
  std::vector<AuditRecord> out;
  for (const AuditRecord& a : records) {
    if (a.at < filter.since) continue;
    if (!filter.certificate.empty() && a.certificate != filter.certificate) {
      continue;
    }
    out.push_back(a);
  }
  // Stable: among equal times the newer id stays first.
  std::stable_sort(
      out.begin(), out.end(),
      [](const AuditRecord& a, const AuditRecord& b) { return a.at > b.at; });
  if (filter.limit > 0 && out.size() > static_cast<size_t>(filter.limit)) {
    out.resize(filter.limit);
  }
  return out;
}

}  // namespace certfleet::store
