// certfleetctl's command line: global flags (anywhere on the line) and one
// command with its own arguments.
//
//   certfleetctl [--coordinator HOST:PORT] [--identity FILE] [-o table|json]
//                [--timeout 10s] COMMAND [ARGS]
//   commands: status | certs list | certs show CERT | versions CERT |
//             agents list | agents show ID |
//             agents disable|remove ID [--reason TEXT] | agents enable ID |
//             agents relabel ID k=v[,k=v...] |
//             token create (--labels k=v[,k=v...] | --for-agent ID)
//               [--ttl D] [--description T] |
//             renew CERT | rollout status CERT [--watch [--interval D]] |
//             rollout pause|resume|abort CERT | rollout skip CERT AGENT |
//             rollback CERT [--to VERSION] [--expedite] |
//             audit [--since 24h|RFC3339] [--cert NAME] [--limit N]
//
// --coordinator and --identity default to $CERTFLEET_COORDINATOR and
// $CERTFLEET_IDENTITY.
//
//   absl::StatusOr<CtlArgs> args = ParseCtlArgs({argv + 1, argv + argc},
//                                               EnvironmentLookup());
#ifndef CERTFLEET_CTL_CTL_ARGS_H_
#define CERTFLEET_CTL_CTL_ARGS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace certfleet::ctl {

enum class Command {
  kHelp,
  kVersion,
  kStatus,
  kCertsList,
  kCertsShow,
  kVersions,
  kAgentsList,
  kAgentsShow,
  kAgentsDisable,
  kAgentsEnable,
  kAgentsRemove,
  kAgentsRelabel,
  kTokenCreate,
  kRenew,
  kAudit,
  kRolloutStatus,
  kRolloutPause,
  kRolloutResume,
  kRolloutAbort,
  kRolloutSkip,
  kRollback,
};

struct CtlArgs {
  Command command = Command::kHelp;
  std::string coordinator;  // "host:port"
  std::string identity;     // PEM file: key, certificate, internal CA
  bool json = false;
  // Per call, connection included.
  absl::Duration timeout = absl::Seconds(10);
  // certs show / versions / renew / rollout ...: the certificate; agents
  // show|disable|enable|remove|relabel: the agent id.
  std::string name;
  // rollout skip CERT AGENT: the agent.
  std::string agent;
  // token create (--labels), agents relabel (the new labels)
  std::map<std::string, std::string> labels;
  std::optional<absl::Duration> ttl;
  std::string description;
  // token create --for-agent: the agent the token re-enrolls.
  std::string for_agent;
  // agents disable|remove --reason: kept in the audit log.
  std::string reason;
  // rollback: the version number (--to N or CERT/N; 0: the previous one).
  int64_t to_version = 0;
  bool expedite = false;
  // rollout status --watch: poll every `interval` (--interval, at least
  // kMinWatchInterval) until the rollout finishes (watch_rollout.h).
  bool watch = false;
  absl::Duration interval = absl::Seconds(2);
  // audit: records since a time (--since RFC3339) or since that long before
  // now (--since 24h); about one certificate (--cert); at most --limit
  // (0: the coordinator's default).
  std::optional<absl::Time> since_time;
  std::optional<absl::Duration> since_ago;
  std::string cert;
  int limit = 0;
};

// The shortest --interval: faster polling only loads the coordinator.
inline constexpr absl::Duration kMinWatchInterval = absl::Milliseconds(100);

// Looks an environment variable up; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment.
EnvLookup EnvironmentLookup();

// The arguments after the program name. kInvalidArgument naming the
// problem: an unknown command or flag, a missing or extra argument, a bad
// -o, --ttl, --labels, --since, --limit or --interval, a flag of another
// command (--watch and --interval belong to `rollout status`),
// --coordinator or --identity unset (flag and environment) for a command
// that calls the coordinator.
absl::StatusOr<CtlArgs> ParseCtlArgs(const std::vector<std::string>& args,
                                     const EnvLookup& env);

// The usage text printed by `help` and after a usage error.
const char* CtlUsage();

}  // namespace certfleet::ctl

#endif  // CERTFLEET_CTL_CTL_ARGS_H_
