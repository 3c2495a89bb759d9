// Validation of metric and label names per the Prometheus data model
// (https://prometheus.io/docs/concepts/data_model/): metric names match
// [a-zA-Z_:][a-zA-Z0-9_:]*, label names match [a-zA-Z_][a-zA-Z0-9_]* and
// names starting with "__" are reserved for Prometheus itself.
//
//   RETURN_IF_ERROR(metrics::ValidateMetricName("certfleet_renewals_total"));
#ifndef CERTFLEET_COMMON_METRICS_NAMES_H_
#define CERTFLEET_COMMON_METRICS_NAMES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace certfleet::metrics {

// OK, or kInvalidArgument naming the metric and the rule it breaks.
absl::Status ValidateMetricName(absl::string_view name);

// OK, or kInvalidArgument naming the label and the rule it breaks.
absl::Status ValidateLabelName(absl::string_view name);

// Validates every name and rejects duplicates; `metric` names the family in
// the error message.
absl::Status ValidateLabelNames(absl::string_view metric,
                                const std::vector<std::string>& names);

}  // namespace certfleet::metrics

#endif  // CERTFLEET_COMMON_METRICS_NAMES_H_
