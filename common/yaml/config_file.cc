#include "common/yaml/config_file.h"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace certfleet::yaml {

std::string ConfigDirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::StatusOr<ConfigFile> ReadConfigFile(const std::string& path,
                                          Filesystem& fs) {
  absl::StatusOr<std::string> text = fs.ReadFile(path);
  if (!text.ok()) {
    return absl::Status(
        text.status().code(),
        absl::StrCat("configuration file: ", text.status().message()));
  }
  // Relative paths inside the file are relative to the file: anchor them to
  // an absolute directory.
  std::string base_dir = ConfigDirName(path);
  if (path.empty() || path.front() != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == nullptr) {
      return ErrnoStatus(errno, "getcwd for", path);
    }
    base_dir =
        base_dir.empty() ? std::string(cwd) : absl::StrCat(cwd, "/", base_dir);
  }
  return ConfigFile{.text = *std::move(text), .base_dir = std::move(base_dir)};
}

std::optional<std::string> ProcessGetenv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace certfleet::yaml
