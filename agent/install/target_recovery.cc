// TargetInstaller: the service steps (reload, grace, health checks), the
// rollback, and recovery after a killed agent (declared in
// target_installer.h).
#include "absl/strings/str_cat.h"
#include "agent/install/target_installer.h"
#include "agent/install/version_name.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::agent::internal {
namespace {

// Pause between rounds of failing health checks.
constexpr absl::Duration kHealthRetryPause = absl::Milliseconds(250);

}  // namespace

absl::Status TargetInstaller::Reload(const Context& ctx) {
  if (spec_.reload_command.empty()) return absl::OkStatus();
  ProcessSpec process{.argv = spec_.reload_command,
                      .env = spec_.reload_environment,
                      .timeout = spec_.reload_timeout};
  absl::StatusOr<ProcessResult> result = deps_.runner.Run(process, ctx);
  const std::string program = spec_.reload_command.front();
  absl::Status status;
  if (!result.ok()) {
    status = Annotate(result.status(), "reload");
  } else if (!result->success()) {
    std::string message =
        absl::StrCat("reload ", program, ": ", result->Describe());
    const std::string excerpt = result->StderrExcerpt();
    if (!excerpt.empty()) absl::StrAppend(&message, "; stderr: ", excerpt);
    status = absl::FailedPreconditionError(message);
  }
  deps_.metrics.Reload(spec_.name, status.ok());
  return status;
}

absl::Status TargetInstaller::CheckOnce(const std::string& expected_serial,
                                        const Context& ctx) {
  for (const HealthCheckSpec& check : spec_.health) {
    RETURN_IF_ERROR(deps_.checker.Check(check, expected_serial, ctx));
  }
  return absl::OkStatus();
}

absl::Status TargetInstaller::HealthGate(const std::string& expected_serial,
                                         const Context& ctx) {
  const absl::Time start = deps_.clock.Now();
  const absl::Time deadline = start + spec_.health_timeout;
  const Context bounded = ctx.WithDeadline(deadline);
  int attempts = 0;
  while (true) {
    ++attempts;
    absl::Status status = CheckOnce(expected_serial, bounded);
    if (status.ok()) {
      SetHealth(true, "");
      return status;
    }
    const absl::Time now = deps_.clock.Now();
    absl::Status waited = now + kHealthRetryPause < deadline
                              ? deps_.clock.SleepFor(kHealthRetryPause, bounded)
                              : absl::DeadlineExceededError("");
    if (!waited.ok()) {
      std::string detail = std::string(status.message());
      if (attempts > 1) {
        absl::StrAppend(&detail, " (", attempts, " attempts over ",
                        absl::FormatDuration(now - start), ")");
      }
      SetHealth(false, detail);
      deps_.metrics.HealthFailure(spec_.name);
      return WithMessage(status, detail);
    }
  }
}

TargetInstaller::Gate TargetInstaller::ReloadAndCheck(
    const std::string& expected_serial, const Context& ctx, Journal* journal) {
  if (absl::Status s = Reload(ctx); !s.ok())
    return Gate{s, DeliveryStep::kReload};
  if (journal != nullptr) {
    journal->phase = Journal::Phase::kReloaded;
    if (absl::Status s = SaveJournal(*journal); !s.ok()) {
      CF_LOG_WARN("target %s: %s", spec_.name, s.ToString());
    }
  }
  Failpoint("agent.reloaded");
  if (absl::Status s = deps_.clock.SleepFor(spec_.grace, ctx); !s.ok()) {
    return Gate{Annotate(s, "waiting for the grace period"),
                DeliveryStep::kHealth};
  }
  if (absl::Status s = HealthGate(expected_serial, ctx); !s.ok()) {
    return Gate{s, DeliveryStep::kHealth};
  }
  return Gate{absl::OkStatus(), std::nullopt};
}

