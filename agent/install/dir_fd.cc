#include "agent/install/dir_fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/filesystem.h"
#include "common/status_macros.h"

namespace certfleet::agent {
namespace {

// A version directory holds a handful of files and the sub-directories of
// file paths like "tls/key.pem": anything deeper was not made by the agent.
constexpr int kMaxRemoveDepth = 16;

// The mode bits a file the agent writes may carry (never set-uid, set-gid
// or sticky).
constexpr mode_t kPermissionBits = 0777;

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    off += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Why what is at `path` (lstat-ed as `st`) is not a directory the agent
// made, or "" when it is.
std::string OwnDirProblem(const std::string& path, const struct stat& st) {
  if (S_ISLNK(st.st_mode)) {
    return absl::StrCat(path, " is a symbolic link (", DescribeOwnerAndMode(st),
                        "): the agent made no link there; move it away");
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::StrCat(path, " is not a directory (", DescribeOwnerAndMode(st),
                        "); move it away");
  }
  // What another user could change under the agent's feet.
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    return absl::StrCat(path, " is owned by another user (",
                        DescribeOwnerAndMode(st),
                        "): the agent works only in directories of root or "
                        "its own user; move it away");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::StrCat(path, " is writable by group or others (",
                        DescribeOwnerAndMode(st),
                        "): the agent works only in directories nobody else "
                        "can write; move it away");
  }
  return "";
}

absl::Status RemoveTreeAt(int parent_fd, const std::string& dir_path,
                          const std::string& name, dev_t dev, int depth) {
  const std::string path = absl::StrCat(dir_path, "/", name);
  struct stat st;
  if (fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "stat", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "remove", path);
    }
    return absl::OkStatus();
  }
  if (st.st_dev != dev) {
    return absl::FailedPreconditionError(
        absl::StrCat(path,
                     " is on another filesystem (a mount point): not "
                     "removed"));
  }
  if (depth >= kMaxRemoveDepth) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is nested deeper than the agent ever writes: not removed"));
  }
  const int fd = openat(parent_fd, name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    // Replaced by a link or a file since the fstatat: remove that instead,
    // without following it.
    if (errno == ELOOP || errno == ENOTDIR) {
      if (unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
        return ErrnoStatus(errno, "remove", path);
      }
      return absl::OkStatus();
    }
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(errno, "open directory", path);
  }
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    close(fd);
    return ErrnoStatus(err, "read directory", path);
  }
  absl::Cleanup closer = [dir] { closedir(dir); };
  std::vector<std::string> names;
  while (const dirent* e = readdir(dir)) {
    const absl::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  for (const std::string& child : names) {
    RETURN_IF_ERROR(RemoveTreeAt(dirfd(dir), path, child, dev, depth + 1));
  }
  if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "remove directory", path);
  }
  return absl::OkStatus();
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

int UniqueFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string DescribeOwnerAndMode(const struct stat& st) {
  std::string owner = absl::StrCat("uid ", st.st_uid);
  std::vector<char> buf(16384);
  passwd pw;
  passwd* found = nullptr;
  if (getpwuid_r(st.st_uid, &pw, buf.data(), buf.size(), &found) == 0 &&
      found != nullptr) {
    owner = absl::StrCat(found->pw_name, " (uid ", st.st_uid, ")");
  }
  return absl::StrFormat("owner %s, mode %04o", owner, st.st_mode & 07777);
}

bool IsSingleComponent(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == absl::string_view::npos &&
         name.find('\0') == absl::string_view::npos;
}

DirFd::DirFd(UniqueFd fd, std::string path, WriteFaults* faults)
    : fd_(std::move(fd)), path_(std::move(path)), faults_(faults) {}

std::string DirFd::PathOf(absl::string_view name) const {
  return absl::StrCat(path_, "/", name);
}

absl::Status DirFd::CheckName(absl::string_view name) const {
  if (!fd_.valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": directory not open"));
  }
  if (!IsSingleComponent(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", name, "\" is not a single file name (in ", path_, ")"));
  }
  return absl::OkStatus();
}

int DirFd::Fault(absl::string_view op, absl::string_view name) const {
  return faults_ == nullptr ? 0 : faults_->Inject(op, path_, name);
}

absl::StatusOr<DirFd> DirFd::Duplicate() const {
  const int fd = fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "dup", path_);
  return DirFd(UniqueFd(fd), path_, faults_);
}

absl::StatusOr<struct stat> DirFd::StatSelf() const {
  struct stat st;
  if (fstat(fd_.get(), &st) != 0) return ErrnoStatus(errno, "stat", path_);
  return st;
}

