// Long-running children of the agent benchmarks (certfleet-agent `run`
// processes, the load generator, one scenario of the benchmark itself):
// started with posix_spawn, output to files or inherited, stopped together
// by PID — SIGTERM to all of them at once, then SIGKILL to whoever is
// still there after a grace period — so stopping 200 agents costs one grace
// period, not 200.
//
//   ASSIGN_OR_RETURN(pid_t pid, SpawnChild({.argv = {agent, "run", "-c", f},
//                                           .output_path = dir + "/log"}));
//   ...
//   StopChildren({pid}, absl::Seconds(5));
#ifndef CERTFLEET_BENCH_CHILD_PROCESS_H_
#define CERTFLEET_BENCH_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace certfleet::bench {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] a path
  // Added to (or replacing in) the benchmark's environment.
  std::vector<std::pair<std::string, std::string>> env;
  // stdout and stderr both go here (created/truncated); "" = inherited.
  std::string output_path;
};

// Starts the child with stdin from /dev/null, default signal handling and
// an empty signal mask. kInternal with errno's text when it cannot start.
absl::StatusOr<pid_t> SpawnChild(const ChildSpec& spec);

// Waits up to `timeout` for `pid` to exit and reaps it. Its exit code, -1
// when killed by a signal; kDeadlineExceeded when still running.
absl::StatusOr<int> WaitChild(pid_t pid, absl::Duration timeout);

// SIGTERM to every pid, then waits up to `grace` for all of them, then
// SIGKILL to the rest; reaps all. Returns how many had to be killed.
int StopChildren(const std::vector<pid_t>& pids, absl::Duration grace);

// `perf record` of the running process `pid` (CPU clock at 499 Hz, DWARF
// call graphs) into `data_path`, its output in `data_path`.log: attached
// to a process already running (perf given a PID before exec lost it).
// kNotFound without perf.
absl::StatusOr<pid_t> StartPerfRecord(pid_t pid, const std::string& data_path);
// SIGINT (perf writes its data then) and waits up to 2 minutes for it.
void StopPerfRecord(pid_t perf);

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_CHILD_PROCESS_H_
