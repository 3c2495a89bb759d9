// certfleet-agent: runs on every server or load balancer. Receives the
// certificates assigned to its targets from the coordinator, installs them
// atomically, reloads the service, checks that the new certificate is
// served, and rolls back on any failure.
//
//   certfleet-agent enroll --config FILE --token-file FILE|-
//   certfleet-agent run --config FILE
//   certfleet-agent check-config FILE
//   certfleet-agent status --config FILE
//
// Exit status: 0 success, 1 a runtime failure, 2 a usage or configuration
// error.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "agent/client/enroll.h"
#include "agent/client/identity.h"
#include "agent/client/session.h"
#include "agent/client/session_metrics.h"
#include "agent/client/token_input.h"
#include "agent/config/agent_config.h"
#include "agent/install/directory_chain.h"
#include "agent/install/health_checker.h"
#include "agent/install/health_monitor.h"
#include "agent/install/target_manager.h"
#include "common/clock.h"
#include "common/core_dumps.h"
#include "common/delivery_step.h"
#include "common/filesystem.h"
#include "common/flag_reader.h"
#include "common/log.h"
#include "common/metrics/http_server.h"
#include "common/metrics/registry.h"
#include "common/process_runner.h"
#include "common/rfc3339.h"
#include "common/standard_flags.h"
#include "common/status_macros.h"
#include "common/stop_signals.h"

namespace certfleet::agent {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] =
    "usage:\n"
    "  certfleet-agent enroll --config FILE --token-file FILE|-\n"
    "      exchange a bootstrap token (from `certfleet-coordinator token\n"
    "      create`) for this host's identity, read from FILE, or from\n"
    "      standard input with \"-\" (--token TOKEN still works, but puts\n"
    "      it where every user of the host can read it)\n"
    "  certfleet-agent run --config FILE\n"
    "      serve: keep the stream to the coordinator open and install what\n"
    "      it sends\n"
    "  certfleet-agent check-config FILE\n"
    "      validate FILE and its target directories and exit (0 valid, 2\n"
    "      invalid)\n"
    "  certfleet-agent status --config FILE\n"
    "      print what each target serves\n"
    "common flags: --log-level debug|info|warning|error\n";

struct Args {
  std::string command, config, token, token_file, error;
};

// The command and its flags: the first problem.
absl::Status ReadFlags(const std::vector<std::string>& args, Args& a) {
  RETURN_IF_ERROR(
      ReadDaemonCommandLine(args, a.command, a.config,
                            [&](FlagReader& flags) -> absl::StatusOr<bool> {
                              if (flags.flag() == "--token") {
                                ASSIGN_OR_RETURN(a.token, flags.Value());
                              } else if (flags.flag() == "--token-file") {
                                ASSIGN_OR_RETURN(a.token_file, flags.Value());
                              } else {
                                return false;
                              }
                              return true;
                            }));
  if (a.command == "enroll") {
    if (a.token.empty() && a.token_file.empty()) {
      return absl::InvalidArgumentError(
          "enroll needs --token-file FILE (or - for standard input)");
    }
    if (!a.token.empty() && !a.token_file.empty()) {
      return absl::InvalidArgumentError(
          "give --token-file or --token, not both");
    }
  }
  return absl::OkStatus();
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  const absl::Status read =
      ReadFlags(std::vector<std::string>(argv + 1, argv + argc), a);
  if (!read.ok()) a.error = std::string(read.message());
  return a;
}

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

int Fail(const absl::Status& s) {
  fprintf(stderr, "certfleet-agent: %s\n", s.ToString().c_str());
  return kExitFailure;
}

// The bootstrap token: from --token-file (a file or standard input), or
// from --token with a warning (token_input.h says why).
absl::StatusOr<std::string> EnrollToken(const Args& args) {
  if (args.token_file.empty()) {
    fprintf(stderr, "certfleet-agent: %s\n", kTokenOnCommandLineWarning);
    return args.token;
  }
  absl::StatusOr<TokenInput> in = ReadTokenInput(args.token_file);
  if (!in.ok()) return in.status();
  for (const std::string& w : in->warnings) {
    fprintf(stderr, "certfleet-agent: %s\n", w.c_str());
  }
  return in->token;
}