absl::StatusOr<std::optional<struct stat>> DirFd::Stat(
    absl::string_view name) const {
  RETURN_IF_ERROR(CheckName(name));
  struct stat st;
  if (fstatat(fd_.get(), std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
      0) {
    if (errno == ENOENT) return std::optional<struct stat>();
    return ErrnoStatus(errno, "stat", PathOf(name));
  }
  return std::optional<struct stat>(st);
}

absl::StatusOr<DirFd> DirFd::OpenOwnDir(absl::string_view name) const {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = PathOf(name);
  const int fd = openat(fd_.get(), std::string(name).c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      ASSIGN_OR_RETURN(std::optional<struct stat> st, Stat(name));
      if (st.has_value()) {
        return absl::FailedPreconditionError(OwnDirProblem(path, *st));
      }
    }
    return ErrnoStatus(err, "open directory", path);
  }
  DirFd dir(UniqueFd(fd), path, faults_);
  ASSIGN_OR_RETURN(const struct stat st, dir.StatSelf());
  if (std::string problem = OwnDirProblem(path, st); !problem.empty()) {
    return absl::FailedPreconditionError(problem);
  }
  return dir;
}

absl::StatusOr<DirFd> DirFd::MakeOwnDir(absl::string_view name) const {
  absl::StatusOr<DirFd> existing = OpenOwnDir(name);
  if (!absl::IsNotFound(existing.status())) return existing;
  if (const int err = Fault("mkdir", name); err != 0) {
    return ErrnoStatus(err, "mkdir", PathOf(name));
  }
  bool made = false;
  if (mkdirat(fd_.get(), std::string(name).c_str(), 0700) == 0) {
    made = true;
  } else if (errno != EEXIST) {
    return ErrnoStatus(errno, "mkdir", PathOf(name));
  }
  ASSIGN_OR_RETURN(DirFd dir, OpenOwnDir(name));
  if (made) {
    // Created private, opened (refusing whatever could have been raced into
    // its place), then given its mode: 0755 so a service running as another
    // user reaches its files, whatever the umask.
    if (fchmod(dir.fd(), 0755) != 0) {
      return ErrnoStatus(errno, "chmod", dir.path());
    }
  }
  return dir;
}

absl::StatusOr<std::string> DirFd::ReadFile(absl::string_view name,
                                            size_t max_bytes,
                                            struct stat* st_out) const {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = PathOf(name);
  const int fd =
      openat(fd_.get(), std::string(name).c_str(),
             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is a symbolic link: not followed"));
    }
    return ErrnoStatus(errno, "open", path);
  }
  absl::Cleanup closer = [fd] { close(fd); };
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is not a regular file (", DescribeOwnerAndMode(st), ")"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is larger than ", max_bytes, " bytes (", st.st_size, ")"));
  }
  std::string out;
  char buf[16384];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    // It grew while being read.
    if (out.size() > max_bytes) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is larger than ", max_bytes, " bytes"));
    }
  }
  if (st_out != nullptr) *st_out = st;
  return out;
}

absl::Status DirFd::WriteNewFile(absl::string_view name, absl::string_view data,
                                 mode_t mode, std::optional<uid_t> uid,
                                 std::optional<gid_t> gid) const {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = PathOf(name);
  // Created private; owner and final mode come before it is fsynced and
  // anything can point at it.
  const int fd =
      openat(fd_.get(), std::string(name).c_str(),
             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "create", path);
  absl::Cleanup closer = [fd] { close(fd); };
  if (const int err = Fault("write", name); err != 0) {
    return ErrnoStatus(err, "write", path);
  }
  RETURN_IF_ERROR(WriteAll(fd, data, path));
  if ((uid.has_value() || gid.has_value()) &&
      fchown(fd, uid.value_or(static_cast<uid_t>(-1)),
             gid.value_or(static_cast<gid_t>(-1))) != 0) {
    return ErrnoStatus(errno, "chown", path);
  }
  // After the chown, which clears set-uid bits anyway: none is ever set.
  if (fchmod(fd, mode & kPermissionBits) != 0) {
    return ErrnoStatus(errno, "chmod", path);
  }
  if (fsync(fd) != 0) return ErrnoStatus(errno, "fsync", path);
  return absl::OkStatus();
}

