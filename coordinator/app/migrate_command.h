// `certfleet-coordinator migrate`: moves an installation from SQLite to an
// etcd cluster (migrate.h), then proves the copy.
//
//   certfleet-coordinator migrate
//       --from sqlite:/var/lib/certfleet/coordinator.db
//       --to etcd:10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379
//       [--prefix /certfleet/] [--ca-file F] [--cert-file F --key-file F]
//
// Exit status: 0 copied and verified; 1 failed (the message names what);
// 2 usage error.
#ifndef CERTFLEET_COORDINATOR_APP_MIGRATE_COMMAND_H_
#define CERTFLEET_COORDINATOR_APP_MIGRATE_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace certfleet::app {

struct MigrateArgs {
  std::string sqlite_path;
  std::vector<std::string> endpoints;
  std::string prefix = "/certfleet/";
  std::string ca_file, cert_file, key_file;
};

// The flags after "migrate"; kInvalidArgument naming the one at fault.
absl::StatusOr<MigrateArgs> ParseMigrateArgs(
    const std::vector<std::string>& args);

// Runs the command; prints the report or the error.
int RunMigrateCommand(const std::vector<std::string>& args);

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_MIGRATE_COMMAND_H_
