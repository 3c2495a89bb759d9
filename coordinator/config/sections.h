// Internal to certfleet_config: the readers for each part of
// coordinator.yaml, called in order by ParseConfig (config.cc). Each reads
// its part into the config structs and reports every problem to the Reader's
// Diagnostics; none stops at the first problem.
//
//   ParseContext ctx{reader, fs, "/etc/certfleet"};
//   ParseIssuers(ctx, root.Get("issuers"), &cfg.issuers);
#ifndef CERTFLEET_COORDINATOR_CONFIG_SECTIONS_H_
#define CERTFLEET_COORDINATOR_CONFIG_SECTIONS_H_

#include <string>
#include <vector>

#include "common/filesystem.h"
#include "common/yaml/yaml_reader.h"
#include "coordinator/config/config.h"

namespace certfleet::config::internal {

// The generic YAML reading (positions, types, durations, secrets) lives in
// common/yaml, shared with the agent.
using namespace ::certfleet::yaml;  // NOLINT(build/namespaces)

struct ParseContext {
  Reader& reader;
  Filesystem& fs;
  // Directory relative paths are resolved against; "" leaves them relative.
  std::string base_dir;
  // Where Warn puts settings that are accepted but deserve a second look (a
  // deprecated key, a certificate for every agent); null: dropped.
  std::vector<std::string>* warnings = nullptr;
};

// Records a warning about `field` as "FILE:LINE:COLUMN: PATH: message" in
// ctx.warnings (CoordinatorConfig::warnings).
void Warn(ParseContext& ctx, const Field& field, absl::string_view message);

// A required name of an issuer, DNS provider or certificate: letters,
// digits, ".", "_" and "-", starting with a letter or digit, at most 64
// characters (it appears in logs, metrics labels and certfleetctl).
bool ReadObjectName(ParseContext& ctx, const Field& field, std::string* out);

// A file path, resolved against base_dir. Returns true when a non-empty
// path was read. When `required`, reports a missing or empty one.
bool ReadPath(ParseContext& ctx, const Field& field, bool required,
              std::string* out);

// Exactly one of `m.<inline_key>` (the secret itself) or `m.<file_key>` (a
// private file holding it). Returns the field the secret came from, for
// messages about its value; nullopt after reporting a problem.
std::optional<Field> ReadSecret(ParseContext& ctx, const Mapping& m,
                                const char* inline_key, const char* file_key,
                                std::string* out);

// A key type name (ec256, ec384, rsa2048, rsa3072, rsa4096).
bool ReadKeyType(ParseContext& ctx, const Field& field, crypto::KeyType* out);

// "coordinator.yaml:12:11", for "first at ..." in duplicate reports.
std::string Where(ParseContext& ctx, const Field& field);

// store.cc: `store` (sqlite or etcd) and `ha` (which needs etcd).
void ParseStore(ParseContext& ctx, const Field& field, StoreConfig* out);
void ParseHa(ParseContext& ctx, const Field& field, const StoreConfig& store,
             HaConfig* out);
// `internal_ca_file`: optional next to SQLite (default: beside the store),
// required with etcd.
void ParseInternalCaFile(ParseContext& ctx, const Field& field,
                         const StoreConfig& store, std::string* out);

// Top-level sections with few fields (general_sections.cc).
void ParseKeyEncryptionKeyFile(ParseContext& ctx, const Field& field,
                               std::string* out);
void ParseMetrics(ParseContext& ctx, const Field& field, MetricsConfig* out);
void ParseScheduler(ParseContext& ctx, const Field& field,
                    SchedulerConfig* out);
void ParseRetention(ParseContext& ctx, const Field& field,
                    RetentionConfig* out);
void ParseDns(ParseContext& ctx, const Field& field, DnsConfig* out);

// issuers.cc
void ParseIssuers(ParseContext& ctx, const Field& field,
                  std::vector<IssuerConfig>* out);

// dns_providers.cc; also reports a zone served by two providers.
void ParseDnsProviders(ParseContext& ctx, const Field& field,
                       std::vector<DnsProviderConfig>* out);

// rollout.cc: a `rollout` mapping over `base` — RolloutPolicy's defaults
// for the top-level section, the top-level policy for a certificate's
// override. Fields present replace base's; `*out` starts as `base`.
void ParseRollout(ParseContext& ctx, const Field& field,
                  const rollout::RolloutPolicy& base,
                  rollout::RolloutPolicy* out);

// certificates.cc; also checks each certificate against the issuers and the
// providers' zones already read. `default_rollout` is what each
// certificate's `rollout` overrides.
// With `follow_cname`, a name outside every provider zone is accepted: its
// _acme-challenge may be a CNAME into a configured zone (delegated
// validation), which only the order can find out.
void ParseCertificates(ParseContext& ctx, const Field& field,
                       const std::vector<IssuerConfig>& issuers,
                       const std::vector<DnsProviderConfig>& providers,
                       bool follow_cname,
                       const rollout::RolloutPolicy& default_rollout,
                       std::vector<CertificateConfig>* out);

// agents.cc: the agents section.
void ParseAgents(ParseContext& ctx, const Field& field, AgentsConfig* out);

// agents.cc: a `server_names` list (IP addresses and DNS names, no
// wildcards); `who` names the clients that dial them ("agents"), for the
// message about a wildcard address.
void ParseServerNames(ParseContext& ctx, const Field& field, const char* who,
                      std::vector<std::string>* out);

// agents.cc: whether `ip` is 0.0.0.0 or ::.
bool IsWildcardIp(const std::string& ip);

// admin.cc: the admin section.
void ParseAdmin(ParseContext& ctx, const Field& field, AdminConfig* out);

// agents.cc: one certificate's `targets` list; `where` gets the field of
// each selector kept (for CheckTargetConflicts).
void ParseTargets(ParseContext& ctx, const Field& field,
                  std::vector<TargetSelector>* out, std::vector<Field>* where);

// agents.cc: reports, at the later one, a selector of a certificate that can
// pick the same agent target as a selector of an earlier certificate: same
// target name, and labels identical or one a subset of the other. `where`
// holds each certificate's selector fields, parallel to `certificates`.
void CheckTargetConflicts(ParseContext& ctx,
                          const std::vector<CertificateConfig>& certificates,
                          const std::vector<std::vector<Field>>& where);

}  // namespace certfleet::config::internal

#endif  // CERTFLEET_COORDINATOR_CONFIG_SECTIONS_H_
