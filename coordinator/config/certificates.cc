// certificates: what certfleet keeps issued (sections.h). Each certificate
// is checked against the issuers and DNS provider zones read before it.
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coordinator/config/dns_names.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {
namespace {

// Let's Encrypt's limit on identifiers per order; other CAs allow as many
// or fewer, and a certificate this large is usually a mistake anyway.
constexpr size_t kMaxNames = 100;

// True when some provider zone contains `name`.
bool InAnyZone(const std::string& name,
               const std::vector<DnsProviderConfig>& providers) {
  for (const DnsProviderConfig& p : providers) {
    for (const std::string& zone : p.zones) {
      if (IsInZone(name, zone)) return true;
    }
  }
  return false;
}

std::string AllZones(const std::vector<DnsProviderConfig>& providers) {
  std::vector<std::string> zones;
  for (const DnsProviderConfig& p : providers) {
    zones.insert(zones.end(), p.zones.begin(), p.zones.end());
  }
  return zones.empty() ? "none" : absl::StrJoin(zones, ", ");
}

void ParseNames(ParseContext& ctx, const Field& field,
                const std::vector<DnsProviderConfig>& providers,
                bool follow_cname, CertificateConfig* out) {
  Reader& r = ctx.reader;
  if (!r.Required(field)) return;
  if (field.node.IsSequence()) {
    if (field.node.size() == 0) {
      r.Error(field, "must list at least one name");
    } else if (field.node.size() > kMaxNames) {
      r.Error(field, absl::StrCat("has ", field.node.size(), " names; at most ",
                                  kMaxNames, " are allowed"));
    }
  }
  std::map<std::string, Field> first_by_name;
  for (const auto& [element, text] : r.Strings(field)) {
    absl::StatusOr<std::string> name = NormalizeCertificateName(text);
    if (!name.ok()) {
      r.Error(element, name.status().message());
      continue;
    }
    auto [first, inserted] = first_by_name.emplace(*name, element);
    if (!inserted) {
      r.Error(element,
              absl::StrCat("\"", *name, "\" is listed twice (first at ",
                           first->second.path, ")"));
      continue;
    }
    if (!follow_cname && !InAnyZone(*name, providers)) {
      r.Error(element, absl::StrCat("\"", *name,
                                    "\" is not inside any dns_providers zone "
                                    "(zones: ",
                                    AllZones(providers),
                                    "; with dns.follow_cname it could be "
                                    "delegated by CNAME)"));
    }
    out->names.push_back(*std::move(name));
  }
}

}  // namespace

void ParseCertificates(ParseContext& ctx, const Field& field,
                       const std::vector<IssuerConfig>& issuers,
                       const std::vector<DnsProviderConfig>& providers,
                       bool follow_cname,
                       const rollout::RolloutPolicy& default_rollout,
                       std::vector<CertificateConfig>* out) {
  Reader& r = ctx.reader;
  std::map<std::string, Field> first_by_name;
  std::vector<std::vector<Field>> target_fields;  // parallel to *out
  for (const Field& item : r.List(field)) {
    if (!item.present()) {
      r.Error(item, "empty list element");
      continue;
    }
    const Mapping m =
        r.Map(item, {"name", "names", "key_type", "issuer", "renew_before",
                     "preferred_chain", "targets", "rollout"});
    if (!item.node.IsMap()) continue;
    CertificateConfig cert;
    const Field name = m.Get("name");
    const bool named = ReadObjectName(ctx, name, &cert.name);
    ParseNames(ctx, m.Get("names"), providers, follow_cname, &cert);
    ReadKeyType(ctx, m.Get("key_type"), &cert.key_type);
    const Field issuer = m.Get("issuer");
    if (r.Required(issuer) && r.String(issuer, &cert.issuer)) {
      bool known = false;
      std::vector<std::string> names;
      for (const IssuerConfig& i : issuers) {
        known = known || i.name == cert.issuer;
        names.push_back(absl::StrCat("\"", i.name, "\""));
      }
      if (!known) {
        r.Error(issuer,
                absl::StrCat(
                    "\"", cert.issuer, "\" is not an issuer (issuers: ",
                    names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
      }
    }
    absl::Duration renew_before;
    if (r.PositiveDuration(m.Get("renew_before"), &renew_before)) {
      cert.renew_before = renew_before;
    }
    r.String(m.Get("preferred_chain"), &cert.preferred_chain);
    std::vector<Field> targets;
    ParseTargets(ctx, m.Get("targets"), &cert.targets, &targets);
    ParseRollout(ctx, m.Get("rollout"), default_rollout, &cert.rollout);

    if (!named) continue;
    auto [first, inserted] = first_by_name.emplace(cert.name, name);
    if (!inserted) {
      r.Error(name,
              absl::StrCat("duplicate certificate name \"", cert.name,
                           "\" (first at ", Where(ctx, first->second), ")"));
      continue;
    }
    out->push_back(std::move(cert));
    target_fields.push_back(std::move(targets));
  }
  CheckTargetConflicts(ctx, *out, target_fields);
}

}  // namespace certfleet::config::internal
