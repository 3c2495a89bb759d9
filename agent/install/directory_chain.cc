#include "agent/install/directory_chain.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/filesystem.h"
#include "common/status_macros.h"

namespace certfleet::agent {
namespace {

// Why the directory `path` (fstat-ed or lstat-ed as `st`) may not be on
// the way to a target directory — or be it, when `is_target` — or "".
std::string ChainProblem(const std::string& path, const struct stat& st,
                         bool is_target) {
  const std::string what = DescribeOwnerAndMode(st);
  if (S_ISLNK(st.st_mode)) {
    return absl::StrCat(path, " is a symbolic link (", what,
                        "): the agent follows no link on the way to a "
                        "target directory");
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::StrCat(path, " is not a directory (", what, ")");
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    return absl::StrCat(path, " is owned by another user (", what,
                        "): a target directory and every directory above it "
                        "must be owned by root or the agent's own user");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    if (is_target) {
      return absl::StrCat(path, " is writable by group or others (", what,
                          "): a target directory must not be, even with the "
                          "sticky bit");
    }
    if ((st.st_mode & S_ISVTX) == 0) {
      return absl::StrCat(path, " is writable by group or others (", what,
                          "): a directory above a target directory must not "
                          "be, unless it has the sticky bit (like /tmp)");
    }
  }
  return "";
}

absl::Status Refused(std::string problem) {
  return absl::FailedPreconditionError(std::move(problem));
}

// The checks of the directory open as `fd` at `path`.
absl::Status CheckOpened(int fd, const std::string& path, bool is_target) {
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (std::string problem = ChainProblem(path, st, is_target);
      !problem.empty()) {
    return Refused(std::move(problem));
  }
  return absl::OkStatus();
}

// How OpenChain treats a missing component.
enum class Missing { kCreate, kNotFound };

absl::StatusOr<DirFd> OpenChain(const std::string& path, Missing missing,
                                WriteFaults* faults) {
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", path, "\" is not an absolute path"));
  }
  const std::vector<std::string> parts =
      absl::StrSplit(path, '/', absl::SkipEmpty());
  for (const std::string& part : parts) {
    if (!IsSingleComponent(part)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", path, "\" holds \".\" or \"..\""));
    }
  }
  // "/" itself cannot be a link; it is checked like the rest.
  const int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return ErrnoStatus(errno, "open directory", "/");
  DirFd dir(UniqueFd(root), "", faults);
  RETURN_IF_ERROR(CheckOpened(dir.fd(), "/", parts.empty()));
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const std::string child = dir.PathOf(part);
    const bool is_target = i + 1 == parts.size();
    bool made = false;
    int fd = openat(dir.fd(), part.c_str(),
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      if (missing == Missing::kNotFound) {
        return absl::NotFoundError(absl::StrCat(child, " does not exist"));
      }
      // Private until it is open and checked, then 0755.
      if (mkdirat(dir.fd(), part.c_str(), 0700) == 0) {
        made = true;
      } else if (errno != EEXIST) {
        return ErrnoStatus(errno, "mkdir", child);
      }
      fd = openat(dir.fd(), part.c_str(),
                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      const int err = errno;
      struct stat st;
      if ((err == ELOOP || err == ENOTDIR) &&
          fstatat(dir.fd(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        return Refused(ChainProblem(child, st, is_target));
      }
      return ErrnoStatus(err, "open directory", child);
    }
    DirFd next(UniqueFd(fd), child, faults);
    RETURN_IF_ERROR(CheckOpened(next.fd(), child, is_target));
    if (made) {
      if (fchmod(next.fd(), 0755) != 0) {
        return ErrnoStatus(errno, "chmod", child);
      }
      RETURN_IF_ERROR(dir.Sync());
    }
    dir = std::move(next);
  }
  return dir;
}

}  // namespace

absl::StatusOr<DirFd> OpenTargetDirectory(const std::string& path, bool create,
                                          WriteFaults* faults) {
  return OpenChain(path, create ? Missing::kCreate : Missing::kNotFound,
                   faults);
}

absl::Status CheckTargetDirectory(const std::string& path) {
  absl::StatusOr<DirFd> dir = OpenChain(path, Missing::kNotFound, nullptr);
  if (absl::IsNotFound(dir.status())) return absl::OkStatus();
  return dir.status();
}

absl::StatusOr<bool> StillTargetDirectory(const DirFd& dir,
                                          const std::string& path) {
  absl::StatusOr<DirFd> now = OpenChain(path, Missing::kNotFound, nullptr);
  if (absl::IsNotFound(now.status())) return false;
  if (!now.ok()) return now.status();
  ASSIGN_OR_RETURN(const struct stat held, dir.StatSelf());
  ASSIGN_OR_RETURN(const struct stat found, now->StatSelf());
  return held.st_dev == found.st_dev && held.st_ino == found.st_ino;
}

}  // namespace certfleet::agent
