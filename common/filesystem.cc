#include "common/filesystem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace certfleet {
namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", dir);
  absl::Cleanup closer = [fd] { close(fd); };
  if (fsync(fd) != 0) return ErrnoStatus(errno, "fsync directory", dir);
  return absl::OkStatus();
}

}  // namespace

absl::Status ErrnoStatus(int err, absl::string_view what,
                         absl::string_view path) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      code = absl::StatusCode::kNotFound;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = absl::StatusCode::kPermissionDenied;
      break;
    case EEXIST:
      code = absl::StatusCode::kAlreadyExists;
      break;
    case ENOSPC:
    case EDQUOT:
      code = absl::StatusCode::kResourceExhausted;
      break;
    default:
      break;
  }
  return absl::Status(code, absl::StrCat(what, " ", path, ": ", strerror(err)));
}

absl::StatusOr<std::string> LocalFilesystem::ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  absl::Cleanup closer = [fd] { close(fd); };
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

absl::Status Filesystem::WriteFileExclusive(const std::string& path,
                                            const std::string& data,
                                            mode_t mode) {
  ASSIGN_OR_RETURN(FileInfo info, Stat(path));
  if (info.exists) {
    return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
  }
  return WriteFileAtomic(path, data, mode);
}

namespace {

// Writes `data` with `mode` to a fresh temporary file beside `path`,
// fsynced; returns its name. The caller renames or links it into place.
absl::StatusOr<std::string> WriteTempBeside(const std::string& path,
                                            const std::string& data,
                                            mode_t mode) {
  std::random_device rd;
  const std::string tmp =
      absl::StrCat(path, ".tmp-", getpid(), "-", rd() & 0xffffff);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus(errno, "create", tmp);
  bool written = false;
  absl::Cleanup remove_tmp = [&] {
    if (!written) unlink(tmp.c_str());
  };
  {
    absl::Cleanup closer = [fd] { close(fd); };
    // open() applies the umask; set the exact mode requested.
    if (fchmod(fd, mode) != 0) return ErrnoStatus(errno, "chmod", tmp);
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "write", tmp);
      }
      off += n;
    }
    if (fsync(fd) != 0) return ErrnoStatus(errno, "fsync", tmp);
  }
  written = true;
  return tmp;
}

}  // namespace

absl::Status LocalFilesystem::WriteFileAtomic(const std::string& path,
                                              const std::string& data,
                                              mode_t mode) {
  ASSIGN_OR_RETURN(const std::string tmp, WriteTempBeside(path, data, mode));
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "rename onto", path);
  }
  return FsyncDir(DirName(path));
}

absl::Status LocalFilesystem::WriteFileExclusive(const std::string& path,
                                                 const std::string& data,
                                                 mode_t mode) {
  ASSIGN_OR_RETURN(const std::string tmp, WriteTempBeside(path, data, mode));
  // link() fails when `path` exists: the first creator wins, whole.
  const int rc = link(tmp.c_str(), path.c_str());
  const int err = errno;
  unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
    }
    return ErrnoStatus(err, "link into place", path);
  }
  return FsyncDir(DirName(path));
}

absl::StatusOr<FileInfo> LocalFilesystem::Stat(const std::string& path) {
  struct stat st;
  FileInfo info;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return info;
    return ErrnoStatus(errno, "stat", path);
  }
  info.exists = true;
  info.is_directory = S_ISDIR(st.st_mode);
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.size = st.st_size;
  return info;
}

absl::Status LocalFilesystem::MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return absl::OkStatus();
  size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && mkdir(prefix.c_str(), mode) != 0 &&
        errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", prefix);
    }
    if (pos == std::string::npos) break;
  }
  return absl::OkStatus();
}

absl::Status LocalFilesystem::Remove(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(errno, "remove", path);
  }
  return absl::OkStatus();
}

}  // namespace certfleet
