#include "coordinator/app/admin_identity_command.h"

#include <cstdio>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/crypto/kek.h"
#include "common/crypto/private_key.h"
#include "common/crypto/public_key.h"
#include "common/flag_reader.h"
#include "common/rfc3339.h"
#include "common/status_macros.h"
#include "common/yaml/duration.h"
#include "coordinator/app/command_output.h"
#include "coordinator/app/store_opener.h"
#include "coordinator/identity/internal_ca.h"

namespace certfleet::app {
namespace {

constexpr char kUsage[] =
    "usage: certfleet-coordinator admin-identity create --config FILE "
    "--name NAME [--ttl DURATION] --out FILE\n";

}  // namespace

absl::StatusOr<AdminIdentityArgs> ParseAdminIdentityArgs(
    const std::vector<std::string>& args) {
  if (args.empty()) {
    return absl::InvalidArgumentError(
        "admin-identity: no subcommand given (create)");
  }
  if (args[0] != "create") {
    return absl::InvalidArgumentError(
        absl::StrCat("admin-identity: unknown subcommand \"", args[0],
                     "\" (this build has: create)"));
  }
  AdminIdentityArgs out;
  FlagReader flags(args, /*first=*/1);
  while (flags.Next()) {
    const std::string& flag = flags.flag();
    if (flag == "--config" || flag == "-c") {
      ASSIGN_OR_RETURN(out.config_path, flags.Value());
    } else if (flag == "--name") {
      ASSIGN_OR_RETURN(out.name, flags.Value());
    } else if (flag == "--out") {
      ASSIGN_OR_RETURN(out.out_path, flags.Value());
    } else if (flag == "--ttl") {
      ASSIGN_OR_RETURN(const std::string v, flags.Value());
      ASSIGN_OR_RETURN(out.ttl, yaml::ParsePositiveDurationFlag(flag, v));
    } else {
      return flags.Unknown("admin-identity create");
    }
  }
  if (out.config_path.empty()) {
    return absl::InvalidArgumentError(
        "admin-identity create: no configuration file given (--config FILE)");
  }
  if (out.name.empty()) {
    return absl::InvalidArgumentError(
        "admin-identity create: --name is required (who the identity is "
        "for)");
  }
  if (!identity::IsValidAdminName(out.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin-identity create: --name: \"", out.name,
                     "\" is not a valid admin name (1-32 lower-case letters, "
                     "digits and \"-\")"));
  }
  if (out.out_path.empty()) {
    return absl::InvalidArgumentError(
        "admin-identity create: --out FILE is required");
  }
  return out;
}

absl::StatusOr<CreatedAdminIdentity> CreateAdminIdentity(
    const config::CoordinatorConfig& config, const AdminIdentityArgs& args,
    Filesystem& fs, Clock& clock) {
  // Checked first, so an existing identity is not replaced by mistake and
  // nothing is signed for nothing.
  ASSIGN_OR_RETURN(FileInfo existing, fs.Stat(args.out_path));
  if (existing.exists) {
    return absl::AlreadyExistsError(
        absl::StrCat(args.out_path,
                     " already exists; remove it first to replace the "
                     "identity it holds"));
  }
  ASSIGN_OR_RETURN(crypto::Kek kek, crypto::Kek::LoadOrCreate(
                                        config.key_encryption_key_file, fs));
  ASSIGN_OR_RETURN(OpenedStore opened, OpenConfiguredStore(config.store));
  ASSIGN_OR_RETURN(
      std::unique_ptr<identity::InternalCa> ca,
      identity::InternalCa::LoadOrCreate(*opened.store, kek, clock));
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEc256));
  ASSIGN_OR_RETURN(std::string key_pem, key.ToPem());
  ASSIGN_OR_RETURN(
      std::string cert_pem,
      ca->IssueAdminIdentity(args.name, crypto::PublicKey::Of(key), args.ttl));
  ASSIGN_OR_RETURN(crypto::Certificate cert,
                   crypto::Certificate::FromPem(cert_pem));
  RETURN_IF_ERROR(Annotate(
      fs.WriteFileAtomic(args.out_path,
                         absl::StrCat(key_pem, cert_pem, ca->ca_pem()), 0600),
      absl::StrCat("write the admin identity to ", args.out_path)));
  return CreatedAdminIdentity{.path = args.out_path,
                              .name = args.name,
                              .serial = cert.SerialHex(),
                              .not_after = cert.NotAfter()};
}

int RunAdminIdentityCommand(const std::vector<std::string>& args) {
  absl::StatusOr<AdminIdentityArgs> parsed = ParseAdminIdentityArgs(args);
  if (!parsed.ok()) {
    fprintf(stderr, "certfleet-coordinator: %s\n%s",
            std::string(parsed.status().message()).c_str(), kUsage);
    return kExitUsage;
  }
  LocalFilesystem fs;
  absl::StatusOr<config::CoordinatorConfig> cfg =
      config::LoadConfig(parsed->config_path, fs);
  if (!cfg.ok()) {
    fprintf(stderr, "%s\n", std::string(cfg.status().message()).c_str());
    return kExitUsage;
  }
  SystemClock clock;
  absl::StatusOr<CreatedAdminIdentity> created =
      CreateAdminIdentity(*cfg, *parsed, fs, clock);
  if (!created.ok()) {
    fprintf(stderr, "certfleet-coordinator: admin-identity create: %s\n",
            created.status().ToString().c_str());
    return kExitFailure;
  }
  printf("admin identity %s written to %s (mode 0600)\n", created->name.c_str(),
         created->path.c_str());
  printf("serial    %s\nexpires   %s\n", created->serial.c_str(),
         FormatRfc3339(created->not_after).c_str());
  if (cfg->admin.listen.empty()) {
    printf(
        "note: admin.listen is not set in %s; the coordinator serves no "
        "admin API yet\n",
        parsed->config_path.c_str());
  } else {
    printf("use: certfleetctl --coordinator %s --identity %s status\n",
           cfg->admin.listen.c_str(), created->path.c_str());
  }
  return kExitOk;
}

}  // namespace certfleet::app
