// The agent service section and the certificates' target selectors
// (declared in sections.h).
#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "common/names.h"
#include "common/yaml/addresses.h"
#include "common/yaml/duration.h"
#include "coordinator/config/dns_names.h"
#include "coordinator/config/sections.h"

namespace certfleet::config::internal {
namespace {

// Below this, agents would spend their time renewing.
constexpr absl::Duration kMinIdentityLifetime = absl::Minutes(10);
// Below this, an agent that merely reconnects (its backoff reaches a
// minute) would be taken for gone.
constexpr absl::Duration kMinStaleAfter = absl::Minutes(1);

bool IsIpLiteral(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::string Describe(const labels::Labels& labels) {
  return labels.empty()
             ? "every agent"
             : absl::StrCat("agents labelled ", labels::FormatLabels(labels));
}

}  // namespace

bool IsWildcardIp(const std::string& ip) {
  unsigned char buf[16] = {0};
  const unsigned char zeros[16] = {0};
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1)
    return memcmp(buf, zeros, 4) == 0;
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    return memcmp(buf, zeros, 16) == 0;
  }
  return false;
}

void ParseServerNames(ParseContext& ctx, const Field& field, const char* who,
                      std::vector<std::string>* out) {
  Reader& r = ctx.reader;
  if (field.node.IsSequence() && field.node.size() == 0) {
    r.Error(field, "must list at least one name (or leave it out)");
  }
  for (const auto& [element, text] : r.Strings(field)) {
    if (IsIpLiteral(text)) {
      if (IsWildcardIp(text)) {
        r.Error(element, absl::StrCat("\"", text, "\" is a wildcard address; ",
                                      who, " cannot dial it"));
        continue;
      }
      out->push_back(text);
      continue;
    }
    absl::StatusOr<std::string> name = NormalizeCertificateName(text);
    if (!name.ok()) {
      r.Error(element, absl::StrCat("not an IP address nor a DNS name: ",
                                    name.status().message()));
      continue;
    }
    if (absl::StartsWith(*name, "*")) {
      r.Error(element, absl::StrCat("\"", text,
                                    "\": a server name cannot be a wildcard"));
      continue;
    }
    out->push_back(*std::move(name));
  }
}

void ParseAgents(ParseContext& ctx, const Field& field, AgentsConfig* out) {
  Reader& r = ctx.reader;
  const Mapping m =
      r.Map(field, {"listen", "server_names", "identity_ttl",
                    "identity_lifetime", "token_ttl", "stale_after"});
  const Field listen = m.Get("listen");
  std::string text;
  std::optional<IpPort> endpoint;
  if (r.String(listen, &text) && !text.empty()) {
    absl::StatusOr<IpPort> parsed = ParseIpPort(text, std::nullopt);
    if (parsed.ok()) {
      endpoint = *parsed;
      out->listen = parsed->ToString();
    } else {
      r.Error(listen, parsed.status().message());
    }
  }
  const Field names = m.Get("server_names");
  if (names.present()) {
    if (text.empty()) {  // absent or "" (an invalid one is reported above)
      r.Error(names,
              "set agents.listen too: without it there is no agent service "
              "to name");
    }
    ParseServerNames(ctx, names, "agents", &out->server_names);
  } else if (endpoint.has_value()) {
    if (IsWildcardIp(endpoint->ip)) {
      r.Error(names,
              absl::StrCat("required when listen is a wildcard address (",
                           endpoint->ip,
                           "): list the IP addresses or DNS names "
                           "agents dial"));
    } else {
      out->server_names.push_back(endpoint->ip);
    }
  }
  // identity_lifetime is the old name of identity_ttl: still read (a
  // configuration that worked keeps working), with a warning.
  Field ttl = m.Get("identity_ttl");
  const Field old_name = m.Get("identity_lifetime");
  if (old_name.present()) {
    if (ttl.present()) {
      r.Error(old_name,
              "set only identity_ttl (identity_lifetime is its old name)");
    } else {
      Warn(ctx, old_name, "deprecated: rename it identity_ttl");
      ttl = old_name;
    }
  }
  if (r.PositiveDuration(ttl, &out->identity_ttl) &&
      out->identity_ttl < kMinIdentityLifetime) {
    r.Error(ttl, absl::StrCat(FormatConfigDuration(out->identity_ttl),
                              " is shorter than the minimum, ",
                              FormatConfigDuration(kMinIdentityLifetime)));
  }
  r.PositiveDuration(m.Get("token_ttl"), &out->default_token_ttl);
  const Field stale = m.Get("stale_after");
  if (r.PositiveDuration(stale, &out->stale_after) &&
      out->stale_after < kMinStaleAfter) {
    r.Error(stale, absl::StrCat(FormatConfigDuration(out->stale_after),
                                " is shorter than the minimum, ",
                                FormatConfigDuration(kMinStaleAfter)));
  }
}

