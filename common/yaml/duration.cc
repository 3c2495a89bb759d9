#include "common/yaml/duration.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace certfleet::yaml {
namespace {

absl::Status NotADuration(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text,
                   "\" is not a duration (write a number and a unit: 250ms, "
                   "30s, 10m, 12h, 30d)"));
}

}  // namespace

absl::StatusOr<absl::Duration> ParseConfigDuration(absl::string_view text) {
  absl::string_view rest = absl::StripAsciiWhitespace(text);
  if (rest.empty()) return NotADuration(text);
  bool negative = false;
  if (rest.front() == '-' || rest.front() == '+') {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return absl::ZeroDuration();
  if (rest.empty()) return NotADuration(text);

  // Each component is a number and a unit; absl handles every unit except
  // "d", which we turn into 24 times the same number of hours.
  absl::Duration total = absl::ZeroDuration();
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() &&
           (absl::ascii_isdigit(rest[n]) || rest[n] == '.')) {
      ++n;
    }
    size_t u = n;
    while (u < rest.size() && absl::ascii_isalpha(rest[u])) ++u;
    if (n == 0 || u == n) return NotADuration(text);
    absl::string_view number = rest.substr(0, n);
    absl::string_view unit = rest.substr(n, u - n);
    absl::Duration part;
    if (unit == "d") {
      if (!absl::ParseDuration(absl::StrCat(number, "h"), &part)) {
        return NotADuration(text);
      }
      part *= 24;
    } else if (!absl::ParseDuration(absl::StrCat(number, unit), &part)) {
      return NotADuration(text);
    }
    total += part;
    rest.remove_prefix(u);
  }
  if (total == absl::InfiniteDuration()) return NotADuration(text);
  return negative ? -total : total;
}

absl::StatusOr<absl::Duration> ParsePositiveDurationFlag(
    absl::string_view flag, absl::string_view text) {
  absl::StatusOr<absl::Duration> d = ParseConfigDuration(text);
  if (!d.ok()) return Annotate(d.status(), flag);
  if (*d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": must be positive, got \"", text, "\""));
  }
  return *d;
}

std::string FormatConfigDuration(absl::Duration d) {
  const absl::Duration day = absl::Hours(24);
  if (d != absl::ZeroDuration() && d % day == absl::ZeroDuration()) {
    return absl::StrCat(d / day, "d");
  }
  return absl::FormatDuration(d);
}

}  // namespace certfleet::yaml
