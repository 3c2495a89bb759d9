// The agent's connection metrics, as Prometheus renders them.
#include "agent/client/session_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certfleet::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SessionMetricsTest, ConnectedGaugeAndDisconnectsByCoordinator) {
  metrics::Registry registry;
  SessionMetrics metrics(&registry);
  EXPECT_THAT(registry.Render(),
              HasSubstr("certfleet_agent_coordinator_connected 0\n"));
  metrics.OnConnected("10.0.0.1:7443");
  EXPECT_THAT(registry.Render(),
              HasSubstr("certfleet_agent_coordinator_connected 1\n"));
  metrics.OnDisconnected("10.0.0.1:7443", "UNAVAILABLE: connection reset");
  metrics.OnDisconnected("10.0.0.1:7443", "UNAVAILABLE: refused");
  metrics.OnDisconnected("10.0.0.2:7443", "UNAVAILABLE: refused");
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("certfleet_agent_coordinator_connected 0\n"));
  EXPECT_THAT(text, HasSubstr("certfleet_agent_coordinator_disconnects_total{"
                              "coordinator=\"10.0.0.1:7443\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("certfleet_agent_coordinator_disconnects_total{"
                              "coordinator=\"10.0.0.2:7443\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("connection reset")));
}

TEST(SessionMetricsTest, RefusedIdentityCertificatesByReason) {
  metrics::Registry registry;
  SessionMetrics metrics(&registry);
  metrics.OnIdentityRefused("10.0.0.1:7443", "ca_changed");
  metrics.OnIdentityRefused("10.0.0.1:7443", "not_requested");
  metrics.OnIdentityRefused("10.0.0.2:7443", "not_requested");
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("certfleet_agent_identity_refused_total{"
                              "reason=\"ca_changed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("certfleet_agent_identity_refused_total{"
                              "reason=\"not_requested\"} 2\n"));
}

}  // namespace
}  // namespace certfleet::agent
