#include "common/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/metrics/names.h"
#include "common/metrics/text_format.h"
#include "common/status_macros.h"

namespace certfleet::metrics {
namespace {

// The series-name suffixes a histogram renders besides its own name.
constexpr absl::string_view kHistogramSuffixes[] = {"_bucket", "_sum",
                                                    "_count"};

// Checks histogram bounds and drops a trailing +Inf (always rendered).
absl::StatusOr<std::vector<double>> NormalizeBounds(
    const std::string& name, std::vector<double> bounds) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) {
    bounds.pop_back();
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "histogram \"", name, "\": bucket bound ", i, " is NaN"));
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram \"", name,
                       "\": bucket bounds must be strictly increasing, "
                       "but bound ",
                       i, " (", FormatSampleValue(bounds[i]), ") follows ",
                       FormatSampleValue(bounds[i - 1])));
    }
    if (std::isinf(bounds[i]) && bounds[i] > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "histogram \"", name, "\": +Inf may only be the last bucket bound"));
    }
  }
  return bounds;
}

std::string Describe(MetricType type, const std::string& help,
                     const std::vector<std::string>& labels,
                     const std::vector<double>& bounds) {
  std::string text = absl::StrCat(MetricTypeName(type), " with labels [",
                                  absl::StrJoin(labels, ", "), "]");
  if (type == MetricType::kHistogram) {
    absl::StrAppend(&text, ", buckets [",
                    absl::StrJoin(bounds, ", ",
                                  [](std::string* out, double b) {
                                    out->append(FormatSampleValue(b));
                                  }),
                    "]");
  }
  absl::StrAppend(&text, " and help \"", EscapeHelp(help), "\"");
  return text;
}

}  // namespace

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  if (!(start > 0) || !(factor > 1) || count < 1) return bounds;
  bounds.reserve(static_cast<size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

Registry::Registry() = default;
Registry::~Registry() = default;

std::unique_ptr<FamilyBase> Registry::NewFamily(
    MetricType type, const std::string& name, const std::string& help,
    const std::vector<std::string>& labels, std::vector<double> bounds) {
  switch (type) {
    case MetricType::kCounter:
      return std::unique_ptr<FamilyBase>(
          new CounterFamily(name, help, labels, {}));
    case MetricType::kGauge:
      return std::unique_ptr<FamilyBase>(
          new GaugeFamily(name, help, labels, {}));
    case MetricType::kHistogram:
      break;
  }
  return std::unique_ptr<FamilyBase>(
      new HistogramFamily(name, help, labels, std::move(bounds)));
}

absl::Status Registry::CheckSeriesNameClash(MetricType type,
                                            const std::string& name) const {
  auto clash = [&](const std::string& other, const std::string& series) {
    return absl::AlreadyExistsError(
        absl::StrCat("metric \"", name, "\" would render series \"", series,
                     "\", which metric \"", other, "\" already renders"));
  };
  // A histogram named like this family's prefix renders `name` itself.
  for (absl::string_view suffix : kHistogramSuffixes) {
    if (!absl::EndsWith(name, suffix)) continue;
    auto it = families_.find(name.substr(0, name.size() - suffix.size()));
    if (it != families_.end() && it->second->type() == MetricType::kHistogram) {
      return clash(it->first, name);
    }
  }
  if (type == MetricType::kHistogram) {
    for (absl::string_view suffix : kHistogramSuffixes) {
      const std::string series = absl::StrCat(name, suffix);
      if (families_.count(series) > 0) return clash(series, series);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<FamilyBase*> Registry::Register(
    MetricType type, const std::string& name, const std::string& help,
    const std::vector<std::string>& labels, const std::vector<double>& bounds) {
  RETURN_IF_ERROR(ValidateMetricName(name));
  RETURN_IF_ERROR(ValidateLabelNames(name, labels));
  std::vector<double> normalized;
  if (type == MetricType::kHistogram) {
    if (std::find(labels.begin(), labels.end(), "le") != labels.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram \"", name,
                       "\": the label name \"le\" is reserved for "
                       "bucket bounds"));
    }
    ASSIGN_OR_RETURN(normalized, NormalizeBounds(name, bounds));
  }

  absl::MutexLock lock(&mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    FamilyBase& existing = *it->second;
    if (existing.type() == type && existing.label_names() == labels &&
        existing.help() == help && existing.bucket_bounds() == normalized) {
      return &existing;
    }
    return absl::AlreadyExistsError(absl::StrCat(
        "metric \"", name, "\" is already registered as ",
        Describe(existing.type(), existing.help(), existing.label_names(),
                 existing.bucket_bounds()),
        "; now requested as ", Describe(type, help, labels, normalized)));
  }
  RETURN_IF_ERROR(CheckSeriesNameClash(type, name));
  std::unique_ptr<FamilyBase> family =
      NewFamily(type, name, help, labels, std::move(normalized));
  FamilyBase* result = family.get();
  families_.emplace(name, std::move(family));
  return result;
}

FamilyBase& Registry::Detached(MetricType type, const std::string& name,
                               const std::string& help,
                               const std::vector<std::string>& labels,
                               const std::vector<double>& bounds) {
  absl::StatusOr<std::vector<double>> normalized =
      NormalizeBounds(name, bounds);
  std::unique_ptr<FamilyBase> family = NewFamily(
      type, name, help, labels,
      normalized.ok() ? *std::move(normalized) : std::vector<double>());
  absl::MutexLock lock(&mu_);
  detached_.push_back(std::move(family));
  return *detached_.back();
}

absl::StatusOr<CounterFamily*> Registry::RegisterCounter(
    std::string name, std::string help, std::vector<std::string> label_names) {
  ASSIGN_OR_RETURN(FamilyBase * family,
                   Register(MetricType::kCounter, name, help, label_names, {}));
  return static_cast<CounterFamily*>(family);
}

absl::StatusOr<GaugeFamily*> Registry::RegisterGauge(
    std::string name, std::string help, std::vector<std::string> label_names) {
  ASSIGN_OR_RETURN(FamilyBase * family,
                   Register(MetricType::kGauge, name, help, label_names, {}));
  return static_cast<GaugeFamily*>(family);
}

absl::StatusOr<HistogramFamily*> Registry::RegisterHistogram(
    std::string name, std::string help, std::vector<std::string> label_names,
    std::vector<double> bucket_bounds) {
  ASSIGN_OR_RETURN(
      FamilyBase * family,
      Register(MetricType::kHistogram, name, help, label_names, bucket_bounds));
  return static_cast<HistogramFamily*>(family);
}

CounterFamily& Registry::Counter(std::string name, std::string help,
                                 std::vector<std::string> label_names) {
  absl::StatusOr<FamilyBase*> family =
      Register(MetricType::kCounter, name, help, label_names, {});
  if (family.ok()) return static_cast<CounterFamily&>(**family);
  internal::ReportMisuse(family.status());
  return static_cast<CounterFamily&>(
      Detached(MetricType::kCounter, name, help, label_names, {}));
}

GaugeFamily& Registry::Gauge(std::string name, std::string help,
                             std::vector<std::string> label_names) {
  absl::StatusOr<FamilyBase*> family =
      Register(MetricType::kGauge, name, help, label_names, {});
  if (family.ok()) return static_cast<GaugeFamily&>(**family);
  internal::ReportMisuse(family.status());
  return static_cast<GaugeFamily&>(
      Detached(MetricType::kGauge, name, help, label_names, {}));
}

HistogramFamily& Registry::Histogram(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bucket_bounds) {
  absl::StatusOr<FamilyBase*> family =
      Register(MetricType::kHistogram, name, help, label_names, bucket_bounds);
  if (family.ok()) return static_cast<HistogramFamily&>(**family);
  internal::ReportMisuse(family.status());
  return static_cast<HistogramFamily&>(
      Detached(MetricType::kHistogram, name, help, label_names, bucket_bounds));
}

std::string Registry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) family->Render(&out);
  return out;
}

}  // namespace certfleet::metrics
