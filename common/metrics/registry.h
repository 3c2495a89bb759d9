// The set of metric families of one process, rendered in the Prometheus
// text exposition format 0.0.4. There is no global instance: main() creates
// one Registry and passes it (by reference or pointer) to whatever records
// metrics and to MetricsServer (http_server.h), so tests use their own.
// This library depends only on abseil and common/log; the HTTP endpoint is
// the separate certfleet_metrics_http library.
//
//   metrics::Registry registry;
//   metrics::CounterFamily& orders = registry.Counter(
//       "certfleet_orders_total", "ACME orders placed.", {"issuer"});
//   metrics::Counter* pebble_orders = orders.WithLabels({"pebble"});
//   pebble_orders->Increment();              // one atomic operation
//   std::string text = registry.Render();    // what GET /metrics returns
//
// Registering a name twice with the same type, help, labels (and buckets)
// returns the same family, so independent modules may each register what
// they use.
#ifndef CERTFLEET_COMMON_METRICS_REGISTRY_H_
#define CERTFLEET_COMMON_METRICS_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/family.h"
#include "common/metrics/metric.h"

namespace certfleet::metrics {

// `count` bounds start, start*factor, start*factor^2, ... for histograms.
// Requires start > 0, factor > 1, count >= 1 (otherwise returns {}).
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// Thread-safe: families may be registered, used and rendered concurrently.
// Families live as long as the registry; so do the series they hand out.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers (or finds) a family. Errors, all for a caller bug:
  //  - kInvalidArgument: the metric name or a label name breaks the
  //    Prometheus data model (names.h), a label name repeats, a histogram
  //    uses the label "le" or its bounds are NaN or not strictly increasing;
  //  - kAlreadyExists: the name is registered with another type, help text,
  //    label names or buckets, or would render series of the same name as
  //    another family (histogram "x" produces x_bucket, x_sum, x_count).
  // A trailing +Inf bound is accepted and dropped: the +Inf bucket is
  // always rendered.
  absl::StatusOr<CounterFamily*> RegisterCounter(
      std::string name, std::string help, std::vector<std::string> label_names);
  absl::StatusOr<GaugeFamily*> RegisterGauge(
      std::string name, std::string help, std::vector<std::string> label_names);
  absl::StatusOr<HistogramFamily*> RegisterHistogram(
      std::string name, std::string help, std::vector<std::string> label_names,
      std::vector<double> bucket_bounds);

  // The same, for metric names fixed in the code, where an error is a bug
  // found by the first test run: on error they abort in debug builds; in
  // release builds they log the error and return a detached family that
  // accepts WithLabels() with the given label names but is never rendered
  // (the process keeps working, without that metric). For a histogram with
  // invalid bounds the detached family has only the +Inf bucket.
  CounterFamily& Counter(std::string name, std::string help,
                         std::vector<std::string> label_names);
  GaugeFamily& Gauge(std::string name, std::string help,
                     std::vector<std::string> label_names);
  HistogramFamily& Histogram(std::string name, std::string help,
                             std::vector<std::string> label_names,
                             std::vector<double> bucket_bounds);

  // Every family with at least one visible series, sorted by name; series
  // sorted by label values. Text exposition format 0.0.4.
  std::string Render() const;

 private:
  absl::StatusOr<FamilyBase*> Register(MetricType type, const std::string& name,
                                       const std::string& help,
                                       const std::vector<std::string>& labels,
                                       const std::vector<double>& bounds);
  // Fails when `name` would render a series name another family renders.
  absl::Status CheckSeriesNameClash(MetricType type,
                                    const std::string& name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  FamilyBase& Detached(MetricType type, const std::string& name,
                       const std::string& help,
                       const std::vector<std::string>& labels,
                       const std::vector<double>& bounds);
  static std::unique_ptr<FamilyBase> NewFamily(
      MetricType type, const std::string& name, const std::string& help,
      const std::vector<std::string>& labels, std::vector<double> bounds);

  mutable absl::Mutex mu_;
  // Ordered by name: Render() emits families in this order.
  std::map<std::string, std::unique_ptr<FamilyBase>> families_
      ABSL_GUARDED_BY(mu_);
  // Fallbacks handed out after a registration error; never rendered.
  std::vector<std::unique_ptr<FamilyBase>> detached_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::metrics

#endif  // CERTFLEET_COMMON_METRICS_REGISTRY_H_