TargetInstaller::Restored TargetInstaller::Restore(const std::string& restore,
                                                   const Context& ctx) {
  Restored r;
  if (restore.empty() || !dir_.HasVersion(restore)) {
    if (absl::Status s = dir_.RemoveCurrent(); !s.ok()) {
      r.what = absl::StrCat("rollback failed: ", s.message());
      return r;
    }
    r.settled = true;
    SetServing("");
    SetHealth(false, "nothing is served");
    r.what = restore.empty()
                 ? "no previous version to roll back to: removed current, "
                   "nothing is served"
                 : absl::StrCat("previous version ", restore,
                                " is gone: removed current, nothing is served");
    return r;
  }
  if (absl::Status s = dir_.SwapCurrent(restore); !s.ok()) {
    r.what = absl::StrCat("rollback failed: ", s.message());
    return r;
  }
  r.swapped_back = r.settled = true;
  Failpoint("agent.swapped_back");
  SetServing(restore);
  const TargetStatus status = Status();
  r.what = absl::StrCat("rolled back to ", status.version_id);
  Gate gate = ReloadAndCheck(status.serial, ctx, nullptr);
  if (!gate.status.ok()) {
    absl::StrAppend(
        &r.what, "; after the rollback, step ",
        DeliveryStepName(gate.step.value_or(DeliveryStep::kUnknown)),
        " failed too: ", gate.status.message());
  }
  return r;
}

void TargetInstaller::RollBack(const std::string& candidate,
                               const std::string& restore,
                               InstallOutcome* outcome, bool local) {
  // Every caller names the step that failed.
  const DeliveryStep step =
      outcome->failed_step.value_or(DeliveryStep::kUnknown);
  CF_LOG_WARN("target %s: step %s failed: %s; rolling back", spec_.name,
              DeliveryStepName(step), outcome->error);
  Journal j{.serving = restore,
            .previous = journal_.previous,
            .candidate = candidate,
            .phase = Journal::Phase::kRollingBack,
            .failed_step = step,
            .error = outcome->error.substr(0, kMaxErrorTextBytes)};
  if (absl::Status s = SaveJournal(j); !s.ok()) {
    CF_LOG_WARN("target %s: %s", spec_.name, s.ToString());
  }
  Failpoint("agent.rolling_back");
  deps_.metrics.Rollback(spec_.name);
  const Restored r = Restore(restore, RollbackContext());
  outcome->rolled_back = r.swapped_back;
  absl::StrAppend(&outcome->error, "; ", r.what);
  if (local) {
    RecordLocalFailure(candidate, step, outcome->error, outcome->rolled_back);
  }
  if (r.settled) {
    const std::string serving = r.swapped_back ? restore : "";
    SaveIdle(serving, j.previous);
    // The failed version holds a private key: it counts against
    // keep_versions at once.
    Prune(serving, j.previous);
  } else {
    // `current` could not be put back: the next install or Recover() tries
    // again from the journal ("rolling_back").
    needs_recovery_ = true;
  }
  deps_.metrics.Install(spec_.name, /*ok=*/false);
  CF_LOG_WARN("target %s: %s", spec_.name, r.what);
}

void TargetInstaller::RecordLocalFailure(const std::string& candidate,
                                         DeliveryStep step, std::string error,
                                         bool rolled_back) {
  // The coordinator knows versions by id: from the candidate's record when
  // it is readable, else from its directory name (which encodes the id).
  std::string version_id = VersionIdOfName(candidate).value_or(candidate);
  if (absl::StatusOr<VersionInfo> info = ReadInfo(candidate); info.ok()) {
    version_id = info->version_id;
  }
  last_failure_ = LocalFailure{.version_id = version_id,
                               .failed_step = step,
                               .error = error.substr(0, kMaxErrorTextBytes),
                               .rolled_back = rolled_back};
  CF_LOG_WARN(
      "target %s: version %s failed at step %s during recovery (no delivery "
      "was waiting for it); reported to the coordinator as failed: %s",
      spec_.name, version_id, DeliveryStepName(last_failure_->failed_step),
      last_failure_->error);
  PublishProblems();
}

