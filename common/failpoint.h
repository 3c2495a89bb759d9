// Crash points for tests that kill the coordinator at precise instants of an
// order (the same idea as FreeBSD's fail points and etcd's gofail). In
// production the environment variable is unset and a failpoint costs one
// predictable branch.
//
//   CERTFLEET_FAILPOINT=order.persisted certfleet-coordinator serve ...
//   → the process SIGKILLs itself when it reaches Failpoint("order.persisted").
//
// CERTFLEET_FAILPOINT may name several points separated by commas; a name
// followed by "@N" fires on the N-th time the point is reached (1-based).
#ifndef CERTFLEET_COMMON_FAILPOINT_H_
#define CERTFLEET_COMMON_FAILPOINT_H_

#include "absl/strings/string_view.h"

namespace certfleet {

// Kills the process with SIGKILL when `name` is armed in CERTFLEET_FAILPOINT.
void Failpoint(absl::string_view name);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_FAILPOINT_H_