void ParseTargets(ParseContext& ctx, const Field& field,
                  std::vector<TargetSelector>* out, std::vector<Field>* where) {
  Reader& r = ctx.reader;
  for (const Field& item : r.List(field)) {
    if (!item.present()) {
      r.Error(item, "empty list element");
      continue;
    }
    const Mapping m = r.Map(item, {"agents", "target"});
    if (!item.node.IsMap()) continue;
    TargetSelector selector;
    bool ok = true;
    const Field target = m.Get("target");
    if (!r.Required(target) || !r.String(target, &selector.target)) {
      ok = false;
    } else if (!IsObjectName(selector.target)) {
      r.Error(target, absl::StrCat("\"", selector.target,
                                   "\" is not a valid target name (",
                                   kObjectNameGrammar, ")"));
      ok = false;
    }
    const Field agents = m.Get("agents");
    if (agents.present() && !agents.node.IsMap()) {
      r.Error(agents, absl::StrCat("expected a mapping of labels, got ",
                                   DescribeNodeType(agents.node)));
      ok = false;
    } else if (agents.present()) {
      for (auto it = agents.node.begin(); it != agents.node.end(); ++it) {
        const YAML::Node key = it->first;
        Field value;
        value.node.reset(it->second);
        value.path =
            absl::StrCat(agents.path, ".", key.IsScalar() ? key.Scalar() : "?");
        value.mark = it->second.IsNull() ? key.Mark() : it->second.Mark();
        std::string label_value;
        if (!key.IsScalar()) {
          r.Error(Field{key, value.path, key.Mark()},
                  "a label key must be a string");
          ok = false;
          continue;
        }
        if (!value.present()) {
          r.Error(value, "a label value must not be empty");
          ok = false;
          continue;
        }
        if (!r.String(value, &label_value)) {
          ok = false;
          continue;
        }
        if (absl::Status s = labels::CheckLabel(key.Scalar(), label_value);
            !s.ok()) {
          r.Error(value, s.message());
          ok = false;
          continue;
        }
        selector.agent_labels.emplace(key.Scalar(), std::move(label_value));
      }
    }
    if (!ok) continue;
    if (selector.agent_labels.empty()) {
      // Labels come from bootstrap tokens: without them, whoever can mint a
      // token (or declares this target name on any enrolled host) gets the
      // private key.
      Warn(ctx, item,
           absl::StrCat("target \"", selector.target,
                        "\" is selected on every enrolled agent (no "
                        "`agents:` labels): any host that declares a target "
                        "of that name receives this certificate and its "
                        "private key; name the agents' labels to narrow it"));
    }
    out->push_back(std::move(selector));
    where->push_back(item);
  }
}

void CheckTargetConflicts(ParseContext& ctx,
                          const std::vector<CertificateConfig>& certificates,
                          const std::vector<std::vector<Field>>& where) {
  for (size_t b = 0; b < certificates.size(); ++b) {
    for (size_t j = 0; j < certificates[b].targets.size(); ++j) {
      const TargetSelector& later = certificates[b].targets[j];
      // Compare with every earlier certificate; the first conflict is enough.
      bool reported = false;
      for (size_t a = 0; a < b && !reported; ++a) {
        for (size_t i = 0; i < certificates[a].targets.size(); ++i) {
          const TargetSelector& earlier = certificates[a].targets[i];
          if (earlier.target != later.target) continue;
          // An agent matching the larger selector matches both.
          if (!labels::LabelsMatch(earlier.agent_labels, later.agent_labels) &&
              !labels::LabelsMatch(later.agent_labels, earlier.agent_labels)) {
            continue;
          }
          ctx.reader.Error(
              where[b][j],
              absl::StrCat("target \"", later.target, "\" on ",
                           Describe(later.agent_labels),
                           " is also selected by certificate \"",
                           certificates[a].name, "\" (", where[a][i].path,
                           " at ", Where(ctx, where[a][i]), ", ",
                           Describe(earlier.agent_labels),
                           "); a target can receive only one certificate"));
          reported = true;
          break;
        }
      }
    }
  }
}

}  // namespace certfleet::config::internal
