// Feeds: arbitrary text as agent.yaml to agent::ParseAgentConfig — the
// loader LoadAgentConfig uses after reading the file — with the environment
// and files of fuzz/config_env.h. The agent runs as root and this file
// decides where it writes and what it runs.
// Checks, beyond no crash and no sanitizer report (and no yaml-cpp
// exception escaping): a refused file is kInvalidArgument naming the file;
// in an accepted one every target directory is absolute, every file path is
// relative without "..", and target names are unique.
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "agent/config/agent_config.h"
#include "common/log.h"
#include "tests/fuzz/config_env.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  certfleet::SetLogLevel(certfleet::LogLevel::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = certfleet::fuzz;
  using certfleet::agent::AgentConfig;
  static const std::string kSource = "/etc/certfleet/agent.yaml";
  certfleet::config::testing::MemoryFilesystem fs = fuzz::ConfigFiles();
  absl::StatusOr<AgentConfig> cfg = certfleet::agent::ParseAgentConfig(
      fuzz::AsView(data, size), kSource, fs, fuzz::Getenv);
  if (!cfg.ok()) {
    FUZZ_CHECK(cfg.status().code() == absl::StatusCode::kInvalidArgument,
               "a refused configuration is kInvalidArgument");
    FUZZ_CHECK(absl::StrContains(cfg.status().message(), "agent.yaml"),
               "the error names the file");
    return 0;
  }
  std::set<std::string> names;
  for (const certfleet::agent::TargetSpec& t : cfg->targets) {
    FUZZ_CHECK(names.insert(t.name).second, "target names are unique");
    FUZZ_CHECK(absl::StartsWith(t.directory, "/"),
               "a target directory is absolute");
    for (const certfleet::agent::FileSpec& f : t.files) {
      FUZZ_CHECK(!f.path.empty() && !absl::StartsWith(f.path, "/"),
                 "a file path is relative");
      for (absl::string_view part : absl::StrSplit(f.path, '/')) {
        FUZZ_CHECK(part != "..", "a file path never climbs out");
      }
    }
  }
  return 0;
}
