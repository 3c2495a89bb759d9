// A metric family: one metric name, its HELP text and label names, and one
// series (Counter, Gauge or Histogram from metric.h) per combination of
// label values. Families are created by Registry (registry.h) and live as
// long as it does.
//
//   metrics::GaugeFamily& expiry = registry.Gauge(
//       "certfleet_certificate_expiry_seconds", "Expiry (Unix time).",
//       {"certificate"});
//   expiry.WithLabels({"www"})->Set(1.7e9);   // cache the pointer if hot
//   expiry.Remove({"www"});                   // certificate left the config
#ifndef CERTFLEET_COMMON_METRICS_FAMILY_H_
#define CERTFLEET_COMMON_METRICS_FAMILY_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/metric.h"

namespace certfleet::metrics {

class Registry;

enum class MetricType { kCounter, kGauge, kHistogram };

// "counter", "gauge", "histogram": the word used on # TYPE lines.
absl::string_view MetricTypeName(MetricType type);

// What every family has, whatever its type; lets the registry hold and
// render families of all three types together.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  MetricType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // The finite bucket bounds; empty except for histograms.
  const std::vector<double>& bucket_bounds() const { return bounds_; }

  // Appends the family in text exposition format to *out: # HELP (when the
  // help text is not empty), # TYPE and the visible series sorted by label
  // values. Appends nothing when no series is visible.
  virtual void Render(std::string* out) const = 0;

 protected:
  FamilyBase(MetricType type, std::string name, std::string help,
             std::vector<std::string> label_names, std::vector<double> bounds);

  const MetricType type_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
};

// The series of one metric, keyed by label values. Thread-safe.
template <typename T>
class Family final : public FamilyBase {
 public:
  // The series for `values` (one per label name, in the order the names were
  // registered), created at zero on first use. The pointer stays valid for
  // the life of the registry, so hot paths look it up once and cache it;
  // the lookup itself is a hash-map find under a mutex.
  //
  // A wrong number of values is a caller bug: it aborts in debug builds;
  // otherwise it is logged (once per family) and a series that is never
  // rendered is returned, so the caller keeps working.
  T* WithLabels(const std::vector<std::string>& values);

  // Stops reporting the series for `values` (e.g. the expiry gauge of a
  // certificate removed from the configuration). Its storage is kept so
  // pointers callers cached stay valid; writes through them are simply not
  // rendered. A later WithLabels() with the same values reports the series
  // again, keeping its value (a counter never goes backwards). Unknown
  // values are ignored. Memory is therefore bounded by the number of label
  // combinations ever used, as it would be without Remove.
  void Remove(const std::vector<std::string>& values);

  void Render(std::string* out) const override;

 private:
  friend class Registry;

  struct Series {
    std::unique_ptr<T> metric;
    bool visible = true;
  };

  Family(std::string name, std::string help,
         std::vector<std::string> label_names, std::vector<double> bounds);

  std::unique_ptr<T> NewSeries() const;
  // Logs the first misuse of this family; aborts in debug builds.
  void ReportMisuse(absl::string_view what, size_t got) const;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::vector<std::string>, Series> series_
      ABSL_GUARDED_BY(mu_);
  // Returned on misuse; never rendered.
  const std::unique_ptr<T> discard_;
  mutable std::atomic<bool> misuse_logged_{false};
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

namespace internal {
// Reports a programming error in the use of the metrics API: logs `status`
// at error level, then aborts in debug builds (NDEBUG not defined).
void ReportMisuse(const absl::Status& status);
}  // namespace internal

}  // namespace certfleet::metrics

#endif  // CERTFLEET_COMMON_METRICS_FAMILY_H_
