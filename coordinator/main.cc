// certfleet-coordinator: holds the ACME accounts, issues and renews every
// certificate of the fleet once, and keeps its versions.
//
//   certfleet-coordinator serve --config FILE [--once] [-o json]
//   certfleet-coordinator check-config FILE
//   certfleet-coordinator status --config FILE [-o json]
//   certfleet-coordinator token create --config FILE --labels k=v[,k=v...]
//       [--ttl 2h] [--description TEXT] [-o json]
//   certfleet-coordinator admin-identity create --config FILE --name NAME
//       [--ttl 720h] --out FILE
//
// Exit status: 0 success; 1 a runtime failure (with --once: a certificate
// could not be issued); 2 a usage or configuration error.
#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/core_dumps.h"
#include "common/flag_reader.h"
#include "common/log.h"
#include "common/standard_flags.h"
#include "common/status_macros.h"
#include "common/stop_signals.h"
#include "coordinator/app/admin_identity_command.h"
#include "coordinator/app/command_output.h"
#include "coordinator/app/coordinator.h"
#include "coordinator/app/migrate_command.h"
#include "coordinator/app/status_report.h"
#include "coordinator/app/store_opener.h"
#include "coordinator/app/token_command.h"
#include "coordinator/config/config.h"
#include "nlohmann/json.hpp"

namespace certfleet {
namespace {

using app::kExitFailure;
using app::kExitOk;
using app::kExitUsage;

constexpr char kUsage[] =
    "usage:\n"
    "  certfleet-coordinator serve --config FILE [--once] [-o table|json]\n"
    "      run the coordinator; with --once: one pass (issue what is missing,\n"
    "      renew what is due), print the result and exit\n"
    "  certfleet-coordinator check-config FILE\n"
    "      validate FILE and exit (0 valid, 2 invalid)\n"
    "  certfleet-coordinator status --config FILE [-o table|json]\n"
    "      print every certificate's newest version and state from the store\n"
    "  certfleet-coordinator token create --config FILE --labels k=v[,k=v...]\n"
    "      [--ttl DURATION] [--description TEXT] [-o table|json]\n"
    "      make a single-use bootstrap token for a new agent; also writes\n"
    "      the internal CA certificate to internal_ca_file\n"
    "  certfleet-coordinator migrate --from sqlite:PATH --to "
    "etcd:IP:PORT[,...]\n"
    "      copy a stopped coordinator's store into an empty etcd prefix and\n"
    "      verify the copy (--prefix, --ca-file, --cert-file, --key-file)\n"
    "  certfleet-coordinator admin-identity create --config FILE --name NAME\n"
    "      [--ttl DURATION] --out FILE\n"
    "      issue an admin identity for certfleetctl (key, certificate and\n"
    "      internal CA in one PEM file, mode 0600; never overwritten)\n"
    "common flags: --log-level debug|info|warning|error\n";

struct Args {
  std::string command;
  std::string config;
  bool once = false;
  bool json = false;
  std::string error;
};

// The command and the flags of serve, check-config and status: the
// first problem.
absl::Status ReadFlags(const std::vector<std::string>& args, Args& a) {
  return ReadDaemonCommandLine(
      args, a.command, a.config,
      [&](FlagReader& flags) -> absl::StatusOr<bool> {
        if (flags.flag() == "--once") {
          a.once = true;
        } else if (flags.flag() == "-o" || flags.flag() == "--output") {
          ASSIGN_OR_RETURN(a.json, ReadOutputFlag(flags));
        } else {
          return false;
        }
        return true;
      });
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  const absl::Status read =
      ReadFlags(std::vector<std::string>(argv + 1, argv + argc), a);
  if (!read.ok()) a.error = std::string(read.message());
  return a;
}

int Fail(const absl::Status& s) {
  fprintf(stderr, "certfleet-coordinator: %s\n", s.ToString().c_str());
  return kExitFailure;
}

// Configuration problems are printed as they are: one
// "FILE:LINE:COLUMN: field: problem" line each.
int ConfigError(const absl::Status& s) {
  fprintf(stderr, "%s\n", std::string(s.message()).c_str());
  return kExitUsage;
}

absl::StatusOr<config::CoordinatorConfig> Load(const std::string& path) {
  LocalFilesystem fs;
  return config::LoadConfig(path, fs);
}

int Serve(const Args& args) {
  absl::StatusOr<config::CoordinatorConfig> cfg = Load(args.config);
  if (!cfg.ok()) return ConfigError(cfg.status());
  for (const std::string& warning : cfg->warnings) {
    CF_LOG_WARN("configuration: %s", warning);
  }
  // Before any thread starts: SIGINT/SIGTERM cancel `cancel` (orders stop
  // at their next step and clean up their DNS records); a second one exits.
  auto cancel = std::make_shared<Cancellation>();
  HandleStopSignals(cancel, "finishing in-flight work");

  SystemClock clock;
  absl::StatusOr<std::unique_ptr<app::Coordinator>> coordinator =
      app::Coordinator::Create(*cfg, clock);
  if (!coordinator.ok()) return Fail(coordinator.status());
  const Context ctx = Context::Background().WithCancellation(cancel);
  if (!args.once) {
    absl::Status s = (*coordinator)->Serve(ctx);
    return s.ok() ? kExitOk : kExitFailure;
  }

  const absl::Time start = absl::Now();
  absl::StatusOr<scheduler::PassReport> report = (*coordinator)->RunOnce(ctx);
  const absl::Duration elapsed = absl::Now() - start;
  if (!report.ok()) return Fail(report.status());
  absl::StatusOr<std::vector<app::CertificateStatus>> rows =
      app::CollectStatus(*cfg, (*coordinator)->store());
  if (!rows.ok()) return Fail(rows.status());
  if (args.json) {
    nlohmann::json out = nlohmann::json::parse(
        app::FormatStatusJson(*rows, cfg->store.sqlite_path));
    nlohmann::json attempted = nlohmann::json::array();
    for (const auto& e : report->attempted) {
      attempted.push_back({{"certificate", e.certificate},
                           {"reason", e.reason},
                           {"ok", e.result.ok()},
                           {"version", e.version},
                           {"error", std::string(e.result.message())}});
    }
    out["attempted"] = attempted;
    out["issued"] = report->issued();
    out["failed"] = report->failed();
    out["seconds"] = absl::ToDoubleSeconds(elapsed);
    out["acme_exchanges"] = (*coordinator)->acme_exchanges();
    printf("%s\n", out.dump(2).c_str());
  } else {
    for (const auto& e : report->attempted) {
      if (e.result.ok()) {
        printf("issued   %s version %lld (%s)\n", e.certificate.c_str(),
               static_cast<long long>(e.version), e.reason.c_str());
      } else {
        printf("FAILED   %s (%s): %s\n", e.certificate.c_str(),
               e.reason.c_str(), std::string(e.result.message()).c_str());
      }
    }
    printf("%d issued, %d failed, %d not due, in %s\n\n", report->issued(),
           report->failed(), report->not_due,
           absl::FormatDuration(absl::Trunc(elapsed, absl::Milliseconds(1)))
               .c_str());
    printf("%s",
           app::FormatStatusTable(*rows, cfg->store.sqlite_path, absl::Now())
               .c_str());
  }
  return report->failed() == 0 ? kExitOk : kExitFailure;
}

// Reads the store only: works while `serve` runs (SQLite WAL allows a
// second reader) and needs neither the key-encryption key nor the network.
int Status(const Args& args) {
  absl::StatusOr<config::CoordinatorConfig> cfg = Load(args.config);
  if (!cfg.ok()) return ConfigError(cfg.status());
  absl::StatusOr<app::OpenedStore> opened =
      app::OpenConfiguredStore(cfg->store);
  if (!opened.ok()) return Fail(opened.status());
  absl::StatusOr<std::vector<app::CertificateStatus>> rows =
      app::CollectStatus(*cfg, *opened->store);
  if (!rows.ok()) return Fail(rows.status());
  const std::string where =
      cfg->store.type == "etcd"
          ? absl::StrCat("etcd ", absl::StrJoin(cfg->store.etcd.endpoints, ","),
                         " ", cfg->store.etcd.prefix)
          : cfg->store.sqlite_path;
  if (args.json) {
    printf("%s\n", app::FormatStatusJson(*rows, where).c_str());
  } else {
    printf("%s", app::FormatStatusTable(*rows, where, absl::Now()).c_str());
  }
  return kExitOk;
}

}  // namespace
}  // namespace certfleet