absl::Status DirFd::WriteFileAtomic(absl::string_view name,
                                    absl::string_view data, mode_t mode) const {
  RETURN_IF_ERROR(CheckName(name));
  static std::atomic<int> counter{0};
  const std::string tmp =
      absl::StrCat(name, ".tmp-", getpid(), "-", counter.fetch_add(1));
  absl::Status written =
      WriteNewFile(tmp, data, mode, std::nullopt, std::nullopt);
  if (written.ok()) written = Rename(tmp, name);
  if (!written.ok()) {
    unlinkat(fd_.get(), tmp.c_str(), 0);
    return written;
  }
  return Sync();
}

absl::StatusOr<std::string> DirFd::ReadLink(absl::string_view name) const {
  RETURN_IF_ERROR(CheckName(name));
  char buf[4096];
  const ssize_t n =
      readlinkat(fd_.get(), std::string(name).c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == EINVAL) {
      return absl::FailedPreconditionError(
          absl::StrCat(PathOf(name), " is not a symbolic link"));
    }
    return ErrnoStatus(errno, "readlink", PathOf(name));
  }
  if (static_cast<size_t>(n) == sizeof buf) {
    return absl::FailedPreconditionError(
        absl::StrCat(PathOf(name), ": link target too long"));
  }
  return std::string(buf, static_cast<size_t>(n));
}

absl::Status DirFd::ReplaceWithSymlink(absl::string_view name,
                                       absl::string_view target) const {
  RETURN_IF_ERROR(CheckName(name));
  const std::string tmp = absl::StrCat(name, ".tmp-", getpid());
  unlinkat(fd_.get(), tmp.c_str(), 0);
  if (const int err = Fault("symlink", name); err != 0) {
    return ErrnoStatus(err, "symlink", PathOf(tmp));
  }
  if (symlinkat(std::string(target).c_str(), fd_.get(), tmp.c_str()) != 0) {
    return ErrnoStatus(errno, "symlink", PathOf(tmp));
  }
  if (absl::Status s = Rename(tmp, name); !s.ok()) {
    unlinkat(fd_.get(), tmp.c_str(), 0);
    return s;
  }
  return Sync();
}

absl::Status DirFd::Rename(absl::string_view from, absl::string_view to) const {
  RETURN_IF_ERROR(CheckName(from));
  RETURN_IF_ERROR(CheckName(to));
  if (const int err = Fault("rename", to); err != 0) {
    return ErrnoStatus(err, "rename onto", PathOf(to));
  }
  if (renameat(fd_.get(), std::string(from).c_str(), fd_.get(),
               std::string(to).c_str()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("rename ", from, " onto"),
                       PathOf(to));
  }
  return absl::OkStatus();
}

absl::Status DirFd::Unlink(absl::string_view name) const {
  RETURN_IF_ERROR(CheckName(name));
  if (unlinkat(fd_.get(), std::string(name).c_str(), 0) != 0 &&
      errno != ENOENT) {
    return ErrnoStatus(errno, "remove", PathOf(name));
  }
  return absl::OkStatus();
}

absl::Status DirFd::RemoveTree(absl::string_view name) const {
  RETURN_IF_ERROR(CheckName(name));
  ASSIGN_OR_RETURN(const struct stat self, StatSelf());
  return RemoveTreeAt(fd_.get(), path_, std::string(name), self.st_dev, 0);
}

absl::StatusOr<std::vector<std::string>> DirFd::List() const {
  if (!fd_.valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": directory not open"));
  }
  // A descriptor of its own: readdir moves the offset of the one it reads.
  const int fd = openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", path_);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    close(fd);
    return ErrnoStatus(err, "read directory", path_);
  }
  absl::Cleanup closer = [dir] { closedir(dir); };
  std::vector<std::string> names;
  while (const dirent* e = readdir(dir)) {
    const absl::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  return names;
}

absl::Status DirFd::Sync() const {
  if (fsync(fd_.get()) != 0) return ErrnoStatus(errno, "fsync", path_);
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> DirFd::OpenLockFile(absl::string_view name) const {
  RETURN_IF_ERROR(CheckName(name));
  const std::string path = PathOf(name);
  const int fd = openat(
      fd_.get(), std::string(name).c_str(),
      O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) {
      ASSIGN_OR_RETURN(std::optional<struct stat> st, Stat(name));
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is a symbolic link",
          st.has_value() ? absl::StrCat(" (", DescribeOwnerAndMode(*st), ")")
                         : "",
          ": the agent made no link there; move it away"));
    }
    return ErrnoStatus(err, "open", path);
  }
  UniqueFd lock(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a regular file (", DescribeOwnerAndMode(st),
                     "); move it away"));
  }
  return lock;
}

}  // namespace certfleet::agent
