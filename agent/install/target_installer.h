// Internal to certfleet_agent_install: the install pipeline of one target,
// used by TargetManager (target_manager.h), which owns one per target.
//
// Install: verify → journal "writing" → write the version → stable links →
// journal "swapped" → swap `current` → reload → journal "reloaded" → grace →
// health checks → journal "idle" serving the new version → prune. Any failure
// after the swap swaps the previous version back, reloads and checks it
// (journal "rolling_back", then "idle"). Recover() finishes whatever a killed
// agent left in the journal. Crash points (common/failpoint.h), in order:
// agent.write, agent.written, agent.swap, agent.swapped, agent.reloaded,
// agent.healthy, agent.committed; on a rollback agent.rolling_back and
// agent.swapped_back.
//
//   TargetInstaller installer(spec, deps);
//   RETURN_IF_ERROR(installer.Open());
//   RETURN_IF_ERROR(installer.Recover(ctx));
//   InstallOutcome outcome = installer.Install(bundle, ctx);
#ifndef CERTFLEET_AGENT_INSTALL_TARGET_INSTALLER_H_
#define CERTFLEET_AGENT_INSTALL_TARGET_INSTALLER_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "agent/config/agent_config.h"
#include "agent/install/bundle.h"
#include "agent/install/health_checker.h"
#include "agent/install/install_metrics.h"
#include "agent/install/state_files.h"
#include "agent/install/target_directory.h"
#include "common/clock.h"
#include "common/context.h"
#include "common/filesystem.h"
#include "common/process_runner.h"

namespace certfleet::agent::internal {

// What every target's installer uses; all outlive the installers.
struct InstallerDeps {
  ProcessRunner& runner;
  Clock& clock;
  HealthChecker& checker;
  InstallMetrics& metrics;
  Filesystem& fs;
};

class TargetInstaller {
 public:
  TargetInstaller(TargetSpec spec, InstallerDeps deps);

  // Creates the directory, locks it, and reads what it serves (for the
  // status and the expiry gauge). Fails when the directory cannot be
  // created or another agent holds it.
  absl::Status Open();

  // Cleans up after a killed agent and completes or reverts an interrupted
  // install (see the header comment). Idempotent.
  absl::Status Recover(const Context& ctx) ABSL_LOCKS_EXCLUDED(install_mu_);

  // Installs `bundle` (its target is this one). Serialized per target.
  InstallOutcome Install(const Bundle& bundle, const Context& ctx)
      ABSL_LOCKS_EXCLUDED(install_mu_);

  // Runs the health checks once against what is served; updates the status.
  absl::Status CheckHealth(const Context& ctx) ABSL_LOCKS_EXCLUDED(install_mu_);

  TargetStatus Status() const ABSL_LOCKS_EXCLUDED(status_mu_);
  const TargetSpec& spec() const { return spec_; }

 private:
  // The outcome of reload + grace + health checks.
  struct Gate {
    absl::Status status;
    std::string step;  // "reload" or "health" when failed
  };

  absl::Status RecoverLocked(const Context& ctx)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Before the first install into a directory that has no `current` yet:
  // the files a service already reads at the stable paths (placed there by
  // hand, certbot or a config-management tool) become version "adopted",
  // `current` points at it, and the stable paths become links to the same
  // bytes. So a first install that fails rolls back to what the host served
  // before, instead of to nothing. Returns the version now current ("" when
  // there was nothing to adopt). target_adoption.cc.
  absl::StatusOr<std::string> AdoptExisting()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  InstallOutcome Reject(absl::string_view step, absl::string_view error);
  // Writes `j` as the journal; on success it becomes journal_.
  absl::Status SaveJournal(const Journal& j)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Journal "idle" serving `serving`; failures are logged (the next
  // recovery sees the same state on disk).
  void SaveIdle(const std::string& serving, const std::string& previous)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);

  // Reload, grace, health checks against `expected_serial`. When `journal`
  // is set, it moves to kReloaded after a good reload.
  Gate ReloadAndCheck(const std::string& expected_serial, const Context& ctx,
                      Journal* journal)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  absl::Status Reload(const Context& ctx);
  // Retries every check until all pass or health_timeout ends.
  absl::Status HealthGate(const std::string& expected_serial,
                          const Context& ctx);
  // One round of every check.
  absl::Status CheckOnce(const std::string& expected_serial,
                         const Context& ctx);

  // Journal "rolling_back", then back to `restore` (or nothing), reload,
  // check, journal "idle". Fills the rollback part of `outcome`.
  void RollBack(const std::string& candidate, const std::string& restore,
                InstallOutcome* outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // What Restore did.
  struct Restored {
    std::string what;           // for the error text and the log
    bool swapped_back = false;  // `restore` is in place again
    // `current` is where the rollback wanted it (`restore`, or nothing);
    // false only when the swap or the removal itself failed.
    bool settled = false;
  };
  // Points `current` at `restore` (or removes it when "" or gone), then
  // reloads and checks.
  Restored Restore(const std::string& restore, const Context& ctx)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Journal "idle" serving `name`, prune, status and metrics.
  void Commit(const std::string& name, const std::string& previous)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  void Prune(const std::string& serving, const std::string& previous);

  // The record of version `name`.
  absl::StatusOr<VersionInfo> ReadInfo(const std::string& name);
  // Status and gauge for what `current` points at (`name`, "" = nothing).
  void SetServing(const std::string& name);
  void SetHealth(bool healthy, std::string detail);
  // A context for work that must finish even when the caller's was
  // cancelled: putting the previous version back.
  Context RollbackContext();

  const TargetSpec spec_;
  InstallerDeps deps_;
  TargetDirectory dir_;
  std::vector<std::string> stable_paths_;

  absl::Mutex install_mu_;
  Journal journal_ ABSL_GUARDED_BY(install_mu_);
  bool needs_recovery_ ABSL_GUARDED_BY(install_mu_) = false;

  mutable absl::Mutex status_mu_;
  TargetStatus status_ ABSL_GUARDED_BY(status_mu_);
};

}  // namespace certfleet::agent::internal

#endif  // CERTFLEET_AGENT_INSTALL_TARGET_INSTALLER_H_
