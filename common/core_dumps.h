// Keeps a daemon's memory out of core files and away from other processes
// of its user. The coordinator holds the key-encryption key, decrypted
// certificate keys and ACME account keys; the agent its identity key, the
// bundles it installs and, while enrolling, the bootstrap token. A crash
// must not leave them in a core file (systemd-coredump, apport and
// core_pattern pipes keep those around), and a process running as the same
// user must not read them through ptrace or /proc/<pid>/mem.
//
//   int main(int argc, char** argv) {
//     if (absl::Status s = DisableCoreDumps(); !s.ok()) { ...warn... }
#ifndef CERTFLEET_COMMON_CORE_DUMPS_H_
#define CERTFLEET_COMMON_CORE_DUMPS_H_

#include "absl/status/status.h"

namespace certfleet {

// prctl(PR_SET_DUMPABLE, 0): no core dump (unless fs.suid_dumpable says
// otherwise, hence also RLIMIT_CORE 0), no ptrace attach or /proc/<pid>/mem,
// environ and fd reads by processes without CAP_SYS_PTRACE, and the files
// of /proc/<pid> owned by root. RLIMIT_CORE (soft and hard) becomes 0,
// which the programs this process starts inherit. The flag itself is reset
// by execve, so those programs are dumpable as usual. kInternal naming the
// call that failed.
absl::Status DisableCoreDumps();

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_CORE_DUMPS_H_
