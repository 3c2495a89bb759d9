// TargetInstaller: the forward path of an install, its commit and pruning
// (declared in target_installer.h; opening the directory and the status are
// in target_opening.cc, the service steps, rollback and recovery in
// target_recovery.cc).
#include "agent/install/target_installer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/install/bundle_files.h"
#include "agent/install/version_name.h"
#include "common/crypto/certificate.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::agent::internal {

InstallOutcome TargetInstaller::Install(const Bundle& bundle,
                                        const Context& ctx) {
  absl::MutexLock lock(&install_mu_);
  if (absl::Status s = EnsureOpenLocked(); !s.ok()) {
    return Reject(DeliveryStep::kWrite, s.message());
  }
  if (needs_recovery_) {
    if (absl::Status s = RecoverLocked(ctx); !s.ok()) {
      CF_LOG_WARN("target %s: recovery before the install: %s", spec_.name,
                  s.ToString());
    }
  }
  const std::string name = TargetDirectory::VersionDirName(bundle.version_id);
  if (!IsValidVersionName(name)) {
    return Reject(
        DeliveryStep::kVerify,
        absl::StrCat("version id \"", bundle.version_id.substr(0, 64),
                     "...\" is too long: its directory name would "
                     "have ",
                     name.size(), " bytes, at most ", kMaxVersionNameLength));
  }
  absl::StatusOr<std::string> current = dir_.Current();
  if (!current.ok())
    return Reject(DeliveryStep::kSwap, current.status().message());
  if (*current == name) {
    // Already serving: nothing to do, and nothing to count (checked before
    // verifying, so a re-sent version that has since expired is not
    // reported as refused while it is what the service serves).
    if (journal_.serving != name || journal_.phase != Journal::Phase::kIdle) {
      SaveIdle(name, journal_.previous);
    }
    return InstallOutcome{.ok = true};
  }
  absl::StatusOr<VerifiedBundle> verified =
      VerifyBundle(bundle, spec_, deps_.clock.Now());
  if (!verified.ok())
    return Reject(DeliveryStep::kVerify, verified.status().message());
  std::string restore = *current;
  if (restore.empty()) {
    absl::StatusOr<std::string> adopted = AdoptExisting();
    if (!adopted.ok())
      return Reject(DeliveryStep::kWrite, adopted.status().message());
    restore = *adopted;
  }

  absl::StatusOr<std::vector<RenderedFile>> files =
      RenderFiles(spec_, *verified, deps_.fs);
  if (!files.ok())
    return Reject(DeliveryStep::kWrite, files.status().message());
  const VersionInfo info{
      .version_id = bundle.version_id,
      .certificate = bundle.certificate,
      .serial = verified->leaf.SerialHex(),
      .not_after = verified->leaf.NotAfter(),
      .written_at = deps_.clock.Now(),
      .leaf_pem = verified->leaf.ToPem(),
  };
  files->push_back(RenderedFile{.path = kVersionInfoFileName,
                                .content = EncodeVersionInfo(info),
                                .mode = 0644});

  Journal j{.serving = restore,
            .previous = journal_.serving == restore ? journal_.previous : "",
            .candidate = name,
            .phase = Journal::Phase::kWriting};
  if (absl::Status s = SaveJournal(j); !s.ok()) {
    return Reject(DeliveryStep::kWrite, s.message());
  }
  Failpoint("agent.write");
  absl::Status written = dir_.WriteVersion(name, *files, spec_.uid, spec_.gid);
  if (written.ok()) {
    Failpoint("agent.written");
    written = dir_.EnsureStableLinks(stable_paths_);
  }
  if (written.ok()) {
    j.phase = Journal::Phase::kSwapped;
    written = SaveJournal(j);
  }
  if (!written.ok()) {
    // The candidate (whole or partial) holds a private key: it goes now,
    // or — when the disk is too full even to rewrite the journal — at the
    // recovery that runs before the next install.
    SaveIdle(restore, j.previous);
    if (!needs_recovery_ && name != restore && name != j.previous) {
      dir_.RemoveVersion(name).IgnoreError();
    }
    return Reject(DeliveryStep::kWrite, written.message());
  }
  Failpoint("agent.swap");
  InstallOutcome outcome;
  if (absl::Status s = dir_.SwapCurrent(name); !s.ok()) {
    outcome.failed_step = DeliveryStep::kSwap;
    outcome.error = std::string(s.message());
    RollBack(name, restore, &outcome, /*local=*/false);
    return outcome;
  }
  Failpoint("agent.swapped");
  CF_LOG_INFO("target %s: serving %s (serial %s) from %s; reloading",
              spec_.name, bundle.version_id, info.serial, spec_.directory);
  Gate gate = ReloadAndCheck(info.serial, ctx, &j);
  if (!gate.status.ok()) {
    outcome.failed_step = gate.step;
    outcome.error = std::string(gate.status.message());
    RollBack(name, restore, &outcome, /*local=*/false);
    return outcome;
  }
  Failpoint("agent.healthy");
  Commit(name, restore);
  return InstallOutcome{.ok = true};
}

