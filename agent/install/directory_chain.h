// Opening a target directory so that no other local user can redirect it.
// The directory is reached from "/" one component at a time with
// openat(O_NOFOLLOW|O_DIRECTORY), and each directory on the way is checked
// through the descriptor just opened (fstat, not the path). It is refused
// when it, or any directory above it up to "/":
//   - is a symbolic link (or not a directory);
//   - is owned by another user than root or the agent's own (geteuid());
//   - is writable by group or others — allowed above the target only with
//     the sticky bit (like /tmp, where others may add entries but not
//     rename or remove root's), and never for the target itself: anyone
//     who can add a file there could plant a journal or a lock file for
//     the agent to trust.
// Missing components are created by the agent (root-owned, 0755) and opened
// the same way, so a link raced into their place is refused too.
//
//   ASSIGN_OR_RETURN(DirFd dir, OpenTargetDirectory("/etc/certfleet/www",
//                                                   /*create=*/true, nullptr));
//   // check-config:
//   absl::Status s = CheckTargetDirectory("/etc/certfleet/www");
//   // "/etc/certfleet is writable by group or others (owner root (uid 0),
//   //  mode 0777): ..."
#ifndef CERTFLEET_AGENT_INSTALL_DIRECTORY_CHAIN_H_
#define CERTFLEET_AGENT_INSTALL_DIRECTORY_CHAIN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/install/dir_fd.h"

namespace certfleet::agent {

// Opens `path` (absolute, normalized) by the rules above. A refusal is
// kFailedPrecondition whose message starts with the offending directory and
// names its owner and mode. Without `create`, kNotFound names the first
// missing component. `faults` (tests) may be null.
absl::StatusOr<DirFd> OpenTargetDirectory(const std::string& path, bool create,
                                          WriteFaults* faults);

// The same rules over the components of `path` that exist (the agent
// creates the others): OK, or the refusal. Creates nothing.
absl::Status CheckTargetDirectory(const std::string& path);

// True when `dir` is still what `path` leads to (same device and inode),
// false when `path` now leads elsewhere or nowhere; the refusal when the
// way to it is refused now.
absl::StatusOr<bool> StillTargetDirectory(const DirFd& dir,
                                          const std::string& path);

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_DIRECTORY_CHAIN_H_
