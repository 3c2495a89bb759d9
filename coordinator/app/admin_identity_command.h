// `certfleet-coordinator admin-identity create`: issues an admin identity
// (a client certificate for the admin API, URI SAN
// spiffe://certfleet/admin/<name>) from the internal CA, straight on the
// store like `token create`, and writes key, certificate and the internal
// CA certificate into one PEM file for certfleetctl's --identity.
//
//   certfleet-coordinator admin-identity create --config FILE --name alice
//       [--ttl 720h] --out alice.pem
//
// The file is created with mode 0600 and never overwritten: an existing
// file is an error (remove it first to replace the identity).
//
//   return app::RunAdminIdentityCommand({argv + 2, argv + argc});
#ifndef CERTFLEET_COORDINATOR_APP_ADMIN_IDENTITY_COMMAND_H_
#define CERTFLEET_COORDINATOR_APP_ADMIN_IDENTITY_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/filesystem.h"
#include "coordinator/config/config.h"

namespace certfleet::app {

// Without --ttl: 30 days.
inline constexpr absl::Duration kDefaultAdminIdentityTtl = absl::Hours(720);

// The arguments of `admin-identity create`, as given.
struct AdminIdentityArgs {
  std::string config_path;
  std::string name;
  absl::Duration ttl = kDefaultAdminIdentityTtl;
  std::string out_path;
};

// Parses the arguments after "admin-identity". kInvalidArgument naming the
// problem: unknown subcommand or flag, a missing value, --config, --name or
// --out missing, a name that is not [a-z0-9-]{1,32}, a --ttl that is not a
// positive duration.
absl::StatusOr<AdminIdentityArgs> ParseAdminIdentityArgs(
    const std::vector<std::string>& args);

// What was written.
struct CreatedAdminIdentity {
  std::string path;
  std::string name;
  std::string serial;
  absl::Time not_after;
};

// Opens the KEK and the store named by `config`, loads or creates the
// internal CA, issues the identity for a fresh EC P-256 key and writes
// "<key><certificate><CA certificate>" to args.out_path (mode 0600).
// kAlreadyExists when that file exists; the KEK's, store's and CA's errors.
absl::StatusOr<CreatedAdminIdentity> CreateAdminIdentity(
    const config::CoordinatorConfig& config, const AdminIdentityArgs& args,
    Filesystem& fs, Clock& clock);

// The whole command, given the arguments after "admin-identity". Returns
// the exit status: 0 done; 1 a runtime failure (store, KEK, existing
// file); 2 a usage or configuration error, named on stderr.
int RunAdminIdentityCommand(const std::vector<std::string>& args);

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_ADMIN_IDENTITY_COMMAND_H_