int EnrollCommand(const AgentConfig& cfg, const Args& args) {
  absl::StatusOr<std::string> token = EnrollToken(args);
  if (!token.ok()) return Fail(token.status());
  LocalFilesystem fs;
  absl::StatusOr<std::string> ca = fs.ReadFile(cfg.coordinator_ca);
  if (!ca.ok()) return Fail(ca.status());
  absl::StatusOr<Identity> identity = Enroll({.coordinators = cfg.coordinators,
                                              .coordinator_ca_pem = *ca,
                                              .token = *token,
                                              .hostname = Hostname(),
                                              .labels = cfg.labels});
  if (!identity.ok()) return Fail(identity.status());
  IdentityStore store(cfg.identity_dir, fs);
  if (absl::Status s = store.Save(*identity); !s.ok()) return Fail(s);
  printf("enrolled as %s; identity valid until %s, stored in %s\n",
         identity->agent_id.c_str(),
         absl::FormatTime(absl::RFC3339_sec, identity->not_after,
                          absl::UTCTimeZone())
             .c_str(),
         cfg.identity_dir.c_str());
  return kExitOk;
}

int RunCommand(const AgentConfig& cfg) {
  auto cancel = std::make_shared<Cancellation>();
  HandleStopSignals(cancel, "stopping");

  SystemClock clock;
  LocalFilesystem fs;
  SubprocessRunner processes;
  metrics::Registry registry;
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (!cfg.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> server =
        metrics::MetricsServer::Start(cfg.metrics_listen, &registry);
    if (!server.ok()) return Fail(server.status());
    metrics_server = std::move(*server);
  }
  RealHealthChecker health(processes);
  absl::StatusOr<std::unique_ptr<TargetManager>> targets =
      TargetManager::Create(cfg, processes, clock, health, &registry);
  if (!targets.ok()) return Fail(targets.status());
  const Context ctx = Context::Background().WithCancellation(cancel);
  // Finish or undo whatever a previous run left half done, before talking
  // to anyone; then check what is served, so the first inventory is true.
  if (absl::Status s = (*targets)->Recover(ctx); !s.ok()) {
    CF_LOG_WARN("recovering interrupted installs: %s", s.ToString());
  }
  for (const TargetStatus& t : (*targets)->Inventory()) {
    if (t.version_id.empty()) continue;  // nothing served yet
    if (absl::Status s = (*targets)->CheckHealth(t.name, ctx); !s.ok()) {
      CF_LOG_WARN("target %s: %s", t.name, s.ToString());
    }
  }
  IdentityStore identities(cfg.identity_dir, fs);
  if (absl::StatusOr<Identity> id = identities.Load(); !id.ok()) {
    return Fail(id.status());
  }
  SessionMetrics session_metrics(&registry);
  AgentSession session({.coordinators = cfg.coordinators,
                        .reconnect = {.initial = cfg.reconnect_initial,
                                      .max = cfg.reconnect_max,
                                      .jitter = 0.5},
                        .hostname = Hostname()},
                       identities, **targets, clock, &session_metrics);
  HealthMonitor monitor(
      cfg, **targets, clock,
      [&session](const HealthChange& c) { session.ReportHealth(c); });
  std::thread monitor_thread;
  if (monitor.active()) monitor_thread = std::thread([&] { monitor.Run(ctx); });
  session.Run(ctx);
  if (monitor_thread.joinable()) monitor_thread.join();
  return kExitOk;
}

