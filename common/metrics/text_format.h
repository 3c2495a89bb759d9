// Building blocks of the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): escaping
// of HELP text and label values, sample-value formatting and label sets.
// Registry::Render() assembles whole families from these.
//
//   out += "certfleet_up";
//   AppendLabels({"issuer"}, {"pebble"}, "", "", &out);  // {issuer="pebble"}
//   out += " " + FormatSampleValue(1) + "\n";
#ifndef CERTFLEET_COMMON_METRICS_TEXT_FORMAT_H_
#define CERTFLEET_COMMON_METRICS_TEXT_FORMAT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace certfleet::metrics {

// The Content-Type of the rendered text.
inline constexpr char kTextFormatContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// Formats a sample value (or an "le" bound) so Prometheus parses it:
// integers below 2^53 without exponent or fraction ("3", "-1",
// "1700000000"), other finite values in the shortest form that round-trips
// ("0.1", "2.5e-07", "1e+20"), and "+Inf", "-Inf", "NaN".
std::string FormatSampleValue(double value);

// Escapes HELP text: backslash -> \\, newline -> \n.
std::string EscapeHelp(absl::string_view text);

// Escapes a label value: backslash -> \\, double quote -> \", newline -> \n.
std::string EscapeLabelValue(absl::string_view value);

// Appends {name1="value1",...} to *out, plus `extra_name`="extra_value" at
// the end when extra_name is not empty (the histogram "le" label). Appends
// nothing when there are no labels at all. names and values have equal size.
void AppendLabels(const std::vector<std::string>& names,
                  const std::vector<std::string>& values,
                  absl::string_view extra_name, absl::string_view extra_value,
                  std::string* out);

}  // namespace certfleet::metrics

#endif  // CERTFLEET_COMMON_METRICS_TEXT_FORMAT_H_
