// The coordinator's configuration: what it reads from coordinator.yaml, with
// every default filled in and every value checked. docs/configuration.md
// describes each field; deploy/examples/coordinator.yaml is a commented
// example.
//
// Loading never stops at the first problem: the error lists every problem
// found, one per line, each as "FILE:LINE:COLUMN: FIELD_PATH: what is wrong",
// so an operator fixes a file in one pass.
//
//   LocalFilesystem fs;
//   absl::StatusOr<config::CoordinatorConfig> cfg =
//       config::LoadConfig("/etc/certfleet/coordinator.yaml", fs);
//   if (!cfg.ok()) { std::cerr << cfg.status().message(); return 2; }
//   const config::IssuerConfig* le = cfg->FindIssuer("letsencrypt");
#ifndef CERTFLEET_COORDINATOR_CONFIG_CONFIG_H_
#define CERTFLEET_COORDINATOR_CONFIG_CONFIG_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto/key_type.h"
#include "common/filesystem.h"
#include "coordinator/rollout/policy.h"

namespace certfleet::config {

// External Account Binding (RFC 8555 §7.3.4): the key id and MAC key a CA
// such as ZeroSSL or a private CA hands out with an account.
struct EabConfig {
  std::string kid;
  // base64url, exactly as the CA gave it (read from hmac_key or
  // hmac_key_file; surrounding whitespace removed).
  std::string hmac_key;
};

// One ACME CA and the account certfleet holds with it.
struct IssuerConfig {
  // Unique among issuers; certificates refer to it.
  std::string name;
  // The ACME directory URL. https:// (http:// only for 127.0.0.1, localhost
  // and [::1]).
  std::string directory_url;
  // PEM file of the CAs trusted for this issuer's HTTPS endpoint (absolute
  // after loading); "" = the system trust store. Verification is never off.
  std::string trust_bundle;
  // Account contacts, each "mailto:..." (a bare address gets mailto:).
  std::vector<std::string> contacts;
  // The ACME account key: ec256 → ES256, ec384 → ES384, rsa* → RS256.
  crypto::KeyType account_key_type = crypto::KeyType::kEc256;
  std::optional<EabConfig> eab;
  // Issuer CN of the top certificate of the wanted alternate chain;
  // "" = the CA's default chain.
  std::string preferred_chain;
  // Orders in flight at once for this issuer.
  int max_concurrent_orders = 8;
  // Every ACME request to this issuer (Let's Encrypt allows ~250/s per IP
  // for most endpoints).
  double requests_per_second = 200;
  // HEAD/GET newNonce requests (Let's Encrypt: 20/s).
  double new_nonce_per_second = 20;
  // New orders per account per window (Let's Encrypt: 300 per 3 h);
  // 0 = unlimited.
  int new_orders_per_window = 300;
  absl::Duration new_orders_window = absl::Hours(3);
  // One HTTP request.
  absl::Duration request_timeout = absl::Seconds(30);
  // A whole order, including DNS propagation.
  absl::Duration order_timeout = absl::Minutes(15);
  // ACME profile name sent in newOrder; "" = none.
  std::string profile;
  // Hosts besides the directory's that the CA's URLs may point at (every
  // request goes over https to one of them: coordinator/acme/url_policy.h).
  // Lower-case host names or IP addresses (IPv6 without brackets).
  std::vector<std::string> allowed_hosts;
};

// RFC 2136 dynamic update signed with TSIG (RFC 8945).
struct Rfc2136Config {
  // "ip:port" of the primary name server (port defaults to 53).
  std::string server;
  std::string tsig_key_name;
  // hmac-sha256, hmac-sha384 or hmac-sha512.
  std::string tsig_algorithm = "hmac-sha256";
  // base64 (from tsig_secret or tsig_secret_file).
  std::string tsig_secret;
  absl::Duration timeout = absl::Seconds(10);
  // TTL of the challenge TXT records.
  int ttl = 60;
};

// A program run to add or remove records (argv, never through a shell).
struct ExecProviderConfig {
  // command[0] is an absolute path.
  std::vector<std::string> command;
  absl::Duration timeout = absl::Seconds(60);
  // Extra environment variables, in the order written.
  std::vector<std::pair<std::string, std::string>> env;
};

// Something that can publish DNS-01 records for a set of zones.
struct DnsProviderConfig {
  std::string name;
  // The provider type, one of DnsProviderTypes(): "rfc2136", "exec".
  std::string type;
  // Absolute, lower-case, with the trailing dot: "example.test.".
  std::vector<std::string> zones;
  // Filled only for the matching type.
  Rfc2136Config rfc2136;
  ExecProviderConfig exec;
};

// How certfleet looks things up in DNS.
struct DnsConfig {
  // "ip:port" (port defaults to 53). Required and non-empty: certfleet never
  // uses the system resolver.
  std::vector<std::string> resolvers;
  // Port used to query the authoritative servers found from NS records.
  int nameserver_port = 53;
  absl::Duration propagation_interval = absl::Milliseconds(250);
  absl::Duration propagation_timeout = absl::Minutes(5);
  // Follow a CNAME on _acme-challenge.<name> to where the record really
  // lives (delegated validation).
  bool follow_cname = true;
};

// Which agents' target receives a certificate: every agent carrying all of
// `agent_labels` (none = every agent) that declares a target named `target`
// in its own configuration.
struct TargetSelector {
  std::map<std::string, std::string> agent_labels;
  // Letters, digits, ".", "_" and "-".
  std::string target;
};

// One certificate certfleet keeps issued.
struct CertificateConfig {
  std::string name;
  // Lower-case, no trailing dot; "*." only as the whole leftmost label.
  std::vector<std::string> names;
  crypto::KeyType key_type = crypto::KeyType::kEc256;
  // Name of an IssuerConfig.
  std::string issuer;
  // Renew this long before expiry; unset = a third of the lifetime.
  std::optional<absl::Duration> renew_before;
  // Overrides the issuer's preferred_chain when not empty.
  std::string preferred_chain;
  // Where it is delivered. Loading guarantees that no two certificates have
  // identical selectors for one target, nor one a subset of the other.
  std::vector<TargetSelector> targets;
  // How a new version reaches the targets: the file's top-level `rollout`
  // with this certificate's own `rollout` fields laid over it.
  ::certfleet::rollout::RolloutPolicy rollout;
};

// The etcd v3 cluster several coordinators share (store.type etcd).
struct EtcdConfig {
  // "host:port" of the members' client URLs, tried in turn.
  std::vector<std::string> endpoints;
  // Every key certfleet writes starts with it ("/certfleet/"): several
  // installations can share one cluster.
  std::string prefix = "/certfleet/";
  // TLS to etcd when ca_file is set (absolute after loading); a client
  // certificate when cert_file and key_file are (both or neither).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // Each call to etcd gives up after this.
  absl::Duration request_timeout = absl::Seconds(5);
};

struct StoreConfig {
  // "sqlite" (one coordinator) or "etcd" (several).
  std::string type = "sqlite";
  // Absolute after loading.
  std::string sqlite_path;
  // SQLite's synchronous pragma: "normal" or "full".
  std::string sqlite_sync = "normal";
  EtcdConfig etcd;
};

// Several coordinators on etcd: one leader, elected on an etcd lease.
struct HaConfig {
  // The leader's lease: a leader that cannot renew it (dead, cut off from
  // etcd) stops acting within it, and another takes over after it.
  absl::Duration lease_ttl = absl::Seconds(3);
  // How long a replica may fail to reach etcd before it hands its agents
  // to the other replicas (and its presence keys' lease: by then the leader
  // counts its agents offline).
  absl::Duration cut_off_after = absl::Seconds(6);
  // This coordinator's name in the election and in status; "" = the host
  // name.
  std::string replica;
};

struct MetricsConfig {
  // "host:port" of the Prometheus /metrics listener; "" = disabled.
  std::string listen;
};

struct SchedulerConfig {
  // Orders in flight at once, across all issuers.
  int max_concurrent_orders = 16;
  // How often every certificate is checked for renewal.
  absl::Duration check_interval = absl::Minutes(10);
  // Backoff after a failed order: starts here, doubles, stops growing at max.
  absl::Duration retry_initial = absl::Minutes(1);
  absl::Duration retry_max = absl::Hours(6);
};

// How long the store keeps what is no longer needed (coordinator/retention).
struct RetentionConfig {
  // A version is deleted once it has been expired this long, unless it is
  // the certificate's newest or one a rollout names (docs/operations.md).
  // Rolling back to an expired certificate helps no one; the default keeps
  // a month of them for investigation.
  absl::Duration expired_versions = absl::Hours(24 * 30);
};

// The agent service: enrollment and the agents' streams (gRPC over mTLS
// under the coordinator's internal CA).
struct AgentsConfig {
  // "ip:port" the agent service listens on; "" = no agent service.
  std::string listen;
  // DNS names and IP addresses in the coordinator's serving certificate, as
  // agents dial it. Defaults to the listen IP (required when that is a
  // wildcard address such as 0.0.0.0).
  std::vector<std::string> server_names;
  // Lifetime of an agent identity certificate (identity_ttl, at least 10m;
  // identity_lifetime is its deprecated old name); agents renew it over
  // their stream when a third of it is left. The default, 30 days, lets a
  // host be off for ten days and come back (docs/agent.md).
  absl::Duration identity_ttl = absl::Hours(24 * 30);
  // `certfleet-coordinator token create` without --ttl.
  absl::Duration default_token_ttl = absl::Hours(1);
  // An agent not connected for this long is stale (at least 1m): rollouts
  // no longer wait for it, and `certfleetctl agents list` says so. The
  // default, an hour, outlasts a reboot or an agent upgrade, and bounds how
  // long a host that is gone for good holds a rollout wave.
  absl::Duration stale_after = absl::Hours(1);
};

// The admin API (coordinator/adminapi, used by certfleetctl): gRPC over
// mTLS, callers need an admin identity from the internal CA.
struct AdminConfig {
  // "ip:port" the admin API listens on; "" = no admin API. Usually a
  // loopback address: 127.0.0.1:7444.
  std::string listen;
  // DNS names and IP addresses in the admin API's serving certificate, as
  // certfleetctl dials it. Defaults to the listen IP (required when that is
  // a wildcard address).
  std::vector<std::string> server_names;
};

// The DNS provider zone a certificate name falls in (see FindZone).
struct ZoneMatch {
  const DnsProviderConfig* provider = nullptr;
  std::string zone;  // "example.test."
};

// The whole file.
struct CoordinatorConfig {
  // The file this came from, as given to LoadConfig / ParseConfig.
  std::string source_path;
  // What was accepted but deserves a second look (a deprecated key, a
  // certificate selected on every agent), one line each as
  // "FILE:LINE:COLUMN: field: what and why": printed by check-config (exit
  // status 0), logged at warning by serve.
  std::vector<std::string> warnings;
  StoreConfig store;
  // Absolute path of the key-encryption key (mode 0600).
  std::string key_encryption_key_file;
  // Where the internal CA's certificate is written for agents'
  // coordinator_ca (absolute): `internal_ca_file`, by default next to the
  // SQLite store; required with etcd (there is no store file to sit by).
  std::string internal_ca_file;
  MetricsConfig metrics;
  SchedulerConfig scheduler;
  RetentionConfig retention;
  DnsConfig dns;
  std::vector<IssuerConfig> issuers;
  std::vector<DnsProviderConfig> dns_providers;
  std::vector<CertificateConfig> certificates;
  // `removed_certificates`: certificates taken out of service on purpose.
  // The leader abandons their in-flight orders (authorizations deactivated
  // at the CA, DNS-01 records removed; audited). A certificate that is
  // merely absent from this file is left alone: another replica's
  // configuration may still name it.
  std::vector<std::string> removed_certificates;
  AgentsConfig agents;
  AdminConfig admin;
  HaConfig ha;
  // The top-level `rollout`: the policy of every certificate that does not
  // override it (already merged into each CertificateConfig::rollout).
  ::certfleet::rollout::RolloutPolicy rollout;
  // ClusterDigest of the file (cluster_digest.h): equal on every replica
  // whose configuration decides the same things.
  std::string cluster_digest;

