#include "coordinator/app/migrate_command.h"

#include <sys/stat.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/flag_reader.h"
#include "common/status_macros.h"
#include "common/yaml/addresses.h"
#include "coordinator/app/command_output.h"
#include "coordinator/app/migrate.h"
#include "coordinator/app/store_opener.h"

namespace certfleet::app {
namespace {

constexpr char kUsage[] =
    "usage: certfleet-coordinator migrate --from sqlite:PATH "
    "--to etcd:IP:PORT[,IP:PORT...]\n"
    "           [--prefix /certfleet/] [--ca-file F] [--cert-file F "
    "--key-file F]\n"
    "  Copies every record of a stopped coordinator's SQLite store into an\n"
    "  empty etcd prefix, then reads them all back and compares.\n";

}  // namespace

absl::StatusOr<MigrateArgs> ParseMigrateArgs(
    const std::vector<std::string>& args) {
  MigrateArgs out;
  bool have_from = false, have_to = false;
  FlagReader flags(args);
  while (flags.Next()) {
    const std::string flag = flags.flag();
    if (flag == "--from") {
      ASSIGN_OR_RETURN(std::string from, flags.Value());
      if (!absl::StartsWith(from, "sqlite:") || from.size() == 7) {
        return absl::InvalidArgumentError(
            absl::StrCat("--from \"", from, "\": expected sqlite:PATH"));
      }
      out.sqlite_path = from.substr(7);
      have_from = true;
    } else if (flag == "--to") {
      ASSIGN_OR_RETURN(std::string to, flags.Value());
      if (!absl::StartsWith(to, "etcd:") || to.size() == 5) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--to \"", to, "\": expected etcd:IP:PORT[,IP:PORT...]"));
      }
      for (absl::string_view e : absl::StrSplit(to.substr(5), ',')) {
        absl::StatusOr<yaml::IpPort> ip = yaml::ParseIpPort(e, std::nullopt);
        if (!ip.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--to: ", ip.status().message()));
        }
        out.endpoints.push_back(ip->ToString());
      }
      have_to = true;
    } else if (flag == "--prefix") {
      ASSIGN_OR_RETURN(out.prefix, flags.Value());
    } else if (flag == "--ca-file") {
      ASSIGN_OR_RETURN(out.ca_file, flags.Value());
    } else if (flag == "--cert-file") {
      ASSIGN_OR_RETURN(out.cert_file, flags.Value());
    } else if (flag == "--key-file") {
      ASSIGN_OR_RETURN(out.key_file, flags.Value());
    } else {
      return flags.Unknown("migrate");
    }
  }
  if (!have_from || !have_to) {
    return absl::InvalidArgumentError("migrate needs --from and --to");
  }
  return out;
}

int RunMigrateCommand(const std::vector<std::string>& args) {
  absl::StatusOr<MigrateArgs> parsed = ParseMigrateArgs(args);
  if (!parsed.ok()) {
    fprintf(stderr, "certfleet-coordinator: %s\n%s",
            std::string(parsed.status().message()).c_str(), kUsage);
    return kExitUsage;
  }
  auto fail = [](const absl::Status& s) {
    fprintf(stderr, "certfleet-coordinator: migrate: %s\n",
            s.ToString().c_str());
    return kExitFailure;
  };
  // Opening would create an empty database: a typo must not "migrate"
  // nothing.
  struct stat st;
  if (stat(parsed->sqlite_path.c_str(), &st) != 0) {
    return fail(absl::NotFoundError(
        absl::StrCat(parsed->sqlite_path, ": no such SQLite store")));
  }
  absl::StatusOr<OpenedStore> from = OpenConfiguredStore(
      {.type = "sqlite", .sqlite_path = parsed->sqlite_path});
  if (!from.ok()) return fail(from.status());
  absl::StatusOr<OpenedStore> to =
      OpenConfiguredStore({.type = "etcd",
                           .etcd = {.endpoints = parsed->endpoints,
                                    .prefix = parsed->prefix,
                                    .ca_file = parsed->ca_file,
                                    .cert_file = parsed->cert_file,
                                    .key_file = parsed->key_file}});
  if (!to.ok()) return fail(to.status());
  absl::StatusOr<MigrationReport> report =
      Migrate(*from->store, *to->etcd_store);
  if (!report.ok()) return fail(report.status());
  printf("migrated %s to etcd %s%s\n%s", parsed->sqlite_path.c_str(),
         absl::StrJoin(parsed->endpoints, ",").c_str(), parsed->prefix.c_str(),
         report->Summary().c_str());
  return kExitOk;
}

}  // namespace certfleet::app
