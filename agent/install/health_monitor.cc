#include "agent/install/health_monitor.h"

#include <algorithm>

#include "common/log.h"

namespace certfleet::agent {

HealthMonitor::HealthMonitor(const AgentConfig& config, TargetManager& manager,
                             Clock& clock, Callback on_change)
    : manager_(manager), clock_(clock), on_change_(std::move(on_change)) {
  const absl::Time now = clock_.Now();
  for (const TargetSpec& t : config.targets) {
    if (t.health_interval <= absl::ZeroDuration()) continue;
    interval_[t.name] = t.health_interval;
    next_due_[t.name] = now + t.health_interval;
  }
}

HealthMonitor::Last HealthMonitor::Known(const std::string& target) const {
  for (const TargetStatus& t : manager_.Inventory()) {
    if (t.name == target) {
      return Last{.healthy = t.healthy,
                  .detail = t.healthy ? "" : t.health_detail};
    }
  }
  return Last{};
}

absl::Time HealthMonitor::RunDue(const Context& ctx) {
  absl::Time next = absl::InfiniteFuture();
  for (auto& [target, due] : next_due_) {
    if (ctx.IsCancelled()) return next;
    if (clock_.Now() >= due) {
      // Compared with what the manager knew before this round — set by the
      // last install, rollback or round — so a change is reported once.
      const Last before = Known(target);
      // CheckHealth records the result for the inventory too; it waits for
      // an install of the target in progress, and fails "nothing is
      // served" for a target that has no version yet.
      manager_.CheckHealth(target, ctx).IgnoreError();  // seen just below
      const Last after = Known(target);
      if (after.healthy != before.healthy || after.detail != before.detail) {
        if (after.healthy) {
          CF_LOG_INFO("target %s: healthy again", target);
        } else {
          CF_LOG_WARN("target %s: unhealthy: %s", target, after.detail);
        }
        on_change_(HealthChange{.target = target,
                                .healthy = after.healthy,
                                .detail = after.detail});
      }
      due = clock_.Now() + interval_[target];
    }
    next = std::min(next, due);
  }
  return next;
}

void HealthMonitor::Run(const Context& ctx) {
  while (active() && !ctx.IsCancelled()) {
    const absl::Time next = RunDue(ctx);
    if (!clock_.SleepUntil(next, ctx).ok()) return;
  }
}

}  // namespace certfleet::agent
