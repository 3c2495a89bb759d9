#include "coordinator/app/token_command.h"

#include <cstdio>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/kek.h"
#include "common/flag_reader.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "common/standard_flags.h"
#include "common/status_macros.h"
#include "common/yaml/duration.h"
#include "coordinator/app/command_output.h"
#include "coordinator/app/store_opener.h"
#include "coordinator/identity/tokens.h"
#include "nlohmann/json.hpp"

namespace certfleet::app {
namespace {

constexpr char kUsage[] =
    "usage: certfleet-coordinator token create --config FILE "
    "(--labels k=v[,k=v...] | --for-agent ID) [--ttl DURATION] "
    "[--description TEXT] [-o table|json]\n";

}  // namespace

absl::StatusOr<TokenCreateArgs> ParseTokenCreateArgs(
    const std::vector<std::string>& args) {
  if (args.empty()) {
    return absl::InvalidArgumentError("token: no subcommand given (create)");
  }
  if (args[0] != "create") {
    return absl::InvalidArgumentError(
        absl::StrCat("token: unknown subcommand \"", args[0],
                     "\" (this build has: create)"));
  }
  TokenCreateArgs out;
  bool have_labels = false;
  FlagReader flags(args, /*first=*/1);
  while (flags.Next()) {
    const std::string& flag = flags.flag();
    if (flag == "--config" || flag == "-c") {
      ASSIGN_OR_RETURN(out.config_path, flags.Value());
    } else if (flag == "--labels") {
      ASSIGN_OR_RETURN(out.labels, flags.Value());
      have_labels = true;
    } else if (flag == "--for-agent") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      if (v.empty()) {
        return absl::InvalidArgumentError("--for-agent: the agent id is empty");
      }
      out.for_agent = v;
    } else if (flag == "--ttl") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      ASSIGN_OR_RETURN(out.ttl, yaml::ParsePositiveDurationFlag(flag, v));
    } else if (flag == "--description") {
      ASSIGN_OR_RETURN(out.description, flags.Value());
    } else if (flag == "-o" || flag == "--output") {
      ASSIGN_OR_RETURN(out.json, ReadOutputFlag(flags));
    } else if (flag == "--log-level") {
      RETURN_IF_ERROR(ReadLogLevelFlag(flags));
    } else {
      return flags.Unknown("token create");
    }
  }
  if (out.config_path.empty()) {
    return absl::InvalidArgumentError(
        "token create: no configuration file given (--config FILE)");
  }
  if (!out.for_agent.empty()) {
    if (have_labels) {
      return absl::InvalidArgumentError(
          "token create: --labels and --for-agent exclude each other (a "
          "re-enrolled agent keeps its labels)");
    }
    return out;
  }
  // Required, so an empty shell variable cannot silently make a token that
  // grants no labels.
  if (!have_labels || absl::StripAsciiWhitespace(out.labels).empty()) {
    return absl::InvalidArgumentError(
        "token create: --labels is required (k=v[,k=v...]: the labels the "
        "new agent will have)");
  }
  return out;
}

std::string InternalCaFilePath(const config::CoordinatorConfig& config) {
  return config.internal_ca_file;
}

absl::Status WriteInternalCaFile(const config::CoordinatorConfig& config,
                                 const identity::InternalCa& ca,
                                 Filesystem& fs) {
  const std::string path = InternalCaFilePath(config);
  return Annotate(fs.WriteFileAtomic(path, ca.ca_pem(), 0644),
                  absl::StrCat("write the internal CA certificate to ", path));
}