absl::Status TargetInstaller::Recover(const Context& ctx) {
  absl::MutexLock lock(&install_mu_);
  RETURN_IF_ERROR(EnsureOpenLocked());
  return RecoverLocked(ctx);
}

absl::Status TargetInstaller::RecoverLocked(const Context& ctx) {
  dir_.RemoveLeftovers(stable_paths_);
  ASSIGN_OR_RETURN(Journal j, ReadTrustedJournal());
  journal_ = j;
  ASSIGN_OR_RETURN(const std::string current, dir_.Current());
  needs_recovery_ = false;
  switch (j.phase) {
    case Journal::Phase::kIdle:
      if (j.serving != current) SaveIdle(current, j.previous);
      break;
    case Journal::Phase::kWriting:
    case Journal::Phase::kSwapped:
    case Journal::Phase::kReloaded: {
      if (current == j.candidate) {
        // Swapped before the agent died: finish the install.
        absl::StatusOr<VersionInfo> info = ReadInfo(j.candidate);
        const std::string serial = info.ok() ? info->serial : "";
        CF_LOG_INFO("target %s: completing the interrupted install of %s",
                    spec_.name, j.candidate);
        SetServing(j.candidate);
        Gate gate = ReloadAndCheck(serial, ctx, &j);
        if (gate.status.ok()) {
          Commit(j.candidate, j.serving);
        } else {
          InstallOutcome outcome{.failed_step = gate.step,
                                 .error = std::string(gate.status.message())};
          RollBack(j.candidate, j.serving, &outcome, /*local=*/true);
        }
        break;
      }
      // Never swapped in: the candidate is dropped, the service untouched.
      // (Its name was validated: it stays inside .versions/.)
      CF_LOG_INFO("target %s: dropping the interrupted install of %s",
                  spec_.name, j.candidate);
      if (j.candidate != j.serving && j.candidate != j.previous) {
        if (absl::Status s = dir_.RemoveVersion(j.candidate); !s.ok()) {
          CF_LOG_WARN("target %s: %s", spec_.name, s.ToString());
        }
      }
      SaveIdle(current, j.serving == current ? j.previous : j.serving);
      break;
    }
    case Journal::Phase::kRollingBack: {
      CF_LOG_INFO("target %s: completing the interrupted rollback to %s",
                  spec_.name, j.serving.empty() ? "nothing" : j.serving);
      const Restored r = Restore(j.serving, ctx);
      CF_LOG_WARN("target %s: %s", spec_.name, r.what);
      if (!r.settled) {
        needs_recovery_ = true;
        return absl::FailedPreconditionError(r.what);
      }
      // The agent died rolling back: the delivery that started the install
      // never got its result.
      RecordLocalFailure(
          j.candidate, j.failed_step.value_or(DeliveryStep::kUnknown),
          absl::StrCat(j.error.empty() ? "the install failed" : j.error,
                       "; the agent stopped during the rollback, which its "
                       "recovery finished: ",
                       r.what),
          r.swapped_back);
      const std::string serving = r.swapped_back ? j.serving : "";
      SaveIdle(serving, j.previous);
      Prune(serving, j.previous);
      break;
    }
  }
  ASSIGN_OR_RETURN(const std::string now_serving, dir_.Current());
  SetServing(now_serving);
  return absl::OkStatus();
}

absl::Status TargetInstaller::CheckHealth(const Context& ctx) {
  absl::MutexLock lock(&install_mu_);
  if (absl::Status s = EnsureOpenLocked(); !s.ok()) {
    SetHealth(false, std::string(s.message()));
    return s;
  }
  const TargetStatus status = Status();
  if (status.version_id.empty()) {
    SetHealth(false, "nothing is served");
    return absl::FailedPreconditionError(
        absl::StrCat("target ", spec_.name, ": nothing is served"));
  }
  absl::Status s = CheckOnce(status.serial, ctx);
  SetHealth(s.ok(), std::string(s.message()));
  return s;
}

}  // namespace certfleet::agent::internal
