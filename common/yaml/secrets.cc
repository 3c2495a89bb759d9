#include "common/yaml/secrets.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace certfleet::yaml {
namespace {

// The value of `secret "..."` in a BIND key clause, or nullopt.
std::optional<std::string> BindKeySecret(absl::string_view text) {
  const size_t at = text.find("secret");
  if (at == absl::string_view::npos) return std::nullopt;
  const size_t open = text.find('"', at);
  if (open == absl::string_view::npos) return std::nullopt;
  const size_t close = text.find('"', open + 1);
  if (close == absl::string_view::npos) return std::nullopt;
  return std::string(text.substr(open + 1, close - open - 1));
}

}  // namespace

absl::Status CheckPrivateFile(Filesystem& fs, const std::string& path) {
  ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
  if (!info.exists) {
    return absl::NotFoundError(absl::StrCat("\"", path, "\" does not exist"));
  }
  if (info.is_directory) {
    return absl::FailedPreconditionError(
        absl::StrCat("\"", path, "\" is a directory, not a file"));
  }
  if ((info.mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "\"%s\" is accessible by group or others (mode %04o); a secret must "
        "be private to its owner: chmod 600 %s",
        path, info.mode, path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSecretFile(Filesystem& fs,
                                           const std::string& path) {
  RETURN_IF_ERROR(CheckPrivateFile(fs, path));
  ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path));
  std::string secret(absl::StripAsciiWhitespace(text));
  if (secret.find('{') != std::string::npos) {
    std::optional<std::string> from_bind = BindKeySecret(secret);
    if (!from_bind.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", path,
          "\" looks like a BIND key file but has no secret \"...\""));
    }
    secret = *from_bind;
  }
  if (secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", path, "\" is empty"));
  }
  return secret;
}

}  // namespace certfleet::yaml
