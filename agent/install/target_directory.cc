#include "agent/install/target_directory.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <system_error>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/install/state_files.h"
#include "common/filesystem.h"
#include "common/status_macros.h"

namespace certfleet::agent {
namespace {

namespace stdfs = std::filesystem;

constexpr char kVersionsDir[] = ".versions";
constexpr char kCurrent[] = "current";
constexpr char kLockFile[] = ".certfleet-lock";

std::string DirName(const std::string& path) {
  return path.substr(0, path.find_last_of('/'));
}

absl::Status FsyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", dir);
  absl::Cleanup closer = [fd] { close(fd); };
  if (fsync(fd) != 0) return ErrnoStatus(errno, "fsync directory", dir);
  return absl::OkStatus();
}

// mkdir with mode 0755 whatever the umask (a service running as another
// user must be able to reach its files); an existing directory is left as
// it is.
absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return ErrnoStatus(errno, "mkdir", path);
  }
  if (chmod(path.c_str(), 0755) != 0) return ErrnoStatus(errno, "chmod", path);
  return absl::OkStatus();
}

// mkdir -p of `rel`'s parent directories below `base`.
absl::Status MakeParents(const std::string& base, const std::string& rel) {
  size_t pos = 0;
  while ((pos = rel.find('/', pos)) != std::string::npos) {
    RETURN_IF_ERROR(MakeDir(absl::StrCat(base, "/", rel.substr(0, pos))));
    ++pos;
  }
  return absl::OkStatus();
}

absl::Status WriteSynced(const std::string& path, const std::string& data,
                         mode_t mode, std::optional<uid_t> uid,
                         std::optional<gid_t> gid) {
  // Created private; chown and the final mode come before anything can
  // point at it.
  const int fd = open(
      path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "create", path);
  absl::Cleanup closer = [fd] { close(fd); };
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    off += static_cast<size_t>(n);
  }
  if ((uid.has_value() || gid.has_value()) &&
      fchown(fd, uid.value_or(static_cast<uid_t>(-1)),
             gid.value_or(static_cast<gid_t>(-1))) != 0) {
    return ErrnoStatus(errno, "chown", path);
  }
  if (fchmod(fd, mode) != 0) return ErrnoStatus(errno, "chmod", path);
  if (fsync(fd) != 0) return ErrnoStatus(errno, "fsync", path);
  return absl::OkStatus();
}

absl::Status RemoveTree(const std::string& path) {
  std::error_code ec;
  stdfs::remove_all(path, ec);
  if (ec) return ErrnoStatus(ec.value(), "remove", path);
  return absl::OkStatus();
}

// Points a fresh symlink at `target` and renames it over `link`.
absl::Status ReplaceSymlink(const std::string& target,
                            const std::string& link) {
  const std::string tmp = absl::StrCat(link, ".tmp-", getpid());
  unlink(tmp.c_str());
  if (symlink(target.c_str(), tmp.c_str()) != 0) {
    return ErrnoStatus(errno, "symlink", tmp);
  }
  if (rename(tmp.c_str(), link.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "rename onto", link);
  }
  return FsyncDir(DirName(link));
}

}  // namespace

std::string TargetDirectory::VersionDirName(absl::string_view version_id) {
  std::string out;
  for (size_t i = 0; i < version_id.size(); ++i) {
    const char c = version_id[i];
    if (absl::ascii_isalnum(c) || c == '-' || (c == '.' && i > 0)) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "_%02x", static_cast<unsigned char>(c));
    }
  }
  return out.empty() ? "_" : out;
}

std::string TargetDirectory::VersionPath(absl::string_view name) const {
  return absl::StrCat(directory_, "/", kVersionsDir, "/", name);
}

absl::Status TargetDirectory::Prepare() {
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = directory_.find('/', pos + 1);
    RETURN_IF_ERROR(MakeDir(directory_.substr(0, pos)));
  }
  RETURN_IF_ERROR(MakeDir(absl::StrCat(directory_, "/", kVersionsDir)));
  return absl::OkStatus();
}

absl::Status TargetDirectory::WriteVersion(
    const std::string& name, const std::vector<RenderedFile>& files,
    std::optional<uid_t> uid, std::optional<gid_t> gid) {
  RETURN_IF_ERROR(Prepare());
  const std::string versions = absl::StrCat(directory_, "/", kVersionsDir);
  const std::string tmp = absl::StrCat(versions, "/.tmp-", name, "-", getpid());
  RETURN_IF_ERROR(RemoveTree(tmp));
  RETURN_IF_ERROR(MakeDir(tmp));
  bool published = false;
  absl::Cleanup remove_tmp = [&] {
    if (!published) RemoveTree(tmp).IgnoreError();
  };
  std::set<std::string> dirs = {tmp};
  for (const RenderedFile& file : files) {
    RETURN_IF_ERROR(MakeParents(tmp, file.path));
    const std::string path = absl::StrCat(tmp, "/", file.path);
    RETURN_IF_ERROR(WriteSynced(path, file.content, file.mode, uid, gid));
    dirs.insert(DirName(path));
  }
  for (const std::string& dir : dirs) RETURN_IF_ERROR(FsyncDir(dir));
  const std::string final_path = VersionPath(name);
  std::string old;
  if (HasVersion(name)) {
    old = absl::StrCat(versions, "/.old-", name, "-", getpid());
    RETURN_IF_ERROR(RemoveTree(old));
    if (rename(final_path.c_str(), old.c_str()) != 0) {
      return ErrnoStatus(errno, "rename away", final_path);
    }
  }
  if (rename(tmp.c_str(), final_path.c_str()) != 0) {
    return ErrnoStatus(errno, "rename into place", final_path);
  }
  published = true;
  RETURN_IF_ERROR(FsyncDir(versions));
  if (!old.empty()) RemoveTree(old).IgnoreError();
  return absl::OkStatus();
}

