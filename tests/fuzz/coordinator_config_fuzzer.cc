// Feeds: arbitrary text as coordinator.yaml to config::ParseConfig — the
// loader LoadConfig uses after reading the file — with the environment and
// files of fuzz/config_env.h. yaml-cpp parses it; our readers validate
// every section and collect every problem.
// Checks, beyond no crash and no sanitizer report (and no yaml-cpp
// exception escaping: it would abort): a refused file is kInvalidArgument
// with a message naming the file; an accepted one names its source.
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "common/log.h"
#include "coordinator/config/config.h"
#include "tests/fuzz/config_env.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  certfleet::SetLogLevel(certfleet::LogLevel::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = certfleet::fuzz;
  static const std::string kSource = "/etc/certfleet/coordinator.yaml";
  certfleet::config::testing::MemoryFilesystem fs = fuzz::ConfigFiles();
  absl::StatusOr<certfleet::config::CoordinatorConfig> cfg =
      certfleet::config::ParseConfig(fuzz::AsView(data, size), kSource, fs,
                                     fuzz::Getenv);
  if (!cfg.ok()) {
    FUZZ_CHECK(cfg.status().code() == absl::StatusCode::kInvalidArgument,
               "a refused configuration is kInvalidArgument");
    FUZZ_CHECK(absl::StrContains(cfg.status().message(), "coordinator.yaml"),
               "the error names the file");
    return 0;
  }
  FUZZ_CHECK(cfg->source_path == kSource, "the configuration names its file");
  return 0;
}
