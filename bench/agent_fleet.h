// Real certfleet-agent processes for the agent benchmarks, each in its own
// directory (agent.yaml, identity/, the target's directory, a log): one
// target "site" writing fullchain.pem and privkey.pem, reloaded with a
// no-op command (/bin/true), grace 0, and optionally a `command` health
// check (/bin/true). Each agent enrolls with its own bootstrap token
// (`certfleet-agent enroll`), then serves (`certfleet-agent run`).
//
//   AgentFleet fleet({.agent_binary = path, .dir = tmp, .coordinator =
//                     coord->address(), .ca_pem = coord->ca_pem()});
//   RETURN_IF_ERROR(fleet.Enroll(tokens, /*parallel=*/8));
//   RETURN_IF_ERROR(fleet.StartAll());
//   ... fleet.pids() ...
//   fleet.StopAll();
#ifndef CERTFLEET_BENCH_AGENT_FLEET_H_
#define CERTFLEET_BENCH_AGENT_FLEET_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace certfleet::bench {

struct AgentFleetOptions {
  std::string agent_binary;
  std::string dir;           // agent i lives in dir/agent-<i>
  std::string coordinator;   // "127.0.0.1:port"
  std::string ca_pem;        // the coordinator's internal CA
  bool health_check = true;  // a `command: [/bin/true]` health check
  // Extra environment for every agent process (MALLOC_ARENA_MAX=2, ...).
  std::vector<std::pair<std::string, std::string>> env;
  std::string log_level = "info";
};

class AgentFleet {
 public:
  explicit AgentFleet(AgentFleetOptions options);
  // Stops whatever is still running.
  ~AgentFleet();

  // Writes one configuration per token and runs `certfleet-agent enroll`
  // for each, `parallel` at a time. Fails naming the first agent whose
  // enrollment failed, with its output.
  absl::Status Enroll(const std::vector<std::string>& tokens, int parallel);
  // Starts `certfleet-agent run` for every enrolled agent.
  absl::Status StartAll();
  // SIGTERM to all, SIGKILL after 5 s; returns how many needed SIGKILL.
  int StopAll();

  const std::vector<pid_t>& pids() const { return pids_; }
  size_t size() const { return configs_.size(); }
  // The last part of agent `i`'s log, for failure messages.
  std::string LogTail(size_t i) const;
  // Agent `index`'s directory.
  std::string AgentDir(size_t index) const;

 private:
  // Writes agent `index`'s directory and agent.yaml; returns its path.
  absl::Status WriteConfig(size_t index);

  const AgentFleetOptions options_;
  std::vector<std::string> configs_;
  std::vector<pid_t> pids_;
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_AGENT_FLEET_H_
