// What every certfleet-coordinator command shares on its way out: the exit
// codes (0 ok, 1 failed, 2 usage or configuration error). Times are printed
// with FormatRfc3339 (common/rfc3339.h).
//
//   if (!parsed.ok()) return kExitUsage;
#ifndef CERTFLEET_COORDINATOR_APP_COMMAND_OUTPUT_H_
#define CERTFLEET_COORDINATOR_APP_COMMAND_OUTPUT_H_

namespace certfleet::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_COMMAND_OUTPUT_H_
