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
  for (const TargetStatus& s : manager_.Inventory()) {
    if (interval_.count(s.name) == 0) continue;
    last_[s.name] =
        Last{.healthy = s.healthy, .detail = s.healthy ? "" : s.health_detail};
  }
}

absl::Time HealthMonitor::RunDue(const Context& ctx) {
  absl::Time next = absl::InfiniteFuture();
  for (auto& [target, due] : next_due_) {
    if (ctx.IsCancelled()) return next;
    if (clock_.Now() >= due) {
      // CheckHealth records the result for the inventory too; it waits for
      // an install of the target in progress, and fails "nothing is
      // served" for a target that has no version yet.
      const absl::Status s = manager_.CheckHealth(target, ctx);
      const Last now{.healthy = s.ok(),
                     .detail = s.ok() ? "" : std::string(s.message())};
      Last& last = last_[target];
      if (now.healthy != last.healthy || now.detail != last.detail) {
        if (now.healthy) {
          CF_LOG_INFO("target %s: healthy again", target);
        } else {
          CF_LOG_WARN("target %s: unhealthy: %s", target, now.detail);
        }
        last = now;
        on_change_(HealthChange{
            .target = target, .healthy = now.healthy, .detail = now.detail});
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
