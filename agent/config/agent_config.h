// The agent's configuration: which coordinators to dial, where its identity
// lives, its labels, and the targets it installs certificates into. Every
// path and command the agent ever uses comes from this file: the coordinator
// sends bundles for target *names*, never paths or commands.
//
// Loading never stops at the first problem: the error lists every problem
// found, one per line, as "FILE:LINE:COLUMN: FIELD_PATH: what is wrong", e.g.
//   agent.yaml:14:17: targets[0].files[1].format: "p7b" is not one of key,
//   cert, chain, fullchain, combined, pkcs12
//
//   LocalFilesystem fs;
//   absl::StatusOr<agent::AgentConfig> cfg =
//       agent::LoadAgentConfig("/etc/certfleet/agent.yaml", fs);
//   if (!cfg.ok()) { std::cerr << cfg.status().message() << "\n"; return 2; }
//   const agent::TargetSpec* www = cfg->FindTarget("www");
#ifndef CERTFLEET_AGENT_CONFIG_AGENT_CONFIG_H_
#define CERTFLEET_AGENT_CONFIG_AGENT_CONFIG_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/filesystem.h"

namespace certfleet::agent {

// One file a target writes.
struct FileSpec {
  enum class Format {
    kKey,        // the private key, PKCS#8 PEM
    kCert,       // the leaf certificate, PEM
    kChain,      // the intermediates, PEM, the leaf's issuer first
    kFullchain,  // leaf + intermediates
    kCombined,   // leaf + intermediates + key (haproxy's "crt" file)
    kPkcs12,     // key + leaf + intermediates, encrypted with password_file
  };

  // Relative to the target's directory: no "..", not absolute, not one of
  // the names the agent reserves there ("current", ".versions",
  // ".certfleet*").
  std::string path;
  Format format = Format::kCert;
  // Unset: the target's mode, else 0600 for files holding the key (key,
  // combined, pkcs12) and 0644 for the others.
  std::optional<mode_t> mode;
  // pkcs12 only (required there): path of a file (relative to the
  // configuration's directory, absolute after loading), private to its
  // owner, whose first line is the password.
  std::string password_file;
};

// "key", "cert", ... as written in the configuration.
absl::string_view FormatName(FileSpec::Format format);

// True for the formats that contain the private key.
bool HoldsPrivateKey(FileSpec::Format format);

// One check that a target serves the new certificate correctly.
struct HealthCheckSpec {
  enum class Kind { kTls, kHttp, kCommand };

  Kind kind = Kind::kTls;
  // tls: "ip:port" to connect to (an IP literal: the agent never resolves).
  std::string address;
  // tls: the SNI name sent; defaults to the target's first non-wildcard
  // required name ("" = no SNI, only when there is none; an explicit empty
  // value is refused).
  std::string server_name;
  // http: an http:// or https:// URL fetched with GET. A host name in it is
  // resolved by the system resolver (use an IP literal to avoid that).
  std::string url;
  // http: the status the response must have.
  int expect_status = 200;
  // http: PEM file of the CAs trusted for https; "" = the system store.
  std::string ca_file;
  // command: argv (command[0] absolute), run without a shell; exit 0 = pass.
  std::vector<std::string> command;
  // command: its environment besides PATH, the locale and
  // CERTFLEET_EXPECTED_SERIAL; nothing else of the agent's is passed on.
  std::vector<std::pair<std::string, std::string>> environment;
};

// A place on this host that serves a certificate.
struct TargetSpec {
  // Unique among targets; bundles name it.
  std::string name;
  // Absolute. Everything of the target lives here: the versions, the
  // `current` link, the journal, and a stable link per configured file.
  // The agent refuses it when it, or a directory above it, is a link, is
  // owned by another user than root or the agent's, or is writable by
  // others (agent/install/directory_chain.h; check-config reports it).
  std::string directory;
  // Where `directory` was read ("agent.yaml:14:16"), for messages about it.
  std::string directory_where;
  // Names the certificate must cover (lower-case; "*." allowed); a bundle
  // that misses one is refused. Empty = no requirement.
  std::vector<std::string> require_names;
  std::vector<FileSpec> files;
  // chown of every written file; "" = leave as the agent's user / group.
  std::string owner;
  std::string group;
  // Resolved from owner / group when loading.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // Default mode of the target's files (see FileSpec::mode).
  std::optional<mode_t> mode;
  // argv run after the swap and after a rollback; empty = no reload (a
  // service that watches its files).
  std::vector<std::string> reload_command;
  absl::Duration reload_timeout = absl::Seconds(30);
  // The reload command's environment besides PATH and the locale; nothing
  // else of the agent's is passed on.
  std::vector<std::pair<std::string, std::string>> reload_environment;
  // Wait after the reload before the first health check.
  absl::Duration grace = absl::Seconds(1);
  std::vector<HealthCheckSpec> health;
  // Health checks are retried until they pass or this much time has gone.
  absl::Duration health_timeout = absl::Seconds(15);
  // Between installs, the health checks run this often against what is
  // served and a change is reported to the coordinator (HealthReport);
  // zero = only at start and during installs.
  absl::Duration health_interval = absl::ZeroDuration();
  // Version directories kept, including the serving and the previous one.
  int keep_versions = 3;

  // The mode `file` is written with (its own, the target's, or the default).
  mode_t EffectiveMode(const FileSpec& file) const;
};

struct AgentConfig {
  // The file this came from.
  std::string source_path;
  // "host:port", tried in turn.
  std::vector<std::string> coordinators;
  // PEM file of the CA trusted for the coordinators before enrollment
  // (absolute after loading).
  std::string coordinator_ca;
  // Where the agent keeps its identity key and certificate (absolute).
  std::string identity_dir;
  std::map<std::string, std::string> labels;
  // "ip:port" of the Prometheus /metrics listener; "" = disabled.
  std::string metrics_listen;
  // Reconnection backoff towards the coordinators.
  absl::Duration reconnect_initial = absl::Seconds(1);
  absl::Duration reconnect_max = absl::Seconds(60);
  std::vector<TargetSpec> targets;

  // The target called `name`, or nullptr.
  const TargetSpec* FindTarget(absl::string_view name) const;
};

// Reads `path` through `fs`, expands ${VAR} from the process environment and
// validates. Relative paths (coordinator_ca, identity_dir, password_file)
// are resolved against the file's directory. kNotFound (etc.) when the file
// cannot be read; kInvalidArgument listing every problem otherwise.
absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path,
                                            Filesystem& fs);

// Looks a variable up; nullopt when it is not set.
using AgentGetenv =
    std::function<std::optional<std::string>(const std::string&)>;

// Parses `yaml_text` as if read from `source_name` (used in messages and,
// through its directory, as the base of relative paths), with ${VAR} values
// from `getenv`. Files named in it are checked through `fs`; owner and group
// through the system's user database.
absl::StatusOr<AgentConfig> ParseAgentConfig(absl::string_view yaml_text,
                                             const std::string& source_name,
                                             Filesystem& fs,
                                             AgentGetenv getenv);

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CONFIG_AGENT_CONFIG_H_
