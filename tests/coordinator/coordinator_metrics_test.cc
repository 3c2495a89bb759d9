// The coordinator's agent-side counters, as Prometheus renders them: what
// agents had refused, which of their reports were dropped, and the problems
// they found on their own hosts.
#include "coordinator/app/coordinator_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certfleet::app {
namespace {

using ::testing::HasSubstr;

TEST(CoordinatorMetricsTest, AgentRefusalsDropsAndProblemsAreCounted) {
  metrics::Registry registry;
  CoordinatorMetrics metrics(registry);
  delivery::HubObserver& hub = metrics;
  hub.OnReportDropped("result_not_pending");
  hub.OnReportDropped("result_not_pending");
  hub.OnReportDropped("health_not_assigned");
  hub.OnRefused("enrollment_rate_address");
  hub.OnAgentProblem("local_failure");
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("certfleet_agent_reports_dropped_total{reason="
                              "\"result_not_pending\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("certfleet_agent_reports_dropped_total{reason="
                              "\"health_not_assigned\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("certfleet_agent_refusals_total{limit="
                              "\"enrollment_rate_address\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("certfleet_agent_problems_total{kind="
                              "\"local_failure\"} 1\n"));
}

}  // namespace
}  // namespace certfleet::app
