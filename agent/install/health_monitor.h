// Health checks between installs: each target with a health_interval has
// its checks run that often against what it serves, and every change of the
// result (healthy ↔ unhealthy, or a different failure) is handed to a
// callback — the stream client sends it to the coordinator as a
// HealthReport. Checks change nothing on the host, so they run whether or
// not a coordinator is reachable. Targets without an interval are left
// alone: an idle agent does no periodic work unless asked to.
//
//   HealthMonitor monitor(config, manager, clock,
//       [&](const HealthChange& c) { session.ReportHealth(c); });
//   std::thread t([&] { monitor.Run(ctx); });
#ifndef CERTFLEET_AGENT_INSTALL_HEALTH_MONITOR_H_
#define CERTFLEET_AGENT_INSTALL_HEALTH_MONITOR_H_

#include <functional>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "agent/config/agent_config.h"
#include "agent/install/target_manager.h"
#include "common/clock.h"
#include "common/context.h"

namespace certfleet::agent {

// A target's health as a check round found it.
struct HealthChange {
  std::string target;
  bool healthy = false;
  std::string detail;  // what failed; "" when healthy
};

class HealthMonitor {
 public:
  using Callback = std::function<void(const HealthChange&)>;

  // `manager` and `clock` must outlive the monitor. The first round of each
  // target is due one interval after construction; a change is relative to
  // the health the manager knew before the round (after an install, the
  // install's result).
  HealthMonitor(const AgentConfig& config, TargetManager& manager, Clock& clock,
                Callback on_change);

  // True when some target has an interval (else Run returns at once).
  bool active() const { return !next_due_.empty(); }

  // Runs the checks of every target due at clock.Now(), reports changes,
  // and returns when the next target is due (InfiniteFuture when none).
  absl::Time RunDue(const Context& ctx);

  // RunDue, then sleep until the next one is due, until `ctx` ends.
  void Run(const Context& ctx);

 private:
  struct Last {
    bool healthy = false;
    std::string detail;
  };
  TargetManager& manager_;
  Clock& clock_;
  const Callback on_change_;
  std::map<std::string, absl::Duration> interval_;
  std::map<std::string, absl::Time> next_due_;

  // The health the manager reports for `target` now.
  Last Known(const std::string& target) const;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_HEALTH_MONITOR_H_
