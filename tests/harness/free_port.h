// Loopback ports for servers that the tests start and that must be told
// their port before they bind it (etcd, Pebble, BIND9, nginx, HAProxy, the
// coordinator and agent binaries).
//
// One allocator serves the whole test process, and it never hands out the
// same port twice: five etcd members asking for ten ports get ten different
// ones, even though each probe socket is closed before the server binds.
// Test processes running side by side (ctest -j, or several worktrees on one
// machine) keep out of each other's way through a lock file: a process holds
// a POSIX record lock on byte P of /tmp/certfleet-test-ports.lock for every
// port P it handed out, until it exits (the kernel drops the locks then, even
// after a crash), and skips ports another process holds.
//
// The ports come from below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default), so
// neither the kernel's choice for a `bind(port 0)` (in-process gRPC servers)
// nor the source port of an outgoing connection can take a port between the
// moment we pick it and the moment its server binds it. Each process starts
// its search at an offset derived from its PID, so parallel processes rarely
// contend for the same lock.
//
// What it cannot rule out: a program that is not a certfleet test binding the
// port in that window. Harness servers retry their start on "address already
// in use" for that case.
//
//   ASSIGN_OR_RETURN(int port, PickFreePort());
#ifndef CERTFLEET_TESTS_HARNESS_FREE_PORT_H_
#define CERTFLEET_TESTS_HARNESS_FREE_PORT_H_

#include "absl/status/statusor.h"

namespace certfleet::harness {

// A loopback port that is free for both TCP and UDP right now, that this
// process has not handed out before, and that no other test process holds.
// Thread-safe. kUnavailable when the range is exhausted.
absl::StatusOr<int> PickFreePort();

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_FREE_PORT_H_
