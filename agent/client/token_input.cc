#include "agent/client/token_input.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/filesystem.h"

namespace certfleet::agent {

const char kTokenOnCommandLineWarning[] =
    "warning: --token puts the bootstrap token on the command line, where "
    "every user of this host can read it (/proc/<pid>/cmdline, ps) while "
    "enroll runs, and enroll a host of their own with it first; use "
    "--token-file FILE, or --token-file - to read it from standard input";

absl::StatusOr<TokenInput> ReadTokenInput(const std::string& path,
                                          int stdin_fd) {
  const bool from_stdin = path == "-";
  const std::string where = from_stdin ? "standard input" : path;
  int fd = stdin_fd;
  if (!from_stdin) {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return ErrnoStatus(errno, "open token file", path);
  }
  absl::Cleanup closer = [fd, from_stdin] {
    if (!from_stdin) close(fd);
  };
  TokenInput in;
  struct stat st;
  if (!from_stdin && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      (st.st_mode & 0044) != 0) {
    in.warnings.push_back(absl::StrFormat(
        "warning: token file %s (mode %04o) is readable by other users of "
        "this host; make it 0600 and delete it after enrolling",
        path, st.st_mode & 07777));
  }
  std::string text;
  char buf[1024];
  while (text.size() <= kMaxTokenFileBytes) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read token from", where);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (text.size() > kMaxTokenFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("token from ", where, ": longer than ", kMaxTokenFileBytes,
                     " bytes; is it the right file?"));
  }
  const absl::string_view token = absl::StripAsciiWhitespace(text);
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token from ", where, " is empty"));
  }
  for (char c : token) {
    if (absl::ascii_isspace(c) || absl::ascii_iscntrl(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "token from ", where,
          " holds white space or control characters: give the token alone"));
    }
  }
  in.token = std::string(token);
  return in;
}

}  // namespace certfleet::agent
