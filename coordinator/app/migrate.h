// Moves an installation from one store to an empty etcd prefix — a single
// coordinator on SQLite becoming several replicas on etcd — and proves the
// copy: every record of every kind is read back from etcd and compared
// with the source, field for field. Version numbers are kept (agents and
// rollouts name "web/3"), and so are rollout revisions and audit ids.
//
// Stop the coordinator first: records it writes during the copy would be
// missed (the comparison then fails, naming them).
//
//   ASSIGN_OR_RETURN(MigrationReport report, Migrate(*sqlite, *etcd_store));
//   printf("%s", report.Summary().c_str());
#ifndef CERTFLEET_COORDINATOR_APP_MIGRATE_H_
#define CERTFLEET_COORDINATOR_APP_MIGRATE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/store/etcd_store.h"
#include "coordinator/store/store.h"

namespace certfleet::app {

struct MigrationReport {
  // Record kind ("versions", "agents", ...) → how many were copied and
  // found identical in etcd.
  std::map<std::string, int64_t> copied;
  // "accounts 1, certificate states 3, ..., verified identical\n".
  std::string Summary() const;
};

// kFailedPrecondition when the target prefix is not empty (nothing is
// written then); kDataLoss naming the kind and key of the first record
// that differs after the copy; the stores' errors.
absl::StatusOr<MigrationReport> Migrate(store::Store& from,
                                        store::EtcdStore& to);

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_MIGRATE_H_
