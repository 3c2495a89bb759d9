// `certfleet-coordinator token create`: makes a bootstrap token for a new
// agent, straight on the store (no running coordinator needed; SQLite WAL
// lets it run beside `serve`). It also creates the internal CA when the
// store has none yet and writes its certificate next to the store, as
// <store dir>/internal-ca.pem, for the agents' `coordinator_ca`.
//
//   certfleet-coordinator token create --config FILE --labels role=web
//       [--ttl 2h] [--description TEXT] [-o json]
//   certfleet-coordinator token create --config FILE --for-agent ID ...
//
// --for-agent makes a token that re-enrolls an existing agent (a host whose
// identity expired while it was off): it keeps its id, labels and history.
// Such a token is audited ("token.create", actor "local:token-command"):
// it can take over the agent's identity.
//
// Output: the token alone on the first line (scripts read it), then its
// expiry, labels (the agent's, for --for-agent) and the CA file; with -o
// json one object {"token", "expires_at", "labels", "for_agent",
// "ca_file"}.
//
//   return app::RunTokenCommand({argv + 2, argv + argc});  // after "token"
#ifndef CERTFLEET_COORDINATOR_APP_TOKEN_COMMAND_H_
#define CERTFLEET_COORDINATOR_APP_TOKEN_COMMAND_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/filesystem.h"
#include "coordinator/config/config.h"
#include "coordinator/identity/internal_ca.h"

namespace certfleet::app {

// The arguments of `token create`, as given.
struct TokenCreateArgs {
  std::string config_path;
  std::string labels;                 // "k=v,k=v"
  std::string for_agent;              // re-enroll this agent (no labels)
  std::optional<absl::Duration> ttl;  // unset: agents.token_ttl
  std::string description;
  bool json = false;
};

// Parses the arguments after "token": "create" and its flags. kInvalidArgument
// naming the problem (unknown subcommand or flag, missing value, --config
// missing, neither or both of --labels and --for-agent, a --ttl that is not
// a positive duration).
absl::StatusOr<TokenCreateArgs> ParseTokenCreateArgs(
    const std::vector<std::string>& args);

// What `token create` made.
struct CreatedToken {
  std::string token;
  std::string id;
  absl::Time expires_at;
  std::map<std::string, std::string> labels;
  std::string for_agent;
  std::string ca_file;
};

// config.internal_ca_file (by default "<store dir>/internal-ca.pem").
std::string InternalCaFilePath(const config::CoordinatorConfig& config);

// Writes the CA certificate to InternalCaFilePath (atomically, mode 0644:
// it is public).
absl::Status WriteInternalCaFile(const config::CoordinatorConfig& config,
                                 const identity::InternalCa& ca,
                                 Filesystem& fs);

// Opens the KEK and the store named by `config`, loads or creates the
// internal CA, writes the CA file and creates the token: for a new agent
// with `labels`, or (`for_agent` not empty) one that re-enrolls that agent
// (BootstrapTokens::CreateForAgent's errors), audited.
absl::StatusOr<CreatedToken> CreateToken(
    const config::CoordinatorConfig& config,
    const std::map<std::string, std::string>& labels, absl::Duration ttl,
    const std::string& description, Filesystem& fs, Clock& clock,
    const std::string& for_agent = "");

// The command's standard output.
std::string FormatCreatedToken(const CreatedToken& created, bool json);

// The whole command, given the arguments after "token". Returns the exit
// status: 0 done; 1 a runtime failure (store, KEK); 2 a usage or
// configuration error, named on stderr.
int RunTokenCommand(const std::vector<std::string>& args);

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_TOKEN_COMMAND_H_
