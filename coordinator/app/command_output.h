// What every certfleet-coordinator command shares on its way out: the exit
// codes (0 ok, 1 failed, 2 usage or configuration error) and how times are
// printed (UTC, RFC 3339 to the second).
//
//   if (!parsed.ok()) return kExitUsage;
//   printf("expires   %s\n", UtcTime(not_after).c_str());
#ifndef CERTFLEET_COORDINATOR_APP_COMMAND_OUTPUT_H_
#define CERTFLEET_COORDINATOR_APP_COMMAND_OUTPUT_H_

#include <string>

#include "absl/time/time.h"

namespace certfleet::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// "2026-01-02T03:04:05Z".
inline std::string UtcTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_COMMAND_OUTPUT_H_
