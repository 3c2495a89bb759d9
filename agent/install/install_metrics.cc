#include "agent/install/install_metrics.h"

namespace certfleet::agent {

InstallMetrics::InstallMetrics(metrics::Registry* registry) {
  if (registry == nullptr) return;
  installs_ = &registry->Counter(
      "certfleet_agent_installs_total",
      "Bundle installs by target: ok, or rejected (refused or rolled back).",
      {"target", "result"});
  reloads_ = &registry->Counter("certfleet_agent_reloads_total",
                                "Reload commands run, by target and result.",
                                {"target", "result"});
  rollbacks_ = &registry->Counter(
      "certfleet_agent_rollbacks_total",
      "Rollbacks started after a failed install (the previous version put "
      "back, or nothing served when there was none).",
      {"target"});
  health_failures_ = &registry->Counter(
      "certfleet_agent_health_failures_total",
      "Health gates failed (checks still failing at the health timeout).",
      {"target"});
  not_after_ = &registry->Gauge(
      "certfleet_agent_certificate_not_after_timestamp_seconds",
      "Expiry (Unix time) of the certificate each target serves.", {"target"});
  refused_ = &registry->Gauge(
      "certfleet_agent_target_refused",
      "1 while a target's directory is refused (a link, another owner, or "
      "writable by others on the way to it) or cannot be used.",
      {"target"});
  state_problems_ = &registry->Counter(
      "certfleet_agent_state_problems_total",
      "Things on disk the agent did not trust and left alone, by kind: "
      "journal (moved aside), versions_entry, not_adopted.",
      {"target", "kind"});
}

void InstallMetrics::Install(const std::string& target, bool ok) {
  if (installs_)
    installs_->WithLabels({target, ok ? "ok" : "rejected"})->Increment();
}

void InstallMetrics::Reload(const std::string& target, bool ok) {
  if (reloads_)
    reloads_->WithLabels({target, ok ? "ok" : "failed"})->Increment();
}

void InstallMetrics::Rollback(const std::string& target) {
  if (rollbacks_) rollbacks_->WithLabels({target})->Increment();
}

void InstallMetrics::HealthFailure(const std::string& target) {
  if (health_failures_) health_failures_->WithLabels({target})->Increment();
}

void InstallMetrics::ServedNotAfter(const std::string& target,
                                    absl::Time not_after) {
  if (!not_after_) return;
  if (not_after == absl::InfinitePast()) {
    not_after_->Remove({target});
    return;
  }
  not_after_->WithLabels({target})->Set(
      static_cast<double>(absl::ToUnixSeconds(not_after)));
}

void InstallMetrics::TargetRefused(const std::string& target, bool refused) {
  if (refused_) refused_->WithLabels({target})->Set(refused ? 1 : 0);
}

void InstallMetrics::StateProblem(const std::string& target,
                                  const std::string& kind) {
  if (state_problems_) state_problems_->WithLabels({target, kind})->Increment();
}

}  // namespace certfleet::agent
