// Reading a YAML configuration file the way coordinator.yaml and agent.yaml
// are read: its text, the absolute directory its relative paths are
// resolved against (wherever the process runs from or later moves to), and
// ${VAR} values from the process environment.
//
//   ASSIGN_OR_RETURN(yaml::ConfigFile file, yaml::ReadConfigFile(path, fs));
//   return Parse(file.text, path, file.base_dir, fs, yaml::ProcessGetenv);
#ifndef CERTFLEET_COMMON_YAML_CONFIG_FILE_H_
#define CERTFLEET_COMMON_YAML_CONFIG_FILE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/filesystem.h"

namespace certfleet::yaml {

struct ConfigFile {
  std::string text;
  std::string base_dir;  // absolute
};

// Reads `path` through `fs`; read errors keep their code, prefixed with
// "configuration file: ".
absl::StatusOr<ConfigFile> ReadConfigFile(const std::string& path,
                                          Filesystem& fs);

// The directory part of `path`: "" for a bare name, "/" for "/x".
std::string ConfigDirName(const std::string& path);

// getenv(3), as the parsers' variable lookup.
std::optional<std::string> ProcessGetenv(const std::string& name);

}  // namespace certfleet::yaml

#endif  // CERTFLEET_COMMON_YAML_CONFIG_FILE_H_