// The file loaded; what remains is what only this host can tell: each
// target directory must be one the agent accepts at run time
// (directory_chain.h), reported as the loader reports its problems.
int CheckConfigCommand(const Args& args, const AgentConfig& cfg) {
  std::vector<std::string> problems;
  for (size_t i = 0; i < cfg.targets.size(); ++i) {
    const TargetSpec& t = cfg.targets[i];
    if (absl::Status s = CheckTargetDirectory(t.directory); !s.ok()) {
      problems.push_back(absl::StrCat(t.directory_where, ": targets[", i,
                                      "].directory: \"", t.directory,
                                      "\" is refused: ", s.message()));
    }
  }
  if (!problems.empty()) {
    fprintf(stderr, "%s\n", absl::StrJoin(problems, "\n").c_str());
    return kExitUsage;
  }
  printf("%s: valid (%zu targets, %zu coordinators)\n", args.config.c_str(),
         cfg.targets.size(), cfg.coordinators.size());
  return kExitOk;
}

int StatusCommand(const AgentConfig& cfg) {
  // Reads the target directories only: works while `run` holds them.
  const std::vector<TargetStatus> inventory = ReadInventory(cfg);
  printf("%-20s %-28s %-20s %s\n", "TARGET", "VERSION", "SERIAL", "NOT AFTER");
  for (const TargetStatus& t : inventory) {
    printf("%-20s %-28s %-20s %s\n", t.name.c_str(),
           t.version_id.empty() ? "-" : t.version_id.c_str(),
           t.serial.empty() ? "-" : t.serial.c_str(),
           t.not_after == absl::InfinitePast()
               ? "-"
               : FormatRfc3339(t.not_after).c_str());
  }
  // What needs an operator, after the table.
  for (const TargetStatus& t : inventory) {
    if (!t.state_problem.empty()) {
      printf("%s: %s\n", t.name.c_str(), t.state_problem.c_str());
    }
    if (t.last_failure.has_value()) {
      printf("%s: version %s failed at step %s and was %s: %s\n",
             t.name.c_str(), t.last_failure->version_id.c_str(),
             std::string(DeliveryStepName(t.last_failure->failed_step)).c_str(),
             t.last_failure->rolled_back ? "rolled back" : "not rolled back",
             t.last_failure->error.c_str());
    }
  }
  return kExitOk;
}

}  // namespace
}  // namespace certfleet::agent

int main(int argc, char** argv) {
  using namespace certfleet;
  using namespace certfleet::agent;
  // First of all: this process will hold its identity key, the keys it
  // installs and, while enrolling, the bootstrap token (core_dumps.h).
  if (absl::Status s = DisableCoreDumps(); !s.ok()) {
    CF_LOG_WARN("cannot keep keys out of core dumps: %s", s.ToString());
  }
  // Debian's abseil checks every Mutex acquisition for lock-order cycles
  // (≈ 3% of the coordinator's CPU with thousands of agent streams); the
  // tests keep the check, the binaries skip it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Args args = ParseArgs(argc, argv);
  if (args.command == "version" || args.command == "--version") {
    printf("certfleet-agent 0.1.0\n");
    return kExitOk;
  }
  if (args.command == "help" || args.command == "--help" ||
      args.command == "-h") {
    printf("%s", kUsage);
    return kExitOk;
  }
  if (!args.error.empty()) {
    fprintf(stderr, "certfleet-agent: %s\n%s", args.error.c_str(), kUsage);
    return kExitUsage;
  }
  LocalFilesystem fs;
  absl::StatusOr<AgentConfig> cfg = LoadAgentConfig(args.config, fs);
  if (!cfg.ok()) {
    fprintf(stderr, "%s\n", std::string(cfg.status().message()).c_str());
    return kExitUsage;
  }
  if (args.command == "check-config") return CheckConfigCommand(args, *cfg);
  if (args.command == "enroll") return EnrollCommand(*cfg, args);
  if (args.command == "run") return RunCommand(*cfg);
  if (args.command == "status") return StatusCommand(*cfg);
  fprintf(stderr, "certfleet-agent: unknown command \"%s\"\n%s",
          args.command.c_str(), kUsage);
  return kExitUsage;
}
