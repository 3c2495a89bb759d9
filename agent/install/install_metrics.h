// The agent's install metrics, by target, in the process's registry:
//
//   certfleet_agent_installs_total{target,result="ok|rejected"}
//   certfleet_agent_reloads_total{target,result="ok|failed"}
//   certfleet_agent_rollbacks_total{target}
//   certfleet_agent_health_failures_total{target}
//   certfleet_agent_certificate_not_after_timestamp_seconds{target}
//   certfleet_agent_target_refused{target}
//   certfleet_agent_state_problems_total{target,kind}
//
// With a null registry every call does nothing, so tests and tools need not
// set one up.
//
//   InstallMetrics metrics(&registry);
//   metrics.Reload("www", /*ok=*/false);
//   metrics.ServedNotAfter("www", leaf.NotAfter());
#ifndef CERTFLEET_AGENT_INSTALL_INSTALL_METRICS_H_
#define CERTFLEET_AGENT_INSTALL_INSTALL_METRICS_H_

#include <string>

#include "absl/time/time.h"
#include "common/metrics/registry.h"

namespace certfleet::agent {

class InstallMetrics {
 public:
  // `registry` may be null; otherwise it must outlive this object.
  explicit InstallMetrics(metrics::Registry* registry);

  // An install that did something ended: installed (ok) or refused/rolled
  // back. A bundle already serving is not counted.
  void Install(const std::string& target, bool ok);
  void Reload(const std::string& target, bool ok);
  void Rollback(const std::string& target);
  // Health checks still failing when the health timeout ran out.
  void HealthFailure(const std::string& target);
  // The notAfter of what the target serves; InfinitePast = nothing served
  // (the series is removed).
  void ServedNotAfter(const std::string& target, absl::Time not_after);
  // 1 while the target's directory is refused (directory_chain.h) or
  // cannot be used, 0 otherwise.
  void TargetRefused(const std::string& target, bool refused);
  // Something on disk the agent did not trust and left alone: `kind` is
  // "journal" (moved aside), "versions_entry" (an entry of .versions/ that
  // is not a version the agent writes) or "not_adopted" (a link, device,
  // FIFO or oversized file at a stable path before the first install).
  void StateProblem(const std::string& target, const std::string& kind);

 private:
  metrics::CounterFamily* installs_ = nullptr;
  metrics::CounterFamily* reloads_ = nullptr;
  metrics::CounterFamily* rollbacks_ = nullptr;
  metrics::CounterFamily* health_failures_ = nullptr;
  metrics::GaugeFamily* not_after_ = nullptr;
  metrics::GaugeFamily* refused_ = nullptr;
  metrics::CounterFamily* state_problems_ = nullptr;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_INSTALL_METRICS_H_
