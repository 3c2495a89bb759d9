// dns_providers: who publishes DNS-01 records for which zones (sections.h).
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/yaml/addresses.h"
#include "common/yaml/environment_map.h"
#include "coordinator/config/dns_names.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {
namespace {

constexpr int kMaxTtl = 86400;

void ParseRfc2136(ParseContext& ctx, const Field& field, Rfc2136Config* out) {
  Reader& r = ctx.reader;
  const Mapping m =
      r.Map(field, {"server", "tsig_key_name", "tsig_algorithm", "tsig_secret",
                    "tsig_secret_file", "timeout", "ttl"});
  const Field server = m.Get("server");
  std::string text;
  if (r.Required(server) && r.String(server, &text)) {
    absl::StatusOr<IpPort> endpoint = ParseIpPort(text, 53);
    if (endpoint.ok()) {
      out->server = endpoint->ToString();
    } else {
      r.Error(server, endpoint.status().message());
    }
  }
  // TSIG is required: an unsigned UPDATE would let anyone who can reach the
  // server rewrite the zone.
  const Field key_name = m.Get("tsig_key_name");
  if (r.Required(key_name) && r.String(key_name, &out->tsig_key_name)) {
    absl::StatusOr<std::string> as_name = NormalizeZone(out->tsig_key_name);
    if (!as_name.ok()) r.Error(key_name, as_name.status().message());
  }
  const Field algorithm = m.Get("tsig_algorithm");
  if (r.String(algorithm, &out->tsig_algorithm)) {
    out->tsig_algorithm = absl::AsciiStrToLower(out->tsig_algorithm);
    if (out->tsig_algorithm != "hmac-sha256" &&
        out->tsig_algorithm != "hmac-sha384" &&
        out->tsig_algorithm != "hmac-sha512") {
      r.Error(algorithm, absl::StrCat("\"", out->tsig_algorithm,
                                      "\" is not one of hmac-sha256, "
                                      "hmac-sha384, hmac-sha512"));
    }
  }
  std::optional<Field> from =
      ReadSecret(ctx, m, "tsig_secret", "tsig_secret_file", &out->tsig_secret);
  std::string decoded;
  if (from.has_value() &&
      (!absl::Base64Unescape(out->tsig_secret, &decoded) || decoded.empty())) {
    r.Error(*from,
            "the TSIG secret is not valid base64 (as tsig-keygen "
            "prints it)");
  }
  r.PositiveDuration(m.Get("timeout"), &out->timeout);
  r.Int(m.Get("ttl"), 0, kMaxTtl, &out->ttl);
}

void ParseExec(ParseContext& ctx, const Field& field, ExecProviderConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m = r.Map(field, {"command", "timeout", "env"});
  const Field command = m.Get("command");
  if (r.Required(command)) {
    for (const auto& [element, arg] : r.Strings(command)) {
      if (out->command.empty()) {
        if (arg.empty() || arg.front() != '/') {
          r.Error(element, absl::StrCat("\"", arg,
                                        "\" is not an absolute path (the "
                                        "command runs without a shell or "
                                        "PATH lookup)"));
        } else if (absl::StatusOr<FileInfo> info = ctx.fs.Stat(arg);
                   !info.ok()) {
          r.Error(element, info.status().message());
        } else if (!info->exists) {
          r.Error(element, absl::StrCat("\"", arg, "\" does not exist"));
        } else if (info->is_directory || (info->mode & 0111) == 0) {
          r.Error(element, absl::StrCat("\"", arg, "\" is not executable"));
        }
      }
      out->command.push_back(arg);
    }
    if (command.node.IsSequence() && command.node.size() == 0) {
      r.Error(command, "must hold the program and its arguments");
    }
  }
  r.PositiveDuration(m.Get("timeout"), &out->timeout);
  yaml::ReadEnvironment(r, m.Get("env"), &out->env);
}

// The settings each provider type reads, by the name written in `type:`
// (and used as the key of its settings). The registry of providers
// (coordinator/dns/providers/provider_registry.h) builds the same types.
struct ProviderSettings {
  const char* type;
  void (*read)(ParseContext& ctx, const Field& field, DnsProviderConfig& out);
};
constexpr ProviderSettings kProviderSettings[] = {
    {"rfc2136",
     [](ParseContext& ctx, const Field& field, DnsProviderConfig& out) {
       ParseRfc2136(ctx, field, &out.rfc2136);
     }},
    {"exec", [](ParseContext& ctx, const Field& field,
                DnsProviderConfig& out) { ParseExec(ctx, field, &out.exec); }},
};

}  // namespace
}  // namespace certfleet::config::internal