  // The issuer called `name`, or nullptr.
  const IssuerConfig* FindIssuer(absl::string_view name) const;

  // The provider and zone that publish DNS-01 records for `name`
  // (normalized: lower-case, no trailing dot, "*." allowed): the longest
  // zone containing it. nullopt when none does (loading guarantees every
  // configured certificate name has one).
  std::optional<ZoneMatch> FindZone(absl::string_view name) const;
};

// The DNS provider types dns_providers[].type accepts, in the order error
// messages list them.
std::vector<std::string> DnsProviderTypes();

// Reads `path` through `fs`, expands ${VAR} from the process environment and
// validates. Relative paths in the file are resolved against the file's
// directory (made absolute with the current directory). kNotFound (etc.) if
// the file cannot be read; kInvalidArgument listing every problem otherwise.
absl::StatusOr<CoordinatorConfig> LoadConfig(const std::string& path,
                                             Filesystem& fs);

// Looks a variable up; nullopt when it is not set.
using GetenvFunction =
    std::function<std::optional<std::string>(const std::string&)>;

// Parses `yaml_text` as if read from `source_name` (used in messages and as
// the base for relative paths), taking ${VAR} values from `getenv`. Secret
// files, the trust bundles and the KEK are checked through `fs`.
// kInvalidArgument listing every problem, e.g.
//   coordinator.yaml:31:15: certificates[2].key_type: "ec521" is not one of
//   ec256, ec384, rsa2048, rsa3072, rsa4096
absl::StatusOr<CoordinatorConfig> ParseConfig(absl::string_view yaml_text,
                                              const std::string& source_name,
                                              Filesystem& fs,
                                              GetenvFunction getenv);

}  // namespace certfleet::config

#endif  // CERTFLEET_COORDINATOR_CONFIG_CONFIG_H_
