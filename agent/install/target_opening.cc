// TargetInstaller: opening a target's directory, the checks before each
// install, the journal read back from disk, and the target's status
// (declared in target_installer.h).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/install/target_installer.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::agent::internal {

TargetInstaller::TargetInstaller(TargetSpec spec, InstallerDeps deps)
    : spec_(std::move(spec)), deps_(deps), dir_(spec_.directory, deps.faults) {
  for (const FileSpec& file : spec_.files) stable_paths_.push_back(file.path);
  status_.name = spec_.name;
  status_.health_detail = "not checked since the agent started";
}

absl::Status TargetInstaller::Open() {
  absl::MutexLock lock(&install_mu_);
  bool busy = false;
  absl::Status s = OpenLocked(&busy);
  if (busy) return Annotate(s, absl::StrCat("target ", spec_.name));
  return absl::OkStatus();
}

absl::Status TargetInstaller::OpenLocked(bool* busy) {
  opened_ = false;
  absl::Status s = dir_.Open(/*create=*/true);
  if (s.ok()) s = dir_.Lock(busy);
  if (!s.ok()) {
    if (*busy) return s;
    const std::string problem = absl::StrCat(
        "target directory ", spec_.directory,
        absl::IsFailedPrecondition(s) ? " is refused: " : " cannot be used: ",
        s.message());
    SetDirectoryProblem(problem);
    return absl::FailedPreconditionError(problem);
  }
  opened_ = true;
  SetDirectoryProblem("");
  LoadStateLocked();
  return absl::OkStatus();
}

absl::Status TargetInstaller::EnsureOpenLocked() {
  if (!opened_) {
    bool busy = false;
    return OpenLocked(&busy);
  }
  // A directory on the way can have been chmod-ed, or the target moved,
  // since the agent opened it.
  absl::StatusOr<bool> still = dir_.StillAtPath();
  if (!still.ok()) {
    opened_ = false;
    const std::string problem =
        absl::StrCat("target directory ", spec_.directory,
                     " is refused: ", still.status().message());
    SetDirectoryProblem(problem);
    return absl::FailedPreconditionError(problem);
  }
  if (!*still) {
    CF_LOG_WARN(
        "target %s: %s is not the directory the agent opened any more "
        "(replaced or removed); opening it again",
        spec_.name, spec_.directory);
    bool busy = false;
    RETURN_IF_ERROR(OpenLocked(&busy));
    needs_recovery_ = true;
  }
  return absl::OkStatus();
}

void TargetInstaller::SetDirectoryProblem(std::string problem) {
  if (problem == directory_problem_) return;
  if (!problem.empty()) {
    CF_LOG_ERROR(
        "target %s: %s; every bundle for it is refused until this "
        "is fixed",
        spec_.name, problem);
    SetHealth(false, problem);
  } else {
    CF_LOG_INFO("target %s: directory %s accepted", spec_.name,
                spec_.directory);
    SetHealth(false, "not checked since the directory was accepted");
  }
  deps_.metrics.TargetRefused(spec_.name, !problem.empty());
  directory_problem_ = std::move(problem);
  PublishProblems();
}

absl::StatusOr<Journal> TargetInstaller::ReadTrustedJournal() {
  absl::StatusOr<Journal> journal = dir_.ReadJournal();
  if (journal.ok()) {
    last_failure_ = journal->last_failure;
    return journal;
  }
  if (!absl::IsDataLoss(journal.status())) return journal.status();
  // Nothing named in it is removed or trusted: it is set aside for the
  // operator, and the state is rebuilt from `current` (itself validated).
  const std::string why(journal.status().message());
  absl::StatusOr<std::string> aside = dir_.MoveJournalAside(deps_.clock.Now());
  journal_problem_ = absl::StrCat(
      "the journal failed validation (", why, "); ",
      aside.ok() ? absl::StrCat("moved aside to ", dir_.path(), "/", *aside)
                 : absl::StrCat("could not be moved aside: ",
                                aside.status().message()),
      "; nothing named in it was acted on, the state is rebuilt from "
      "current");
  CF_LOG_ERROR("target %s: %s", spec_.name, journal_problem_);
  deps_.metrics.StateProblem(spec_.name, "journal");
  PublishProblems();
  if (!aside.ok()) return aside.status();
  return Journal{};
}

void TargetInstaller::LoadStateLocked() {
  absl::StatusOr<Journal> journal = ReadTrustedJournal();
  if (journal.ok()) {
    journal_ = *journal;
  } else {
    CF_LOG_WARN("target %s: %s; the journal is rebuilt from what is served",
                spec_.name, journal.status().ToString());
    journal_ = Journal{};
    needs_recovery_ = true;
  }
  if (journal_problem_.empty()) {
    // Moved aside by an earlier run: reported until the operator removes it.
    const std::vector<std::string> aside = dir_.JournalsMovedAside();
    if (!aside.empty()) {
      journal_problem_ = absl::StrCat(
          "a journal that failed validation was moved aside to ", dir_.path(),
          "/", absl::StrJoin(aside, ", "), "; remove it once inspected");
    }
  }
  std::vector<std::string> ignored;
  dir_.ListVersions(&ignored);
  if (!ignored.empty()) {
    CF_LOG_WARN(
        "target %s: left alone in %s/.versions (not versions the agent "
        "writes): %s",
        spec_.name, dir_.path(), absl::StrJoin(ignored, ", "));
    deps_.metrics.StateProblem(spec_.name, "versions_entry");
  }
  PublishProblems();
  absl::StatusOr<std::string> current = dir_.Current();
  if (!current.ok()) {
    CF_LOG_WARN("target %s: %s", spec_.name, current.status().ToString());
    needs_recovery_ = true;
    return;
  }
  if (journal_.phase != Journal::Phase::kIdle || journal_.serving != *current) {
    needs_recovery_ = true;
  }
  SetServing(*current);
}

void TargetInstaller::PublishProblems() {
  std::string problem = directory_problem_;
  if (!journal_problem_.empty()) {
    problem = problem.empty() ? journal_problem_
                              : absl::StrCat(problem, "; ", journal_problem_);
  }
  absl::MutexLock lock(&status_mu_);
  status_.state_problem = std::move(problem);
  status_.last_failure = last_failure_;
}

absl::StatusOr<VersionInfo> TargetInstaller::ReadInfo(const std::string& name) {
  return dir_.ReadVersionInfo(name);
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
      info.version_id = VersionIdOfName(name).value_or(name);
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

}  // namespace certfleet::agent::internal