InstallOutcome TargetInstaller::Reject(DeliveryStep step,
                                       absl::string_view error) {
  CF_LOG_WARN("target %s: bundle refused at step %s: %s", spec_.name,
              DeliveryStepName(step), error);
  deps_.metrics.Install(spec_.name, /*ok=*/false);
  return InstallOutcome{.failed_step = step, .error = std::string(error)};
}

absl::Status TargetInstaller::SaveJournal(Journal j) {
  j.last_failure = last_failure_;
  absl::Status s = dir_.WriteJournal(j);
  if (!s.ok()) return Annotate(s, "journal");
  journal_ = std::move(j);
  return absl::OkStatus();
}

void TargetInstaller::SaveIdle(const std::string& serving,
                               const std::string& previous) {
  absl::Status s = SaveJournal(Journal{.serving = serving,
                                       .previous = previous,
                                       .phase = Journal::Phase::kIdle});
  if (!s.ok()) {
    // The journal on disk still describes the install: the next install
    // (or start) recovers from it first.
    needs_recovery_ = true;
    CF_LOG_WARN("target %s: %s (recovered before the next install)", spec_.name,
                s.ToString());
  }
}

void TargetInstaller::Commit(const std::string& name,
                             const std::string& previous) {
  last_failure_.reset();
  SaveIdle(name, previous);
  Failpoint("agent.committed");
  Prune(name, previous);
  SetServing(name);
  PublishProblems();
  deps_.metrics.Install(spec_.name, /*ok=*/true);
}

void TargetInstaller::Prune(const std::string& serving,
                            const std::string& previous) {
  std::vector<std::pair<absl::Time, std::string>> others;
  int kept = 0;
  for (const std::string& name : dir_.ListVersions()) {
    if (name == serving || name == previous) {
      ++kept;
      continue;
    }
    // Only what the agent wrote (a record naming this directory) is ever
    // removed.
    absl::StatusOr<VersionInfo> info = ReadInfo(name);
    if (!info.ok()) {
      CF_LOG_WARN("target %s: pruning: %s left alone: %s", spec_.name,
                  dir_.VersionPath(name), info.status().message());
      continue;
    }
    others.emplace_back(info->written_at, name);
  }
  std::sort(others.begin(), others.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  const size_t budget =
      static_cast<size_t>(std::max(0, spec_.keep_versions - kept));
  for (size_t i = budget; i < others.size(); ++i) {
    if (absl::Status s = dir_.RemoveVersion(others[i].second); !s.ok()) {
      CF_LOG_WARN("target %s: pruning: %s", spec_.name, s.ToString());
    }
  }
}

Context TargetInstaller::RollbackContext() {
  return Context::Background().WithDeadline(
      deps_.clock.Now() + spec_.reload_timeout + spec_.grace +
      spec_.health_timeout + absl::Seconds(30));
}

}  // namespace certfleet::agent::internal
