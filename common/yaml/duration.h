// Durations as written in the configuration: absl::ParseDuration's syntax
// ("250ms", "30s", "10m", "12h", "1h30m") plus "d" for 24 hours ("30d",
// "1d12h"). A bare number (other than "0") is refused: "30" could mean
// seconds or minutes, and guessing wrong is worse than asking.
//
//   absl::StatusOr<absl::Duration> d = ParseConfigDuration("30d");
#ifndef CERTFLEET_COMMON_YAML_DURATION_H_
#define CERTFLEET_COMMON_YAML_DURATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::yaml {

// kInvalidArgument with a message such as
//   "30" is not a duration (write a number and a unit: 250ms, 30s, 10m, 12h,
//   30d)
// Negative durations parse; callers decide what is allowed. "inf" does not.
absl::StatusOr<absl::Duration> ParseConfigDuration(absl::string_view text);

// A command-line flag's duration (--ttl, --timeout), in the same syntax,
// that must be positive: kInvalidArgument "<flag>: <why it is not a
// duration>" or "<flag>: must be positive, got "<text>"".
absl::StatusOr<absl::Duration> ParsePositiveDurationFlag(
    absl::string_view flag, absl::string_view text);

// The shortest text ParseConfigDuration reads back as `d`, using days when
// `d` is a whole number of them: "30d", "12h", "1m30s", "250ms".
std::string FormatConfigDuration(absl::Duration d);

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_DURATION_H_
