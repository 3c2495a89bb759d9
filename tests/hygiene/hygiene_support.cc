#include "tests/hygiene/hygiene_support.h"

#include "absl/strings/str_cat.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::hygiene {

std::string WriteAgentYaml(const std::string& dir, const std::string& address,
                           const std::string& ca_pem,
                           const std::string& targets_yaml) {
  ::certfleet::testing::WriteFileOrDie(dir + "/coordinator-ca.pem", ca_pem);
  const std::string path = dir + "/agent.yaml";
  ::certfleet::testing::WriteFileOrDie(
      path, absl::StrCat(
                "coordinators: [\"", address, "\"]\n", "coordinator_ca: ", dir,
                "/coordinator-ca.pem\n", "identity_dir: ", dir, "/identity\n",
                "labels: {role: web}\n",
                "reconnect: {initial: 100ms, max: 500ms}\n", targets_yaml));
  return path;
}

ProcessResult RunBinary(const std::vector<std::string>& argv,
                        const std::string& stdin_data) {
  SubprocessRunner runner;
  absl::StatusOr<ProcessResult> r = runner.Run(
      {.argv = argv, .stdin_data = stdin_data, .timeout = absl::Seconds(60)},
      Context::Background());
  if (!r.ok()) return ProcessResult{.stderr_data = r.status().ToString()};
  return *r;
}

}  // namespace certfleet::hygiene
