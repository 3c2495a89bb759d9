// What the process hygiene tests share: an agent.yaml pointing at the
// fixture's in-process coordinator, and running a binary to completion.
//
//   const std::string config = WriteAgentYaml(dir, Address(), ca_pem);
//   ProcessResult r = RunBinary({CERTFLEET_AGENT_BINARY, "enroll", "--config",
//                                config, "--token-file", "-"}, token);
#ifndef CERTFLEET_TESTS_HYGIENE_HYGIENE_SUPPORT_H_
#define CERTFLEET_TESTS_HYGIENE_HYGIENE_SUPPORT_H_

#include <string>
#include <vector>

#include "common/process_runner.h"

namespace certfleet::hygiene {

// Writes `dir`/agent.yaml (and `dir`/coordinator-ca.pem holding `ca_pem`):
// the coordinator at `address`, identity in `dir`/identity, labels
// role=web, then `targets_yaml` (a "targets:" section, or ""). Returns the
// file's path.
std::string WriteAgentYaml(const std::string& dir, const std::string& address,
                           const std::string& ca_pem,
                           const std::string& targets_yaml = "");

// Runs `argv` (60 s at most) with `stdin_data` on its standard input; a
// result with the failure in stderr_data when it could not start.
ProcessResult RunBinary(const std::vector<std::string>& argv,
                        const std::string& stdin_data = "");

}  // namespace certfleet::hygiene

#endif  // CERTFLEET_TESTS_HYGIENE_HYGIENE_SUPPORT_H_
