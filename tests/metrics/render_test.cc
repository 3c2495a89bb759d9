// Golden-text tests of Registry::Render(): exposition format 0.0.4.
#include <limits>
#include <string>

#include "common/metrics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certfleet::metrics {
namespace {

TEST(RenderTest, EmptyRegistryRendersNothing) {
  Registry registry;
  EXPECT_EQ(registry.Render(), "");
}

TEST(RenderTest, CountersGaugesAndHistogramsWithLabels) {
  Registry registry;
  CounterFamily& orders = registry.Counter(
      "certfleet_orders_total", "ACME orders placed.", {"issuer", "result"});
  orders.WithLabels({"pebble", "ok"})->Increment(3);
  orders.WithLabels({"pebble", "error"})->Increment(0.5);
  orders.WithLabels({"le", "error"})->Increment();  // "le" is a fine value
  GaugeFamily& expiry = registry.Gauge("certfleet_certificate_expiry_seconds",
                                       "Expiry (Unix time).", {"certificate"});
  expiry.WithLabels({"www"})->Set(1700000000);
  HistogramFamily& latency =
      registry.Histogram("certfleet_issue_seconds", "Issuance latency.",
                         {"issuer"}, {0.125, 1, 10});
  Histogram* pebble = latency.WithLabels({"pebble"});
  pebble->Observe(0.0625);
  pebble->Observe(0.125);  // on the bound: le means <=
  pebble->Observe(5);
  pebble->Observe(100);

  EXPECT_EQ(
      registry.Render(),
      "# HELP certfleet_certificate_expiry_seconds Expiry (Unix time).\n"
      "# TYPE certfleet_certificate_expiry_seconds gauge\n"
      "certfleet_certificate_expiry_seconds{certificate=\"www\"} 1700000000\n"
      "# HELP certfleet_issue_seconds Issuance latency.\n"
      "# TYPE certfleet_issue_seconds histogram\n"
      "certfleet_issue_seconds_bucket{issuer=\"pebble\",le=\"0.125\"} 2\n"
      "certfleet_issue_seconds_bucket{issuer=\"pebble\",le=\"1\"} 2\n"
      "certfleet_issue_seconds_bucket{issuer=\"pebble\",le=\"10\"} 3\n"
      "certfleet_issue_seconds_bucket{issuer=\"pebble\",le=\"+Inf\"} 4\n"
      "certfleet_issue_seconds_sum{issuer=\"pebble\"} 105.1875\n"
      "certfleet_issue_seconds_count{issuer=\"pebble\"} 4\n"
      "# HELP certfleet_orders_total ACME orders placed.\n"
      "# TYPE certfleet_orders_total counter\n"
      "certfleet_orders_total{issuer=\"le\",result=\"error\"} 1\n"
      "certfleet_orders_total{issuer=\"pebble\",result=\"error\"} 0.5\n"
      "certfleet_orders_total{issuer=\"pebble\",result=\"ok\"} 3\n");
}

TEST(RenderTest, UnlabeledFamiliesReportZeroFromRegistration) {
  Registry registry;
  registry.Counter("certfleet_restarts_total", "Restarts.", {});
  registry.Gauge("certfleet_up", "", {});  // empty help: no HELP line
  registry.Histogram("certfleet_batch_size", "Batch size.", {}, {1, 2});
  EXPECT_EQ(registry.Render(),
            "# HELP certfleet_batch_size Batch size.\n"
            "# TYPE certfleet_batch_size histogram\n"
            "certfleet_batch_size_bucket{le=\"1\"} 0\n"
            "certfleet_batch_size_bucket{le=\"2\"} 0\n"
            "certfleet_batch_size_bucket{le=\"+Inf\"} 0\n"
            "certfleet_batch_size_sum 0\n"
            "certfleet_batch_size_count 0\n"
            "# HELP certfleet_restarts_total Restarts.\n"
            "# TYPE certfleet_restarts_total counter\n"
            "certfleet_restarts_total 0\n"
            "# TYPE certfleet_up gauge\n"
            "certfleet_up 0\n");
}

TEST(RenderTest, LabeledFamilyWithoutSeriesIsOmitted) {
  Registry registry;
  registry.Counter("certfleet_errors_total", "Errors.", {"kind"});
  EXPECT_EQ(registry.Render(), "");
}

TEST(RenderTest, HistogramWithoutFiniteBucketsAndSpecialValues) {
  Registry registry;
  HistogramFamily& family = registry.Histogram(
      "certfleet_h", "H.", {}, {std::numeric_limits<double>::infinity()});
  family.WithLabels({})->Observe(2.5);
  registry.Gauge("certfleet_g", "G.", {"k"})
      .WithLabels({"inf"})
      ->Set(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(registry.Render(),
            "# HELP certfleet_g G.\n"
            "# TYPE certfleet_g gauge\n"
            "certfleet_g{k=\"inf\"} -Inf\n"
            "# HELP certfleet_h H.\n"
            "# TYPE certfleet_h histogram\n"
            "certfleet_h_bucket{le=\"+Inf\"} 1\n"
            "certfleet_h_sum 2.5\n"
            "certfleet_h_count 1\n");
}

TEST(RenderTest, EscapesHelpAndLabelValues) {
  Registry registry;
  registry
      .Gauge("certfleet_escape", "Line one\nline \\ two \"quoted\"", {"path"})
      .WithLabels({"C:\\certs\n\"www\""})
      ->Set(1);
  EXPECT_EQ(registry.Render(),
            "# HELP certfleet_escape Line one\\nline \\\\ two \"quoted\"\n"
            "# TYPE certfleet_escape gauge\n"
            "certfleet_escape{path=\"C:\\\\certs\\n\\\"www\\\"\"} 1\n");
}

TEST(RenderTest, SortsFamiliesByNameAndSeriesByLabelValues) {
  Registry registry;
  GaugeFamily& zeta = registry.Gauge("zeta", "Z.", {"a", "b"});
  registry.Gauge("alpha", "A.", {}).WithLabels({})->Set(1);
  zeta.WithLabels({"b", "1"})->Set(1);
  zeta.WithLabels({"a", "2"})->Set(2);
  zeta.WithLabels({"a", "10"})->Set(3);  // byte order: "10" < "2"
  zeta.WithLabels({"B", "1"})->Set(4);   // byte order: "B" < "a"
  registry.Counter("mid", "M.", {}).WithLabels({})->Increment();
  EXPECT_EQ(registry.Render(),
            "# HELP alpha A.\n"
            "# TYPE alpha gauge\n"
            "alpha 1\n"
            "# HELP mid M.\n"
            "# TYPE mid counter\n"
            "mid 1\n"
            "# HELP zeta Z.\n"
            "# TYPE zeta gauge\n"
            "zeta{a=\"B\",b=\"1\"} 4\n"
            "zeta{a=\"a\",b=\"10\"} 3\n"
            "zeta{a=\"a\",b=\"2\"} 2\n"
            "zeta{a=\"b\",b=\"1\"} 1\n");
}

TEST(RenderTest, RemovedSeriesStopsReportingAndCachedPointerStaysValid) {
  Registry registry;
  GaugeFamily& expiry =
      registry.Gauge("certfleet_expiry", "Expiry.", {"certificate"});
  Gauge* www = expiry.WithLabels({"www"});
  www->Set(100);
  expiry.WithLabels({"api"})->Set(200);

  expiry.Remove({"www"});
  expiry.Remove({"never-existed"});  // ignored
  const std::string after_remove =
      "# HELP certfleet_expiry Expiry.\n"
      "# TYPE certfleet_expiry gauge\n"
      "certfleet_expiry{certificate=\"api\"} 200\n";
  EXPECT_EQ(registry.Render(), after_remove);

  www->Set(150);  // a stale cached pointer: safe, and not rendered
  EXPECT_EQ(registry.Render(), after_remove);

  // Re-adding the certificate reports the same series again.
  EXPECT_EQ(expiry.WithLabels({"www"}), www);
  EXPECT_EQ(registry.Render(),
            "# HELP certfleet_expiry Expiry.\n"
            "# TYPE certfleet_expiry gauge\n"
            "certfleet_expiry{certificate=\"api\"} 200\n"
            "certfleet_expiry{certificate=\"www\"} 150\n");

  expiry.Remove({"www"});
  expiry.Remove({"api"});
  EXPECT_EQ(registry.Render(), "");
}

TEST(RenderTest, FractionalIncrementsAreExactDoubleSums) {
  Registry registry;
  Counter* counter =
      registry.Counter("certfleet_seconds_total", "S.", {}).WithLabels({});
  counter->Increment(0.1);
  counter->Increment(0.2);
  // A fixed-point implementation would drift or round to "0.3".
  EXPECT_EQ(counter->Value(), 0.1 + 0.2);
  counter->Increment(1e-9);
  EXPECT_EQ(counter->Value(), 0.1 + 0.2 + 1e-9);
  EXPECT_THAT(
      registry.Render(),
      ::testing::HasSubstr("certfleet_seconds_total 0.30000000100000007\n"));
}

TEST(RenderTest, GaugeAddGoesBothWays) {
  Registry registry;
  Gauge* queue = registry.Gauge("certfleet_queue", "Q.", {}).WithLabels({});
  queue->Add(5);
  queue->Add(-1.5);
  EXPECT_EQ(queue->Value(), 3.5);
  queue->Set(-2);
  EXPECT_THAT(registry.Render(), ::testing::HasSubstr("certfleet_queue -2\n"));
}

}  // namespace
}  // namespace certfleet::metrics
