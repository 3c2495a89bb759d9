#include "agent/install/target_manager.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/install/state_files.h"
#include "agent/install/target_directory.h"
#include "agent/install/target_installer.h"
#include "agent/install/version_name.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::agent {

std::vector<TargetStatus> ReadInventory(const AgentConfig& config) {
  std::vector<TargetStatus> out;
  for (const TargetSpec& spec : config.targets) {
    TargetStatus status{.name = spec.name,
                        .health_detail = "not checked (read from disk)"};
    TargetDirectory dir(spec.directory);
    if (absl::Status s = dir.Open(/*create=*/false); !s.ok()) {
      // Missing: nothing installed yet.
      if (!absl::IsNotFound(s)) {
        status.state_problem =
            absl::StrCat("target directory ", spec.directory,
                         absl::IsFailedPrecondition(s) ? " is refused: "
                                                       : " cannot be used: ",
                         s.message());
        status.health_detail = status.state_problem;
      }
      out.push_back(std::move(status));
      continue;
    }
    if (absl::StatusOr<Journal> journal = dir.ReadJournal(); journal.ok()) {
      status.last_failure = journal->last_failure;
    } else {
      status.state_problem = std::string(journal.status().message());
    }
    if (const std::vector<std::string> aside = dir.JournalsMovedAside();
        !aside.empty() && status.state_problem.empty()) {
      status.state_problem =
          absl::StrCat("a journal that failed validation was moved aside to ",
                       dir.path(), "/", absl::StrJoin(aside, ", "));
    }
    absl::StatusOr<std::string> current = dir.Current();
    if (!current.ok()) {
      status.health_detail = std::string(current.status().message());
    } else if (!current->empty()) {
      absl::StatusOr<VersionInfo> info = dir.ReadVersionInfo(*current);
      if (info.ok()) {
        status.version_id = info->version_id;
        status.serial = info->serial;
        status.not_after = info->not_after;
      } else {
        status.version_id = VersionIdOfName(*current).value_or(*current);
        status.health_detail = std::string(info.status().message());
      }
    }
    out.push_back(std::move(status));
  }
  return out;
}

TargetManager::TargetManager(ProcessRunner& runner, Clock& clock,
                             HealthChecker& checker,
                             metrics::Registry* registry)
    : runner_(runner), clock_(clock), checker_(checker), metrics_(registry) {}

TargetManager::~TargetManager() = default;

absl::StatusOr<std::unique_ptr<TargetManager>> TargetManager::Create(
    const AgentConfig& config, ProcessRunner& runner, Clock& clock,
    HealthChecker& checker, metrics::Registry* registry, WriteFaults* faults) {
  std::unique_ptr<TargetManager> manager(
      new TargetManager(runner, clock, checker, registry));
  const internal::InstallerDeps deps{manager->runner_,  manager->clock_,
                                     manager->checker_, manager->metrics_,
                                     manager->fs_,      faults};
  for (const TargetSpec& spec : config.targets) {
    auto installer = std::make_unique<internal::TargetInstaller>(spec, deps);
    RETURN_IF_ERROR(installer->Open());
    manager->by_name_[spec.name] = installer.get();
    manager->targets_.push_back(std::move(installer));
  }
  return manager;
}

absl::Status TargetManager::Recover(const Context& ctx) {
  absl::Status first;
  for (const auto& target : targets_) {
    absl::Status s = target->Recover(ctx);
    if (!s.ok()) {
      CF_LOG_WARN("target %s: recovery: %s", target->spec().name, s.ToString());
      if (first.ok()) {
        first = Annotate(s, absl::StrCat("target ", target->spec().name));
      }
    }
  }
  return first;
}

InstallOutcome TargetManager::Install(const Bundle& bundle,
                                      const Context& ctx) {
  auto it = by_name_.find(bundle.target);
  if (it == by_name_.end()) {
    // Not counted in metrics: the label would be the sender's choice.
    return InstallOutcome{
        .failed_step = DeliveryStep::kVerify,
        .error = absl::StrCat("unknown target \"", bundle.target,
                              "\" (this agent's targets are set in ",
                              "its configuration)")};
  }
  return it->second->Install(bundle, ctx);
}

absl::Status TargetManager::CheckHealth(const std::string& target,
                                        const Context& ctx) {
  auto it = by_name_.find(target);
  if (it == by_name_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown target \"", target, "\""));
  }
  return it->second->CheckHealth(ctx);
}

std::vector<TargetStatus> TargetManager::Inventory() const {
  std::vector<TargetStatus> out;
  out.reserve(targets_.size());
  for (const auto& target : targets_) out.push_back(target->Status());
  return out;
}

std::vector<std::string> TargetManager::TargetNames() const {
  std::vector<std::string> out;
  out.reserve(targets_.size());
  for (const auto& target : targets_) out.push_back(target->spec().name);
  return out;
}

}  // namespace certfleet::agent
