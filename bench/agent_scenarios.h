// The three agent benchmarks. Each runs against a fresh in-process
// coordinator (bench/fleet_coordinator.h) in a fresh temporary directory,
// prints what it measures as it goes, and returns its figures.
//
// - Footprint: one real certfleet-agent holding its stream, idle for a
//   while: its RSS (VmRSS, VmHWM, private and shared parts, PSS), the CPU
//   it used and how often its threads woke up during the window.
// - Fan-out (real): N certfleet-agent processes, one target each; the time
//   from a new version stored (hub.NotifyVersion) to all N reporting it
//   installed and healthy, per round; the coordinator's RSS per connected
//   agent.
// - Fan-out (simulated): the same with N streams from
//   certfleet-bench-agent-loadgen.
//
//   ASSIGN_OR_RETURN(FanoutResult r, RunFanout(options, /*simulated=*/true));
#ifndef CERTFLEET_BENCH_AGENT_SCENARIOS_H_
#define CERTFLEET_BENCH_AGENT_SCENARIOS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace certfleet::bench {

// The targets from the issue.
inline constexpr double kTargetAgentRssMb = 24;
inline constexpr double kTargetRealFanoutS = 2;  // N = 200
inline constexpr double kTargetSimFanoutS = 10;  // N = 5,000
inline constexpr double kTargetKbPerAgent = 64;

struct ScenarioOptions {
  std::string agent_binary;
  std::string loadgen_binary;
  absl::Duration idle = absl::Seconds(60);
  int agents = 200;
  int rounds = 3;
  bool health_check = true;
  // Extra environment of the agent processes.
  std::vector<std::pair<std::string, std::string>> agent_env;
  bool keep = false;  // keep the temporary directory
};

struct FootprintResult {
  double idle_s = 0;
  long rss_kb = 0, hwm_kb = 0, anon_kb = 0, file_kb = 0, pss_kb = 0;
  long threads = 0;
  double cpu_ms = 0;            // over the idle window
  long voluntary_switches = 0;  // over the idle window, all threads
  long involuntary_switches = 0;
  std::string wakeups_by_thread;
};

struct FanoutResult {
  bool simulated = false;
  int agents = 0;
  double connect_s = 0;  // start → all connected with the first version
  std::vector<double> round_s;       // NotifyVersion → N-th ok result
  std::vector<double> round_cpu_ms;  // coordinator CPU during each round
  long coordinator_threads = 0;
  // The benchmark process's RSS with 0 and with N agents connected, raw and
  // after malloc_trim(0) (free heap handed back before reading).
  long rss0_kb = 0, rssn_kb = 0, rss0_trim_kb = 0, rssn_trim_kb = 0;
  double kb_per_agent = 0, kb_per_agent_trim = 0;
  // Sum of the agents' RSS (real agents only) and the load generator's.
  long agents_rss_kb = 0;
  size_t failed = 0;  // rejected deliveries over every round
};

absl::StatusOr<FootprintResult> RunFootprint(const ScenarioOptions& options);
absl::StatusOr<FanoutResult> RunFanout(const ScenarioOptions& options,
                                       bool simulated);

// Median of `v` (0 when empty).
double Median(std::vector<double> v);

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_AGENT_SCENARIOS_H_
