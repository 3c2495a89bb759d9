// certfleetctl from arguments to exit status: parse (ctl_args.h), read the
// identity, call the coordinator (admin_client.h), print (ctl_format.h).
//
//   return ctl::RunCtl({argv + 1, argv + argc}, ctl::EnvironmentLookup(), fs);
#ifndef CERTFLEET_CTL_CTL_RUN_H_
#define CERTFLEET_CTL_CTL_RUN_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/filesystem.h"
#include "ctl/ctl_args.h"

namespace certfleet::ctl {

// Documented exit statuses (docs/certfleetctl.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // unreachable, server error, ...
inline constexpr int kExitUsage = 2;    // bad arguments or identity file
inline constexpr int kExitRefused = 3;  // PERMISSION_DENIED, UNAUTHENTICATED
// 130 (kExitInterrupted, interrupt.h): SIGINT during rollout status --watch.

// kExitRefused for kPermissionDenied and kUnauthenticated, else
// kExitFailure (kExitOk for OK).
int ExitCodeFor(const absl::Status& status);

// The whole program: prints the result on stdout, problems on stderr
// ("certfleetctl: ..."), returns the exit status.
int RunCtl(const std::vector<std::string>& args, const EnvLookup& env,
           Filesystem& fs);

}  // namespace certfleet::ctl

#endif  // CERTFLEET_CTL_CTL_RUN_H_