absl::StatusOr<CreatedToken> CreateToken(
    const config::CoordinatorConfig& config,
    const std::map<std::string, std::string>& labels, absl::Duration ttl,
    const std::string& description, Filesystem& fs, Clock& clock,
    const std::string& for_agent) {
  ASSIGN_OR_RETURN(crypto::Kek kek, crypto::Kek::LoadOrCreate(
                                        config.key_encryption_key_file, fs));
  ASSIGN_OR_RETURN(OpenedStore opened, OpenConfiguredStore(config.store));
  store::Store* store = opened.store.get();
  ASSIGN_OR_RETURN(std::unique_ptr<identity::InternalCa> ca,
                   identity::InternalCa::LoadOrCreate(*store, kek, clock));
  RETURN_IF_ERROR(WriteInternalCaFile(config, *ca, fs));
  identity::BootstrapTokens tokens(*store, clock);
  ASSIGN_OR_RETURN(std::string token,
                   for_agent.empty()
                       ? tokens.Create(labels, ttl, description)
                       : tokens.CreateForAgent(for_agent, ttl, description));
  ASSIGN_OR_RETURN(identity::BootstrapTokens::Parsed parsed,
                   identity::BootstrapTokens::Parse(token));
  ASSIGN_OR_RETURN(std::optional<store::TokenRecord> record,
                   store->GetToken(parsed.id));
  if (!record.has_value()) {
    return absl::InternalError(absl::StrCat(
        "bootstrap token ", parsed.id, " is missing right after it was made"));
  }
  if (!for_agent.empty()) {
    // A token that can take over an agent's identity: on the record, as
    // the admin API's token.create is.
    const store::AuditRecord audit{
        .at = clock.Now(),
        .actor = "local:token-command",
        .action = "token.create",
        .detail = absl::StrCat(
            "re-enroll agent ", for_agent, ", ttl ", absl::FormatDuration(ttl),
            description.empty()
                ? std::string()
                : absl::StrCat(", description \"", description, "\""),
            ", token id ", parsed.id),
        .result = "ok"};
    if (absl::StatusOr<int64_t> id = store->AppendAudit(audit); !id.ok()) {
      return Annotate(id.status(),
                      absl::StrCat("audit the re-enrollment token ", parsed.id,
                                   " (it exists; it was not audited)"));
    }
  }
  return CreatedToken{.token = token,
                      .id = parsed.id,
                      .expires_at = record->expires_at,
                      .labels = record->labels,
                      .for_agent = record->for_agent,
                      .ca_file = InternalCaFilePath(config)};
}

std::string FormatCreatedToken(const CreatedToken& created, bool json) {
  if (json) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& [key, value] : created.labels) labels[key] = value;
    const nlohmann::json out = {
        {"token", created.token},
        {"expires_at", FormatRfc3339(created.expires_at)},
        {"labels", labels},
        {"for_agent", created.for_agent},
        {"ca_file", created.ca_file}};
    return out.dump(2) + "\n";
  }
  std::string out = absl::StrCat(
      created.token, "\n",                                                 //
      "expires   ", FormatRfc3339(created.expires_at), " (single use)\n",  //
      "labels    ", labels::FormatLabels(created.labels), "\n");
  if (!created.for_agent.empty()) {
    absl::StrAppend(&out, "agent     ", created.for_agent,
                    " (re-enrolled with its id, labels and history)\n");
  }
  absl::StrAppend(&out, "CA file   ", created.ca_file,
                  " (the agents' coordinator_ca)\n");
  return out;
}

int RunTokenCommand(const std::vector<std::string>& args) {
  absl::StatusOr<TokenCreateArgs> parsed = ParseTokenCreateArgs(args);
  if (!parsed.ok()) {
    fprintf(stderr, "certfleet-coordinator: %s\n%s",
            std::string(parsed.status().message()).c_str(), kUsage);
    return kExitUsage;
  }
  absl::StatusOr<labels::Labels> labels =
      parsed->for_agent.empty() ? labels::ParseLabelList(parsed->labels)
                                : labels::Labels();
  if (!labels.ok()) {
    fprintf(stderr, "certfleet-coordinator: token create: --labels: %s\n",
            std::string(labels.status().message()).c_str());
    return kExitUsage;
  }
  LocalFilesystem fs;
  absl::StatusOr<config::CoordinatorConfig> cfg =
      config::LoadConfig(parsed->config_path, fs);
  if (!cfg.ok()) {
    // One "FILE:LINE:COLUMN: field: problem" line each, as check-config.
    fprintf(stderr, "%s\n", std::string(cfg.status().message()).c_str());
    return kExitUsage;
  }
  SystemClock clock;
  absl::StatusOr<CreatedToken> created = CreateToken(
      *cfg, *labels, parsed->ttl.value_or(cfg->agents.default_token_ttl),
      parsed->description, fs, clock, parsed->for_agent);
  if (!created.ok()) {
    fprintf(stderr, "certfleet-coordinator: token create: %s\n",
            created.status().ToString().c_str());
    return kExitFailure;
  }
  const std::string out = FormatCreatedToken(*created, parsed->json);
  fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace certfleet::app
