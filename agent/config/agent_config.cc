#include "agent/config/agent_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agent/config/sections.h"
#include "common/crypto/certificate.h"
#include "common/status_macros.h"
#include "common/yaml/addresses.h"
#include "common/yaml/config_file.h"
#include "common/yaml/diagnostics.h"
#include "common/yaml/duration.h"
#include "yaml-cpp/yaml.h"

namespace certfleet::agent {

using internal::ParseContext;
using yaml::Field;
using yaml::Mapping;
using yaml::Reader;

namespace {

constexpr size_t kMaxLabelLength = 63;

// "host:port" with a DNS host name or an IP literal ("[v6]:port"); the
// normalized text, or "" after reporting.
std::string CoordinatorAddress(Reader& r, const Field& field,
                               const std::string& text) {
  absl::StatusOr<std::string> address = yaml::ParseHostPort(text);
  if (!address.ok()) {
    r.Error(field, address.status().message());
    return "";
  }
  return *address;
}

bool IsLabelText(absl::string_view text, bool is_key) {
  if (text.size() > kMaxLabelLength) return false;
  // An empty value could never be granted by a token.
  if (text.empty()) return false;
  if (!absl::ascii_isalnum(text.front())) return false;
  for (char c : text) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-' &&
        !(is_key && c == '/')) {
      return false;
    }
  }
  return true;
}

void ParseLabels(Reader& r, const Field& field,
                 std::map<std::string, std::string>* out) {
  if (!field.present()) return;
  if (!field.node.IsMap()) {
    r.Error(field, absl::StrCat("expected a mapping, got ",
                                yaml::DescribeNodeType(field.node)));
    return;
  }
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    const YAML::Node key = it->first;
    const std::string key_text = key.IsScalar() ? key.Scalar() : "?";
    Field value{it->second, absl::StrCat(field.path, ".", key_text),
                it->second.IsNull() ? key.Mark() : it->second.Mark()};
    if (!key.IsScalar() || !IsLabelText(key_text, /*is_key=*/true)) {
      r.Error(Field{key, value.path, key.Mark()},
              absl::StrCat("\"", key_text,
                           "\" is not a valid label name (letters, digits, "
                           "\".\", \"_\", \"-\" and \"/\", starting with a "
                           "letter or digit, at most ",
                           kMaxLabelLength, " characters)"));
      continue;
    }
    std::string text;
    if (value.present() && !r.String(value, &text)) continue;
    if (!IsLabelText(text, /*is_key=*/false)) {
      r.Error(value, absl::StrCat("\"", text,
                                  "\" is not a valid label value (letters, "
                                  "digits, \".\", \"_\" and \"-\", starting "
                                  "with a letter or digit, at most ",
                                  kMaxLabelLength, " characters)"));
      continue;
    }
    if (!out->emplace(key_text, text).second) {
      r.Error(Field{key, value.path, key.Mark()}, "label given twice");
    }
  }
}

void ParseReconnect(Reader& r, const Field& field, AgentConfig* cfg) {
  const Mapping m = r.Map(field, {"initial", "max"});
  const Field initial = m.Get("initial");
  const Field max = m.Get("max");
  const bool initial_ok =
      r.PositiveDuration(initial, &cfg->reconnect_initial) ||
      !initial.present();
  const bool max_ok =
      r.PositiveDuration(max, &cfg->reconnect_max) || !max.present();
  if (initial_ok && max_ok && cfg->reconnect_max < cfg->reconnect_initial) {
    r.Error(
        max.present() ? max : initial,
        absl::StrCat("max (", yaml::FormatConfigDuration(cfg->reconnect_max),
                     ") is shorter than initial (",
                     yaml::FormatConfigDuration(cfg->reconnect_initial), ")"));
  }
}

