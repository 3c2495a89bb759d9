#include "common/metrics/family.h"

#include <algorithm>
#include <cstdlib>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/metrics/text_format.h"

namespace certfleet::metrics {
namespace {

// One sample line: name{labels} value.
void AppendSample(absl::string_view name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, double value,
                  std::string* out) {
  out->append(name.data(), name.size());
  AppendLabels(names, values, "", "", out);
  absl::StrAppend(out, " ", FormatSampleValue(value), "\n");
}

void AppendSeries(const FamilyBase& family,
                  const std::vector<std::string>& values,
                  const Counter& counter, std::string* out) {
  AppendSample(family.name(), family.label_names(), values, counter.Value(),
               out);
}

void AppendSeries(const FamilyBase& family,
                  const std::vector<std::string>& values, const Gauge& gauge,
                  std::string* out) {
  AppendSample(family.name(), family.label_names(), values, gauge.Value(), out);
}

void AppendSeries(const FamilyBase& family,
                  const std::vector<std::string>& values,
                  const Histogram& histogram, std::string* out) {
  const HistogramSnapshot snapshot = histogram.Snapshot();
  const std::string bucket_name = absl::StrCat(family.name(), "_bucket");
  const std::vector<double>& bounds = histogram.bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    const std::string le =
        i < bounds.size() ? FormatSampleValue(bounds[i]) : "+Inf";
    out->append(bucket_name);
    AppendLabels(family.label_names(), values, "le", le, out);
    absl::StrAppend(out, " ", snapshot.cumulative[i], "\n");
  }
  AppendSample(absl::StrCat(family.name(), "_sum"), family.label_names(),
               values, snapshot.sum, out);
  AppendSample(absl::StrCat(family.name(), "_count"), family.label_names(),
               values, static_cast<double>(snapshot.count), out);
}

}  // namespace

namespace internal {
void ReportMisuse(const absl::Status& status) {
  CF_LOG_ERROR("metrics API misuse: %s", status.ToString());
#ifndef NDEBUG
  std::abort();
#endif
}
}  // namespace internal

absl::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

FamilyBase::FamilyBase(MetricType type, std::string name, std::string help,
                       std::vector<std::string> label_names,
                       std::vector<double> bounds)
    : type_(type),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

template <typename T>
Family<T>::Family(std::string name, std::string help,
                  std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : FamilyBase(std::is_same_v<T, Counter> ? MetricType::kCounter
                 : std::is_same_v<T, Gauge> ? MetricType::kGauge
                                            : MetricType::kHistogram,
                 std::move(name), std::move(help), std::move(label_names),
                 std::move(bounds)),
      discard_(NewSeries()) {
  // A family without labels has exactly one series; report it (at zero)
  // from the start, so a scrape never sees the metric missing.
  if (label_names_.empty()) {
    absl::MutexLock lock(&mu_);
    series_[{}] = Series{NewSeries(), true};
  }
}

template <typename T>
std::unique_ptr<T> Family<T>::NewSeries() const {
  if constexpr (std::is_same_v<T, Histogram>) {
    return std::make_unique<Histogram>(&bounds_);
  } else {
    return std::make_unique<T>();
  }
}

template <typename T>
void Family<T>::ReportMisuse(absl::string_view what, size_t got) const {
  if (misuse_logged_.exchange(true)) return;
  internal::ReportMisuse(absl::InvalidArgumentError(
      absl::StrCat("metric \"", name_, "\": ", what, " called with ", got,
                   " label values, but the family has ", label_names_.size(),
                   " label names (", absl::StrJoin(label_names_, ", "), ")")));
}

template <typename T>
T* Family<T>::WithLabels(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    ReportMisuse("WithLabels", values.size());
    return discard_.get();
  }
  absl::MutexLock lock(&mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    it = series_.emplace(values, Series{NewSeries(), true}).first;
  }
  it->second.visible = true;
  return it->second.metric.get();
}

template <typename T>
void Family<T>::Remove(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    ReportMisuse("Remove", values.size());
    return;
  }
  absl::MutexLock lock(&mu_);
  auto it = series_.find(values);
  if (it != series_.end()) it->second.visible = false;
}

template <typename T>
void Family<T>::Render(std::string* out) const {
  // Copy the keys: flat_hash_map moves them on rehash, and the values are
  // read after the lock is released (the series themselves never move).
  std::vector<std::pair<std::vector<std::string>, const T*>> visible;
  {
    absl::MutexLock lock(&mu_);
    visible.reserve(series_.size());
    for (const auto& [values, series] : series_) {
      if (series.visible) visible.emplace_back(values, series.metric.get());
    }
  }
  if (visible.empty()) return;
  std::sort(visible.begin(), visible.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  if (!help_.empty()) {
    absl::StrAppend(out, "# HELP ", name_, " ", EscapeHelp(help_), "\n");
  }
  absl::StrAppend(out, "# TYPE ", name_, " ", MetricTypeName(type_), "\n");
  for (const auto& [values, metric] : visible) {
    AppendSeries(*this, values, *metric, out);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace certfleet::metrics
