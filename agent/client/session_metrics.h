// The agent's view of its coordinator connection, in Prometheus metrics:
// whether a stream is open, how often it was lost, and identity
// certificates it refused (certfleet_agent_identity_refused_total{reason}).
//
//   SessionMetrics metrics(&registry);
//   AgentSession session(options, identities, targets, clock, &metrics);
#ifndef CERTFLEET_AGENT_CLIENT_SESSION_METRICS_H_
#define CERTFLEET_AGENT_CLIENT_SESSION_METRICS_H_

#include <string>

#include "agent/client/session.h"
#include "common/metrics/registry.h"

namespace certfleet::agent {

class SessionMetrics : public SessionObserver {
 public:
  // `registry` must outlive this object.
  explicit SessionMetrics(metrics::Registry* registry);

  void OnConnected(const std::string& coordinator) override;
  void OnDisconnected(const std::string& coordinator,
                      const std::string& why) override;
  void OnIdentityRefused(const std::string& coordinator,
                         const std::string& reason) override;

 private:
  metrics::Gauge* connected_;
  metrics::CounterFamily& disconnects_;
  metrics::CounterFamily& identity_refused_;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CLIENT_SESSION_METRICS_H_