void ParseDocument(const YAML::Node& doc, ParseContext& ctx, AgentConfig* cfg) {
  Reader& r = ctx.reader;
  if (!doc.IsDefined() || doc.IsNull()) {
    r.diags().Add(YAML::Mark::null_mark(), "",
                  "the file is empty (deploy/examples/agent.yaml is a "
                  "commented example)");
    return;
  }
  if (!doc.IsMap()) {
    r.Error(r.Root(doc), absl::StrCat("expected a mapping of sections "
                                      "(coordinators, targets, ...), got ",
                                      yaml::DescribeNodeType(doc)));
    return;
  }
  const Mapping root =
      r.Map(r.Root(doc), {"coordinators", "coordinator_ca", "identity_dir",
                          "labels", "metrics", "reconnect", "targets"});
  const Field coordinators = root.Get("coordinators");
  if (r.Required(coordinators) && coordinators.node.IsSequence() &&
      coordinators.node.size() == 0) {
    r.Error(coordinators, "must list at least one coordinator (host:port)");
  }
  for (const auto& [element, text] : r.Strings(coordinators)) {
    std::string address = CoordinatorAddress(r, element, text);
    if (!address.empty()) cfg->coordinators.push_back(std::move(address));
  }
  const Field coordinator_ca = root.Get("coordinator_ca");
  if (internal::ReadExistingFile(ctx, coordinator_ca, /*required=*/true,
                                 &cfg->coordinator_ca)) {
    // Caught here rather than at the first enrollment, hours later.
    absl::StatusOr<std::string> pem = ctx.fs.ReadFile(cfg->coordinator_ca);
    absl::StatusOr<std::vector<crypto::Certificate>> certs =
        pem.ok()
            ? crypto::Certificate::ParsePemChain(*pem)
            : absl::StatusOr<std::vector<crypto::Certificate>>(pem.status());
    if (!certs.ok() || certs->empty()) {
      r.Error(
          coordinator_ca,
          absl::StrCat(
              "\"", cfg->coordinator_ca, "\" holds no PEM certificate (",
              certs.ok() ? "none found" : std::string(certs.status().message()),
              "); it is the coordinator's internal-ca.pem"));
    }
  }
  internal::ReadPath(ctx, root.Get("identity_dir"), /*required=*/true,
                     &cfg->identity_dir);
  ParseLabels(r, root.Get("labels"), &cfg->labels);
  const Mapping metrics = r.Map(root.Get("metrics"), {"listen"});
  const Field listen = metrics.Get("listen");
  std::string text;
  if (r.String(listen, &text) && !text.empty()) {
    absl::StatusOr<yaml::IpPort> endpoint =
        yaml::ParseIpPort(text, std::nullopt);
    if (endpoint.ok()) {
      cfg->metrics_listen = endpoint->ToString();
    } else {
      r.Error(listen, endpoint.status().message());
    }
  }
  ParseReconnect(r, root.Get("reconnect"), cfg);
  internal::ParseTargets(ctx, root.Get("targets"), &cfg->targets);
}

absl::StatusOr<AgentConfig> Parse(absl::string_view yaml_text,
                                  const std::string& source_name,
                                  const std::string& base_dir, Filesystem& fs,
                                  AgentGetenv getenv) {
  yaml::Diagnostics diags(source_name);
  AgentConfig cfg;
  cfg.source_path = source_name;
  // yaml-cpp reports through exceptions; they stop here.
  try {
    const YAML::Node doc = YAML::Load(std::string(yaml_text));
    Reader reader(diags, std::move(getenv));
    ParseContext ctx{reader, fs, base_dir};
    ParseDocument(doc, ctx, &cfg);
  } catch (const YAML::Exception& e) {
    diags.Add(e.mark, "", e.msg);
  }
  if (!diags.empty()) return diags.ToStatus();
  return cfg;
}

}  // namespace

absl::string_view FormatName(FileSpec::Format format) {
  switch (format) {
    case FileSpec::Format::kKey:
      return "key";
    case FileSpec::Format::kCert:
      return "cert";
    case FileSpec::Format::kChain:
      return "chain";
    case FileSpec::Format::kFullchain:
      return "fullchain";
    case FileSpec::Format::kCombined:
      return "combined";
    case FileSpec::Format::kPkcs12:
      return "pkcs12";
  }
  return "?";
}

bool HoldsPrivateKey(FileSpec::Format format) {
  return format == FileSpec::Format::kKey ||
         format == FileSpec::Format::kCombined ||
         format == FileSpec::Format::kPkcs12;
}

mode_t TargetSpec::EffectiveMode(const FileSpec& file) const {
  if (file.mode.has_value()) return *file.mode;
  if (mode.has_value()) return *mode;
  return HoldsPrivateKey(file.format) ? 0600 : 0644;
}

const TargetSpec* AgentConfig::FindTarget(absl::string_view name) const {
  for (const TargetSpec& target : targets) {
    if (target.name == name) return &target;
  }
  return nullptr;
}

absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path,
                                            Filesystem& fs) {
  ASSIGN_OR_RETURN(yaml::ConfigFile file, yaml::ReadConfigFile(path, fs));
  return Parse(file.text, path, file.base_dir, fs, yaml::ProcessGetenv);
}

absl::StatusOr<AgentConfig> ParseAgentConfig(absl::string_view yaml_text,
                                             const std::string& source_name,
                                             Filesystem& fs,
                                             AgentGetenv getenv) {
  return Parse(yaml_text, source_name, yaml::ConfigDirName(source_name), fs,
               std::move(getenv));
}

}  // namespace certfleet::agent
