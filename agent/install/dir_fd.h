// Filesystem work relative to an open directory: the only way the agent
// touches anything inside a target directory. Every name is one path
// component, looked up with the *at() calls relative to a directory
// descriptor the agent holds, never through a path string someone else
// could change between a check and its use — the model of systemd's chase()
// and Go's os.Root. Nothing here follows a symbolic link: files and
// directories are opened with O_NOFOLLOW, looked at with
// AT_SYMLINK_NOFOLLOW, and removal never descends into a link.
//
//   ASSIGN_OR_RETURN(DirFd versions, target.OpenOwnDir(".versions"));
//   ASSIGN_OR_RETURN(std::string text, target.ReadFile(".certfleet-state",
//                                                      64 * 1024));
//   RETURN_IF_ERROR(target.WriteFileAtomic(".certfleet-state", text, 0644));
//   RETURN_IF_ERROR(versions.RemoveTree(".tmp-www_2f3-123"));
#ifndef CERTFLEET_AGENT_INSTALL_DIR_FD_H_
#define CERTFLEET_AGENT_INSTALL_DIR_FD_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::agent {

// A file descriptor closed when its owner goes away.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

// A test seam that makes writes fail as a full disk would. Production passes
// none (nullptr).
class WriteFaults {
 public:
  virtual ~WriteFaults() = default;
  // Asked before `op` — "write" (a file's content), "mkdir", "symlink" or
  // "rename" — on `name` in the directory `dir`: 0 lets it happen, an errno
  // (ENOSPC) makes it fail with that error.
  virtual int Inject(absl::string_view op, absl::string_view dir,
                     absl::string_view name) = 0;
};

// "nobody (uid 65534), mode 0755", or "uid 4242, mode 0700" for a uid
// without a user: what every refusal message says of a file.
std::string DescribeOwnerAndMode(const struct stat& st);

// True when `name` is one path component: not empty, no "/", no NUL, not
// "." or "..".
bool IsSingleComponent(absl::string_view name);

class DirFd {
 public:
  DirFd() = default;
  // `path` only names the directory in messages; `faults` may be null.
  DirFd(UniqueFd fd, std::string path, WriteFaults* faults);
  DirFd(DirFd&&) = default;
  DirFd& operator=(DirFd&&) = default;

  bool is_open() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  // path() + "/" + name, for messages.
  std::string PathOf(absl::string_view name) const;

  // Another descriptor of the same directory.
  absl::StatusOr<DirFd> Duplicate() const;
  // fstat of the directory itself.
  absl::StatusOr<struct stat> StatSelf() const;
  // What is at `name`, not following a link; nullopt when nothing is.
  absl::StatusOr<std::optional<struct stat>> Stat(absl::string_view name) const;

  // Opens the subdirectory `name`, which the agent made: refused
  // (kFailedPrecondition, naming it, its owner and its mode) when it is a
  // link or not a directory, is owned by another user than the agent's
  // (geteuid()) or root, or is writable by group or others. kNotFound when
  // it does not exist.
  absl::StatusOr<DirFd> OpenOwnDir(absl::string_view name) const;
  // Creates `name` (mode 0755 whatever the umask) when missing, then
  // OpenOwnDir — which refuses a link raced into its place.
  absl::StatusOr<DirFd> MakeOwnDir(absl::string_view name) const;

  // The content of the regular file `name`, opened O_NOFOLLOW|O_NONBLOCK:
  // kNotFound when absent; kFailedPrecondition when it is a link, not a
  // regular file, or larger than `max_bytes`. `st` (optional) receives its
  // fstat.
  absl::StatusOr<std::string> ReadFile(absl::string_view name, size_t max_bytes,
                                       struct stat* st = nullptr) const;
  // Creates `name` (it must not exist) holding `data`, owned by uid/gid
  // when set, mode `mode & 0777` (never set-uid, set-gid or sticky),
  // fsynced. The directory is not fsynced.
  absl::Status WriteNewFile(absl::string_view name, absl::string_view data,
                            mode_t mode, std::optional<uid_t> uid,
                            std::optional<gid_t> gid) const;
  // Replaces `name` atomically: a temporary file beside it
  // ("<name>.tmp-<pid>-<n>"), fsynced, renamed over it, then the directory
  // fsynced. Mode `mode & 0777`.
  absl::Status WriteFileAtomic(absl::string_view name, absl::string_view data,
                               mode_t mode) const;

  // The target of the symbolic link `name`: kNotFound when absent,
  // kFailedPrecondition when it is not a link.
  absl::StatusOr<std::string> ReadLink(absl::string_view name) const;
  // Makes `name` a symbolic link to `target`: a fresh link
  // "<name>.tmp-<pid>" renamed over whatever is there (not a directory),
  // then the directory fsynced.
  absl::Status ReplaceWithSymlink(absl::string_view name,
                                  absl::string_view target) const;

  // renameat within this directory.
  absl::Status Rename(absl::string_view from, absl::string_view to) const;
  // Removes the non-directory `name`; OK when it is absent.
  absl::Status Unlink(absl::string_view name) const;
  // rm -rf of `name` through descriptors: never follows a link, never
  // leaves this directory or crosses into another filesystem. OK when
  // `name` is absent.
  absl::Status RemoveTree(absl::string_view name) const;
  // The names in this directory (without "." and "..").
  absl::StatusOr<std::vector<std::string>> List() const;
  absl::Status Sync() const;

  // Opens (creating, mode 0600) the lock file `name`: O_NOFOLLOW; refused
  // when it is a link or not a regular file.
  absl::StatusOr<UniqueFd> OpenLockFile(absl::string_view name) const;

 private:
  absl::Status CheckName(absl::string_view name) const;
  // 0, or the errno the test seam injects.
  int Fault(absl::string_view op, absl::string_view name) const;

  UniqueFd fd_;
  std::string path_;
  WriteFaults* faults_ = nullptr;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_DIR_FD_H_
