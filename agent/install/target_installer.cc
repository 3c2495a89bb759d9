// TargetInstaller: opening a target and the forward path of an install
// (declared in target_installer.h; the service steps, rollback and recovery
// are in target_recovery.cc).
#include "agent/install/target_installer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/install/bundle_files.h"
#include "common/crypto/certificate.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::agent::internal {

TargetInstaller::TargetInstaller(TargetSpec spec, InstallerDeps deps)
    : spec_(std::move(spec)), deps_(deps), dir_(spec_.directory) {
  for (const FileSpec& file : spec_.files) stable_paths_.push_back(file.path);
  status_.name = spec_.name;
  status_.health_detail = "not checked since the agent started";
}

absl::Status TargetInstaller::Open() {
  if (absl::Status s = dir_.Prepare(); !s.ok()) {
    return Annotate(s, absl::StrCat("target ", spec_.name));
  }
  if (absl::Status s = dir_.Lock(); !s.ok()) {
    return Annotate(s, absl::StrCat("target ", spec_.name));
  }
  absl::MutexLock lock(&install_mu_);
  absl::StatusOr<Journal> journal = ReadJournal(deps_.fs, spec_.directory);
  if (journal.ok()) {
    journal_ = *journal;
  } else {
    CF_LOG_WARN("target %s: %s; the journal is rebuilt from what is served",
                spec_.name, journal.status().ToString());
    needs_recovery_ = true;
  }
  absl::StatusOr<std::string> current = dir_.Current();
  if (!current.ok()) {
    CF_LOG_WARN("target %s: %s", spec_.name, current.status().ToString());
    needs_recovery_ = true;
    return absl::OkStatus();
  }
  if (journal_.phase != Journal::Phase::kIdle || journal_.serving != *current) {
    needs_recovery_ = true;
  }
  SetServing(*current);
  return absl::OkStatus();
}

InstallOutcome TargetInstaller::Install(const Bundle& bundle,
                                        const Context& ctx) {
  absl::MutexLock lock(&install_mu_);
  if (needs_recovery_) {
    if (absl::Status s = RecoverLocked(ctx); !s.ok()) {
      CF_LOG_WARN("target %s: recovery before the install: %s", spec_.name,
                  s.ToString());
    }
  }
  const std::string name = TargetDirectory::VersionDirName(bundle.version_id);
  absl::StatusOr<std::string> current = dir_.Current();
  if (!current.ok()) return Reject("swap", current.status().message());
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
  if (!verified.ok()) return Reject("verify", verified.status().message());
  std::string restore = *current;
  if (restore.empty()) {
    absl::StatusOr<std::string> adopted = AdoptExisting();
    if (!adopted.ok()) return Reject("write", adopted.status().message());
    restore = *adopted;
  }

  absl::StatusOr<std::vector<RenderedFile>> files =
      RenderFiles(spec_, *verified, deps_.fs);
  if (!files.ok()) return Reject("write", files.status().message());
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
    return Reject("write", s.message());
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
    SaveIdle(restore, j.previous);
    return Reject("write", written.message());
  }
  Failpoint("agent.swap");
  InstallOutcome outcome;
  if (absl::Status s = dir_.SwapCurrent(name); !s.ok()) {
    outcome.failed_step = "swap";
    outcome.error = std::string(s.message());
    RollBack(name, restore, &outcome);
    return outcome;
  }
  Failpoint("agent.swapped");
  CF_LOG_INFO("target %s: serving %s (serial %s) from %s; reloading",
              spec_.name, bundle.version_id, info.serial, spec_.directory);
  Gate gate = ReloadAndCheck(info.serial, ctx, &j);
  if (!gate.status.ok()) {
    outcome.failed_step = gate.step;
    outcome.error = std::string(gate.status.message());
    RollBack(name, restore, &outcome);
    return outcome;
  }
  Failpoint("agent.healthy");
  Commit(name, restore);
  return InstallOutcome{.ok = true};
}

InstallOutcome TargetInstaller::Reject(absl::string_view step,
                                       absl::string_view error) {
  CF_LOG_WARN("target %s: bundle refused at step %s: %s", spec_.name, step,
              error);
  deps_.metrics.Install(spec_.name, /*ok=*/false);
  return InstallOutcome{.failed_step = std::string(step),
                        .error = std::string(error)};
}

absl::Status TargetInstaller::SaveJournal(const Journal& j) {
  absl::Status s = WriteJournal(deps_.fs, spec_.directory, j);
  if (!s.ok()) return Annotate(s, "journal");
  journal_ = j;
  return absl::OkStatus();
}

void TargetInstaller::SaveIdle(const std::string& serving,
                               const std::string& previous) {
  absl::Status s = SaveJournal(Journal{.serving = serving,
                                       .previous = previous,
                                       .phase = Journal::Phase::kIdle});
  if (!s.ok()) {
    CF_LOG_WARN("target %s: %s (recovered at the next start)", spec_.name,
                s.ToString());
  }
}

void TargetInstaller::Commit(const std::string& name,
                             const std::string& previous) {
  SaveIdle(name, previous);
  Failpoint("agent.committed");
  Prune(name, previous);
  SetServing(name);
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
    absl::StatusOr<VersionInfo> info = ReadInfo(name);
    others.emplace_back(info.ok() ? info->written_at : absl::InfinitePast(),
                        name);
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

absl::StatusOr<VersionInfo> TargetInstaller::ReadInfo(const std::string& name) {
  return ReadVersionInfo(deps_.fs, dir_.VersionPath(name));
}

void TargetInstaller::SetServing(const std::string& name) {
  VersionInfo info;
  if (!name.empty()) {
    absl::StatusOr<VersionInfo> read = ReadInfo(name);
    if (read.ok()) {
      info = *std::move(read);
    } else {
      CF_LOG_WARN("target %s: version %s: %s", spec_.name, name,
                  read.status().ToString());
      info.version_id = name;
    }
  }
  deps_.metrics.ServedNotAfter(spec_.name, info.not_after);
  absl::MutexLock lock(&status_mu_);
  status_.version_id = info.version_id;
  status_.serial = info.serial;
  status_.not_after = info.not_after;
}

void TargetInstaller::SetHealth(bool healthy, std::string detail) {
  absl::MutexLock lock(&status_mu_);
  status_.healthy = healthy;
  status_.health_detail = std::move(detail);
}

TargetStatus TargetInstaller::Status() const {
  absl::MutexLock lock(&status_mu_);
  return status_;
}

Context TargetInstaller::RollbackContext() {
  return Context::Background().WithDeadline(
      deps_.clock.Now() + spec_.reload_timeout + spec_.grace +
      spec_.health_timeout + absl::Seconds(30));
}

}  // namespace certfleet::agent::internal