int main(int argc, char** argv) {
  using namespace certfleet;
  // First of all: this process will hold the key-encryption key and
  // private keys (common/core_dumps.h).
  if (absl::Status s = DisableCoreDumps(); !s.ok()) {
    CF_LOG_WARN("cannot keep keys out of core dumps: %s", s.ToString());
  }
  // Debian's abseil checks every Mutex acquisition for lock-order cycles
  // (≈ 3% of the coordinator's CPU with thousands of agent streams); the
  // tests keep the check, the binaries skip it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // `token` has its own flags (token_command.h).
  if (argc >= 2 && std::string(argv[1]) == "token") {
    return app::RunTokenCommand(
        std::vector<std::string>(argv + 2, argv + argc));
  }
  if (argc >= 2 && std::string(argv[1]) == "migrate") {
    return app::RunMigrateCommand(
        std::vector<std::string>(argv + 2, argv + argc));
  }
  if (argc >= 2 && std::string(argv[1]) == "admin-identity") {
    return app::RunAdminIdentityCommand(
        std::vector<std::string>(argv + 2, argv + argc));
  }
  Args args = ParseArgs(argc, argv);
  if (args.command == "version" || args.command == "--version") {
    printf("certfleet-coordinator 0.1.0\n");
    return kExitOk;
  }
  if (args.command == "help" || args.command == "--help" ||
      args.command == "-h") {
    printf("%s", kUsage);
    return kExitOk;
  }
  if (!args.error.empty()) {
    fprintf(stderr, "certfleet-coordinator: %s\n%s", args.error.c_str(),
            kUsage);
    return kExitUsage;
  }
  if (args.command == "check-config") {
    absl::StatusOr<config::CoordinatorConfig> cfg = Load(args.config);
    if (!cfg.ok()) return ConfigError(cfg.status());
    // Valid, but worth a look: on stderr, and the exit status stays 0.
    for (const std::string& warning : cfg->warnings) {
      fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    printf("%s: valid (%zu issuers, %zu DNS providers, %zu certificates)\n",
           args.config.c_str(), cfg->issuers.size(), cfg->dns_providers.size(),
           cfg->certificates.size());
    return kExitOk;
  }
  if (args.command == "serve") return Serve(args);
  if (args.command == "status") return Status(args);
  fprintf(stderr, "certfleet-coordinator: unknown command \"%s\"\n%s",
          args.command.c_str(), kUsage);
  return kExitUsage;
}