absl::StatusOr<std::string> TargetDirectory::Current() const {
  const std::string link = absl::StrCat(directory_, "/", kCurrent);
  char buf[4096];
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) {
    if (errno == ENOENT) return std::string();
    if (errno == EINVAL) {
      return absl::FailedPreconditionError(absl::StrCat(
          link,
          " is not a symbolic link (the agent manages it; move it away)"));
    }
    return ErrnoStatus(errno, "readlink", link);
  }
  absl::string_view target(buf, static_cast<size_t>(n));
  if (!absl::ConsumePrefix(&target, absl::StrCat(kVersionsDir, "/")) ||
      target.empty() || target.find('/') != absl::string_view::npos) {
    return absl::FailedPreconditionError(
        absl::StrCat(link, " points at \"", absl::string_view(buf, n),
                     "\", not at a version in ", kVersionsDir, "/"));
  }
  return std::string(target);
}

absl::Status TargetDirectory::SwapCurrent(const std::string& name) {
  return ReplaceSymlink(absl::StrCat(kVersionsDir, "/", name),
                        absl::StrCat(directory_, "/", kCurrent));
}

absl::Status TargetDirectory::RemoveCurrent() {
  const std::string link = absl::StrCat(directory_, "/", kCurrent);
  if (unlink(link.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "remove", link);
  }
  return FsyncDir(directory_);
}

absl::Status TargetDirectory::EnsureStableLinks(
    const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    RETURN_IF_ERROR(MakeParents(directory_, path));
    // Relative, so the tree still works when mounted elsewhere.
    std::string target;
    for (char c : path) {
      if (c == '/') target += "../";
    }
    absl::StrAppend(&target, kCurrent, "/", path);
    const std::string link = absl::StrCat(directory_, "/", path);
    char buf[4096];
    const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    if (n >= 0 && absl::string_view(buf, static_cast<size_t>(n)) == target) {
      continue;
    }
    RETURN_IF_ERROR(ReplaceSymlink(target, link));
  }
  return absl::OkStatus();
}

bool TargetDirectory::HasVersion(const std::string& name) const {
  struct stat st;
  return !name.empty() && lstat(VersionPath(name).c_str(), &st) == 0 &&
         S_ISDIR(st.st_mode);
}

std::vector<std::string> TargetDirectory::ListVersions() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(
           absl::StrCat(directory_, "/", kVersionsDir), ec)) {
    const std::string name = entry.path().filename().string();
    std::error_code type_ec;
    if (!name.empty() && name.front() != '.' && entry.is_directory(type_ec) &&
        !entry.is_symlink(type_ec)) {
      out.push_back(name);
    }
  }
  return out;
}

absl::Status TargetDirectory::RemoveVersion(const std::string& name) {
  if (name.empty() || name.front() == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("not a version name: \"", name, "\""));
  }
  return RemoveTree(VersionPath(name));
}

void TargetDirectory::RemoveLeftovers(
    const std::vector<std::string>& stable_paths) {
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(
           absl::StrCat(directory_, "/", kVersionsDir), ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, ".tmp-") || absl::StartsWith(name, ".old-")) {
      RemoveTree(entry.path().string()).IgnoreError();
    }
  }
  std::vector<std::pair<std::string, std::string>> prefixes = {
      {directory_, absl::StrCat(kCurrent, ".tmp-")},
      {directory_, absl::StrCat(kJournalFileName, ".tmp-")}};
  for (const std::string& path : stable_paths) {
    const std::string full = absl::StrCat(directory_, "/", path);
    const size_t slash = full.find_last_of('/');
    prefixes.emplace_back(full.substr(0, slash),
                          absl::StrCat(full.substr(slash + 1), ".tmp-"));
  }
  for (const auto& [dir, prefix] : prefixes) {
    for (const auto& entry : stdfs::directory_iterator(dir, ec)) {
      if (absl::StartsWith(entry.path().filename().string(), prefix)) {
        unlink(entry.path().c_str());
      }
    }
  }
}

absl::Status TargetDirectory::Lock() {
  const std::string path = absl::StrCat(directory_, "/", kLockFile);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  // A process spawned by an agent that was just killed holds the lock (an
  // inherited descriptor) from fork until its exec closes it: give such a
  // leftover a moment. Another agent holds it for good.
  const absl::Time give_up = absl::Now() + absl::Seconds(1);
  int locked = flock(fd, LOCK_EX | LOCK_NB);
  while (locked != 0 && errno == EWOULDBLOCK && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
    locked = flock(fd, LOCK_EX | LOCK_NB);
  }
  if (locked != 0) {
    const int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat(directory_, " is in use by another certfleet agent (",
                       path, " is locked)"));
    }
    return ErrnoStatus(err, "lock", path);
  }
  lock_fd_ = fd;
  return absl::OkStatus();
}

TargetDirectory::~TargetDirectory() {
  if (lock_fd_ >= 0) close(lock_fd_);
}

}  // namespace certfleet::agent