namespace certfleet::config {

std::vector<std::string> DnsProviderTypes() {
  std::vector<std::string> out;
  for (const internal::ProviderSettings& s : internal::kProviderSettings) {
    out.push_back(s.type);
  }
  return out;
}

}  // namespace certfleet::config

namespace certfleet::config::internal {

void ParseDnsProviders(ParseContext& ctx, const Field& field,
                       std::vector<DnsProviderConfig>* out) {
  Reader& r = ctx.reader;
  std::map<std::string, Field> first_by_name;
  // zone → (provider name, where the zone was listed)
  std::map<std::string, std::pair<std::string, Field>> zone_owner;
  for (const Field& item : r.List(field)) {
    if (!item.present()) {
      r.Error(item, "empty list element");
      continue;
    }
    std::vector<const char*> keys = {"name", "type", "zones"};
    for (const ProviderSettings& s : kProviderSettings) keys.push_back(s.type);
    const Mapping m = r.Map(item, keys);
    if (!item.node.IsMap()) continue;
    DnsProviderConfig provider;
    const Field name = m.Get("name");
    const bool named = ReadObjectName(ctx, name, &provider.name);

    const Field type = m.Get("type");
    const ProviderSettings* settings_of_type = nullptr;
    if (r.Required(type) && r.String(type, &provider.type)) {
      for (const ProviderSettings& s : kProviderSettings) {
        if (provider.type == s.type) settings_of_type = &s;
      }
      if (settings_of_type == nullptr) {
        r.Error(type, absl::StrCat("\"", provider.type, "\" is not one of ",
                                   absl::StrJoin(DnsProviderTypes(), ", ")));
      }
    }
    if (settings_of_type != nullptr) {
      // Each type's settings sit under a key named for the type; another
      // type's key is a mistake worth naming.
      for (const ProviderSettings& s : kProviderSettings) {
        const Field other = m.Get(s.type);
        if (&s != settings_of_type && other.present()) {
          r.Error(other, absl::StrCat("not used with type ", provider.type,
                                      "; remove it or change the type"));
        }
      }
      const Field settings = m.Get(settings_of_type->type);
      if (r.Required(settings)) {
        settings_of_type->read(ctx, settings, provider);
      }
    }

    const Field zones = m.Get("zones");
    if (r.Required(zones) && zones.node.IsSequence() &&
        zones.node.size() == 0) {
      r.Error(zones, "must list at least one zone");
    }
    for (const auto& [element, text] : r.Strings(zones)) {
      absl::StatusOr<std::string> zone = NormalizeZone(text);
      if (!zone.ok()) {
        r.Error(element, zone.status().message());
        continue;
      }
      auto [owner, inserted] =
          zone_owner.emplace(*zone, std::make_pair(provider.name, element));
      if (!inserted) {
        r.Error(element, absl::StrCat("zone \"", *zone,
                                      "\" is already served by dns provider \"",
                                      owner->second.first, "\" (",
                                      Where(ctx, owner->second.second), ")"));
        continue;
      }
      provider.zones.push_back(*std::move(zone));
    }

    if (!named) continue;
    auto [first, inserted] = first_by_name.emplace(provider.name, name);
    if (!inserted) {
      r.Error(name,
              absl::StrCat("duplicate dns provider name \"", provider.name,
                           "\" (first at ", Where(ctx, first->second), ")"));
      continue;
    }
    out->push_back(std::move(provider));
  }
}

}  // namespace certfleet::config::internal
