#include "agent/client/session_metrics.h"

namespace certfleet::agent {

SessionMetrics::SessionMetrics(metrics::Registry* registry)
    : connected_(registry
                     ->Gauge("certfleet_agent_coordinator_connected",
                             "1 while a stream to a coordinator is open "
                             "(welcomed), else 0.",
                             {})
                     .WithLabels({})),
      disconnects_(registry->Counter(
          "certfleet_agent_coordinator_disconnects_total",
          "Streams to a coordinator that ended or could not be opened, by "
          "coordinator address.",
          {"coordinator"})),
      identity_refused_(registry->Counter(
          "certfleet_agent_identity_refused_total",
          "Identity certificates from a coordinator that the agent refused "
          "(its identity unchanged), by reason: ca_changed, not_requested, "
          "untrusted, wrong_agent, unparsable, not_saved.",
          {"reason"})) {
  connected_->Set(0);
}

void SessionMetrics::OnConnected(const std::string&) { connected_->Set(1); }

void SessionMetrics::OnDisconnected(const std::string& coordinator,
                                    const std::string&) {
  connected_->Set(0);
  disconnects_.WithLabels({coordinator})->Increment();
}

void SessionMetrics::OnIdentityRefused(const std::string&,
                                       const std::string& reason) {
  identity_refused_.WithLabels({reason})->Increment();
}

}  // namespace certfleet::agent
