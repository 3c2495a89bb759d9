// The agent's targets and their install pipelines: what the stream client
// calls when a bundle arrives, and what it reports in its inventory.
//
// A bundle is verified before anything touches the disk (key matches
// certificate, chain verifies, names cover the target's require_names, valid
// now), written into a new version directory, swapped in atomically,
// followed by the target's reload and, after the grace period, its health
// checks (which must see the new serial). Any failure after the swap puts
// the previous version back, reloads and checks it, and reports the step
// and the error. Every target keeps a journal, so an agent killed at any
// instant leaves each target serving a matching key and certificate (old or
// new), and Recover() completes or reverts the interrupted install.
//
// Installs are serialized per target; the manager lets different targets
// install concurrently (the stream client, AgentSession, installs one
// bundle at a time). Paths and commands come only from the configuration.
//
//   SubprocessRunner runner;
//   SystemClock clock;
//   RealHealthChecker checker(runner);
//   ASSIGN_OR_RETURN(auto manager, TargetManager::Create(
//       config, runner, clock, checker, &registry));
//   RETURN_IF_ERROR(manager->Recover(ctx));
//   InstallOutcome outcome = manager->Install(bundle, ctx);
#ifndef CERTFLEET_AGENT_INSTALL_TARGET_MANAGER_H_
#define CERTFLEET_AGENT_INSTALL_TARGET_MANAGER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/config/agent_config.h"
#include "agent/install/bundle.h"
#include "agent/install/dir_fd.h"
#include "agent/install/health_checker.h"
#include "agent/install/install_metrics.h"
#include "common/clock.h"
#include "common/context.h"
#include "common/filesystem.h"
#include "common/metrics/registry.h"
#include "common/process_runner.h"

namespace certfleet::agent {

namespace internal {
class TargetInstaller;
}  // namespace internal

// What each target of `config` serves, read from disk without locking or
// creating anything: for a status command while the agent runs. `healthy`
// is false and health_detail says the checks were not run; a refused
// directory, a journal moved aside and a failure recovery rolled back are
// in state_problem and last_failure.
std::vector<TargetStatus> ReadInventory(const AgentConfig& config);

class TargetManager {
 public:
  // Opens every target's directory (creating it and .versions/ when
  // missing), locks it against a second agent, and reads what it serves.
  // A target whose directory is refused (directory_chain.h) or cannot be
  // used stays in the manager in a failed state — its status says why and
  // every bundle for it is refused at step "write" until the directory is
  // fixed — while the other targets work. Fails only when another process
  // holds a target's lock (kFailedPrecondition naming it). `runner`,
  // `clock`, `checker`, `registry` (may be null) and `faults` (tests; may
  // be null) must outlive the manager.
  static absl::StatusOr<std::unique_ptr<TargetManager>> Create(
      const AgentConfig& config, ProcessRunner& runner, Clock& clock,
      HealthChecker& checker, metrics::Registry* registry,
      WriteFaults* faults = nullptr);
  ~TargetManager();

  // For each target: removes what a killed agent left half-written, and
  // completes (reload + health checks pass) or reverts an install that was
  // interrupted. Call once at start, before the first Install (Install also
  // recovers a target first if this was not done). Returns the first error,
  // annotated with the target, after trying every target (a refused
  // target's directory is such an error).
  absl::Status Recover(const Context& ctx);

  // Installs `bundle` into its target. Unknown target → not ok, step
  // "verify". A bundle whose version the target already serves → ok,
  // nothing done. `ctx` bounds the reload and the health checks; when it
  // is cancelled or expires there, the install fails and the previous
  // version is put back under the rollback's own deadline (a rollback is
  // never abandoned half-way).
  InstallOutcome Install(const Bundle& bundle, const Context& ctx);

  // Runs `target`'s health checks once against what it serves (no retries)
  // and records the result for Inventory(). kNotFound for an unknown target.
  absl::Status CheckHealth(const std::string& target, const Context& ctx);

  // What each target serves, in configuration order.
  std::vector<TargetStatus> Inventory() const;
  std::vector<std::string> TargetNames() const;

 private:
  TargetManager(ProcessRunner& runner, Clock& clock, HealthChecker& checker,
                metrics::Registry* registry);

  ProcessRunner& runner_;
  Clock& clock_;
  HealthChecker& checker_;
  InstallMetrics metrics_;
  LocalFilesystem fs_;
  // In configuration order; the map indexes it by name.
  std::vector<std::unique_ptr<internal::TargetInstaller>> targets_;
  std::map<std::string, internal::TargetInstaller*, std::less<>> by_name_;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_TARGET_MANAGER_H_
