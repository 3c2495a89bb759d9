#include "tests/harness/harness_files.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace certfleet::harness {

absl::StatusOr<std::string> MakeHarnessTempDir(const std::string& prefix) {
  const char* tmp = getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/certfleet-",
                                   prefix, "-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", templ, ": ", strerror(errno)));
  }
  if (chmod(templ.c_str(), 0755) != 0) {
    return absl::InternalError(
        absl::StrCat("chmod ", templ, ": ", strerror(errno)));
  }
  return templ;
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& data, int mode) {
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(temp.data());
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("mkstemp beside ", path, ": ", strerror(errno)));
  }
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string error = strerror(errno);
      close(fd);
      unlink(temp.c_str());
      return absl::InternalError(absl::StrCat("write ", temp, ": ", error));
    }
    written += static_cast<size_t>(n);
  }
  fchmod(fd, static_cast<mode_t>(mode));
  close(fd);
  if (rename(temp.c_str(), path.c_str()) != 0) {
    const std::string error = strerror(errno);
    unlink(temp.c_str());
    return absl::InternalError(
        absl::StrCat("rename ", temp, " to ", path, ": ", error));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return absl::NotFoundError(path + " does not exist");
    return absl::InternalError(
        absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

LogCursor::LogCursor(std::string path) : path_(std::move(path)) {
  struct stat st;
  if (stat(path_.c_str(), &st) == 0)
    offset_ = static_cast<uint64_t>(st.st_size);
}

std::string LogCursor::ReadNewLines() {
  const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string data;
  char buf[16384];
  for (;;) {
    const ssize_t n =
        pread(fd, buf, sizeof buf, static_cast<off_t>(offset_ + data.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t end = data.rfind('\n');
  if (end == std::string::npos) return "";
  data.resize(end + 1);
  offset_ += data.size();
  return data;
}

size_t AppendToString(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace certfleet::harness
