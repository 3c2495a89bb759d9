#include "coordinator/config/config.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/yaml/config_file.h"
#include "common/yaml/diagnostics.h"
#include "common/yaml/yaml_reader.h"
#include "coordinator/config/cluster_digest.h"
#include "coordinator/config/dns_names.h"
#include "coordinator/config/sections.h"
#include "yaml-cpp/yaml.h"

namespace certfleet::config {

using namespace ::certfleet::yaml;  // NOLINT(build/namespaces)

namespace {

// `removed_certificates`: names taken out of service on purpose (their
// in-flight orders are abandoned); none may still be configured.
void ParseRemovedCertificates(
    internal::ParseContext& ctx, const Field& field,
    const std::vector<CertificateConfig>& certificates,
    std::vector<std::string>* out) {
  if (!field.present()) return;
  Reader& r = ctx.reader;
  for (const Field& item : r.List(field)) {
    std::string name;
    if (!internal::ReadObjectName(ctx, item, &name)) continue;
    for (const CertificateConfig& c : certificates) {
      if (c.name == name) {
        r.Error(item, absl::StrCat("\"", name,
                                   "\" is also under certificates: a "
                                   "certificate is either configured or "
                                   "removed"));
      }
    }
    out->push_back(std::move(name));
  }
}

void ParseDocument(const YAML::Node& doc, internal::ParseContext& ctx,
                   CoordinatorConfig* cfg) {
  Reader& r = ctx.reader;
  if (!doc.IsDefined() || doc.IsNull()) {
    r.diags().Add(YAML::Mark::null_mark(), "",
                  "the file is empty (deploy/examples/coordinator.yaml is a "
                  "commented example)");
    return;
  }
  if (!doc.IsMap()) {
    // Every field would be "missing"; saying so would only bury this.
    r.Error(r.Root(doc), absl::StrCat("expected a mapping of sections "
                                      "(store, dns, issuers, ...), got ",
                                      DescribeNodeType(doc)));
    return;
  }
  const Mapping root = r.Map(
      r.Root(doc),
      {"store", "key_encryption_key_file", "metrics", "scheduler", "retention",
       "dns", "issuers", "dns_providers", "rollout", "certificates",
       "removed_certificates", "agents", "admin", "ha", "internal_ca_file"});
  internal::ParseStore(ctx, root.Get("store"), &cfg->store);
  internal::ParseHa(ctx, root.Get("ha"), cfg->store, &cfg->ha);
  internal::ParseInternalCaFile(ctx, root.Get("internal_ca_file"), cfg->store,
                                &cfg->internal_ca_file);
  internal::ParseKeyEncryptionKeyFile(ctx, root.Get("key_encryption_key_file"),
                                      &cfg->key_encryption_key_file);
  internal::ParseMetrics(ctx, root.Get("metrics"), &cfg->metrics);
  internal::ParseScheduler(ctx, root.Get("scheduler"), &cfg->scheduler);
  internal::ParseRetention(ctx, root.Get("retention"), &cfg->retention);
  internal::ParseDns(ctx, root.Get("dns"), &cfg->dns);
  // Order matters: certificates are checked against issuers and zones, and
  // their rollout overrides the top-level one.
  internal::ParseRollout(ctx, root.Get("rollout"), rollout::RolloutPolicy(),
                         &cfg->rollout);
  internal::ParseIssuers(ctx, root.Get("issuers"), &cfg->issuers);
  internal::ParseDnsProviders(ctx, root.Get("dns_providers"),
                              &cfg->dns_providers);
  internal::ParseCertificates(ctx, root.Get("certificates"), cfg->issuers,
                              cfg->dns_providers, cfg->dns.follow_cname,
                              cfg->rollout, &cfg->certificates);
  ParseRemovedCertificates(ctx, root.Get("removed_certificates"),
                           cfg->certificates, &cfg->removed_certificates);
  internal::ParseAgents(ctx, root.Get("agents"), &cfg->agents);
  internal::ParseAdmin(ctx, root.Get("admin"), &cfg->admin);
  cfg->cluster_digest = ClusterDigest(doc);
}

absl::StatusOr<CoordinatorConfig> Parse(absl::string_view yaml_text,
                                        const std::string& source_name,
                                        const std::string& base_dir,
                                        Filesystem& fs, GetenvFunction getenv) {
  Diagnostics diags(source_name);
  CoordinatorConfig cfg;
  cfg.source_path = source_name;
  // yaml-cpp reports through exceptions; they stop here.
  try {
    const YAML::Node doc = YAML::Load(std::string(yaml_text));
    Reader reader(diags, std::move(getenv));
    internal::ParseContext ctx{reader, fs, base_dir, &cfg.warnings};
    ParseDocument(doc, ctx, &cfg);
  } catch (const YAML::Exception& e) {
    diags.Add(e.mark, "", e.msg);
  }
  if (!diags.empty()) return diags.ToStatus();
  return cfg;
}

}  // namespace

const IssuerConfig* CoordinatorConfig::FindIssuer(
    absl::string_view name) const {
  for (const IssuerConfig& issuer : issuers) {
    if (issuer.name == name) return &issuer;
  }
  return nullptr;
}

std::optional<ZoneMatch> CoordinatorConfig::FindZone(
    absl::string_view name) const {
  std::optional<ZoneMatch> best;
  for (const DnsProviderConfig& provider : dns_providers) {
    for (const std::string& zone : provider.zones) {
      if (IsInZone(name, zone) &&
          (!best.has_value() || zone.size() > best->zone.size())) {
        best = ZoneMatch{&provider, zone};
      }
    }
  }
  return best;
}

absl::StatusOr<CoordinatorConfig> LoadConfig(const std::string& path,
                                             Filesystem& fs) {
  ASSIGN_OR_RETURN(yaml::ConfigFile file, yaml::ReadConfigFile(path, fs));
  return Parse(file.text, path, file.base_dir, fs, yaml::ProcessGetenv);
}

absl::StatusOr<CoordinatorConfig> ParseConfig(absl::string_view yaml_text,
                                              const std::string& source_name,
                                              Filesystem& fs,
                                              GetenvFunction getenv) {
  return Parse(yaml_text, source_name, yaml::ConfigDirName(source_name), fs,
               std::move(getenv));
}

}  // namespace certfleet::config
