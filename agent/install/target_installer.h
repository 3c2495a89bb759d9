// Internal to certfleet_agent_install: the install pipeline of one target,
// used by TargetManager (target_manager.h), which owns one per target.
//
// Install: directory check → verify → journal "writing" → write the version
// → stable links → journal "swapped" → swap `current` → reload → journal
// "reloaded" → grace → health checks → journal "idle" serving the new
// version → prune. Any failure after the swap swaps the previous version
// back, reloads and checks it (journal "rolling_back", then "idle"), then
// prunes (a failed version holds a private key too). Recover() finishes
// whatever a killed agent left in the journal; a rollback it does is kept
// as the target's LocalFailure (bundle.h) until an install succeeds. Crash
// points (common/failpoint.h), in order: agent.write, agent.written,
// agent.swap, agent.swapped, agent.reloaded, agent.healthy,
// agent.committed; on a rollback agent.rolling_back and agent.swapped_back.
//
// The target directory is re-checked (directory_chain.h) before every
// install: a target whose directory is refused stays in the manager, its
// status says why, and every bundle for it is refused at step "write"
// until the directory is fixed.
//
//   TargetInstaller installer(spec, deps);
//   RETURN_IF_ERROR(installer.Open());
//   RETURN_IF_ERROR(installer.Recover(ctx));
//   InstallOutcome outcome = installer.Install(bundle, ctx);
#ifndef CERTFLEET_AGENT_INSTALL_TARGET_INSTALLER_H_
#define CERTFLEET_AGENT_INSTALL_TARGET_INSTALLER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "agent/config/agent_config.h"
#include "agent/install/bundle.h"
#include "agent/install/dir_fd.h"
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
  // For the files the configuration names outside target directories
  // (pkcs12 password files).
  Filesystem& fs;
  // Tests: writes in target directories that fail as on a full disk.
  WriteFaults* faults = nullptr;
};

class TargetInstaller {
 public:
  TargetInstaller(TargetSpec spec, InstallerDeps deps);

  // Opens the directory (creating it when missing), locks it, and reads
  // its journal and what it serves. Fails only when another agent holds
  // the target. A directory that is refused or cannot be used
  // leaves the target failed (Status() says why) and is tried again before
  // the next install or recovery.
  absl::Status Open();

  // Cleans up after a killed agent and completes or reverts an interrupted
  // install (see the header comment). Idempotent. Fails when the target's
  // directory is refused.
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
    std::optional<DeliveryStep> step;  // kReload or kHealth when failed
  };

  // Opens and locks the directory and loads its state; on failure the
  // target is marked failed. *busy: another agent holds the lock.
  absl::Status OpenLocked(bool* busy)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Before any work: the directory is open, locked, and the configured
  // path still leads to it by the rules of directory_chain.h (opened again
  // when it was replaced); otherwise why not (the target is marked failed).
  absl::Status EnsureOpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // The journal, or an idle one when there is none or it failed validation
  // (then moved aside, logged at error level, reported).
  absl::StatusOr<Journal> ReadTrustedJournal()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Reads the journal and `current` after opening.
  void LoadStateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // The directory's problem ("" = none): logged when it changes, in the
  // status and the refused gauge.
  void SetDirectoryProblem(std::string problem)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Copies the problems and the last failure into the status.
  void PublishProblems() ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);

  absl::Status RecoverLocked(const Context& ctx)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Before the first install into a directory that has no `current` yet:
  // the regular files a service already reads at the stable paths (placed
  // there by hand or a config-management tool) become version "adopted",
  // `current` points at it, and the stable paths become links to the same
  // bytes. So a first install that fails rolls back to what the host served
  // before, instead of to nothing. Only regular files up to
  // kMaxAdoptedFileBytes are adopted, written with the target's configured
  // owner, group and file modes; a link (certbot's live/ links), device,
  // FIFO or larger file is not (logged; the stable link replaces it).
  // Returns the version now current ("" when there was nothing to adopt).
  // target_adoption.cc.
  absl::StatusOr<std::string> AdoptExisting()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  InstallOutcome Reject(DeliveryStep step, absl::string_view error);
  // Writes `j` (with the last failure) as the journal; on success it
  // becomes journal_.
  absl::Status SaveJournal(Journal j)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Journal "idle" serving `serving`. A failure (a full disk) is logged and
  // leaves the target to be recovered before its next install.
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

  // Journal "rolling_back" (with the failed step), then back to `restore`
  // (or nothing), reload, check, journal "idle", prune. Fills the rollback
  // part of `outcome`. `local`: no delivery waits for the outcome (recovery
  // after a kill), so it becomes the target's last failure.
  void RollBack(const std::string& candidate, const std::string& restore,
                InstallOutcome* outcome, bool local)
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
  // Keeps a failure no delivery answers (recovery) as the last failure.
  void RecordLocalFailure(const std::string& candidate, DeliveryStep step,
                          std::string error, bool rolled_back)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Journal "idle" serving `name`, prune, status and metrics; the last
  // failure is cleared (an install succeeded).
  void Commit(const std::string& name, const std::string& previous)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Keeps `serving`, `previous` and the newest others up to keep_versions
  // (failed candidates count too).
  void Prune(const std::string& serving, const std::string& previous)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);

  // The record of version `name`.
  absl::StatusOr<VersionInfo> ReadInfo(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  // Status and gauge for what `current` points at (`name`, "" = nothing).
  void SetServing(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(install_mu_);
  void SetHealth(bool healthy, std::string detail);
  // A context for work that must finish even when the caller's was
  // cancelled: putting the previous version back.
  Context RollbackContext();

  const TargetSpec spec_;
  InstallerDeps deps_;
  std::vector<std::string> stable_paths_;

  absl::Mutex install_mu_;
  TargetDirectory dir_ ABSL_GUARDED_BY(install_mu_);
  // The directory is open and locked.
  bool opened_ ABSL_GUARDED_BY(install_mu_) = false;
  Journal journal_ ABSL_GUARDED_BY(install_mu_);
  bool needs_recovery_ ABSL_GUARDED_BY(install_mu_) = false;
  std::optional<LocalFailure> last_failure_ ABSL_GUARDED_BY(install_mu_);
  // Why the directory is refused or unusable; "" when it is fine.
  std::string directory_problem_ ABSL_GUARDED_BY(install_mu_);
  // A journal that failed validation; "" when none.
  std::string journal_problem_ ABSL_GUARDED_BY(install_mu_);

  mutable absl::Mutex status_mu_;
  TargetStatus status_ ABSL_GUARDED_BY(status_mu_);
};

}  // namespace certfleet::agent::internal

#endif  // CERTFLEET_AGENT_INSTALL_TARGET_INSTALLER_H_
