// What certfleet-bench-failover measured, and how it is printed: the
// faults, one round's figures, one line per round, and per fault min /
// median / p90 / max with one JSON line.
//
//   PrintRound(Fault::kStop, 3, round);
//   // "stop  3: coord-b SIGSTOPped → coord-a leads after 3.21s; its 2
//   //  agents elsewhere after 6.80s"
//   json.push_back(Summarize(settings, Fault::kStop, rounds));
#ifndef CERTFLEET_BENCH_FAILOVER_REPORT_H_
#define CERTFLEET_BENCH_FAILOVER_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace certfleet::bench {

// What happens to the leader.
enum class Fault {
  kKill,  // SIGKILL, then restarted
  kStop,  // SIGSTOP, then SIGCONT
  kCut,   // cut off from etcd, then reconnected
};

// "kill", "stop", "cut": the fault's name in flags and JSON.
const char* FaultName(Fault fault);
// "SIGKILLed", "SIGSTOPped", "cut off from etcd".
const char* FaultDone(Fault fault);

// The target the issue set: median (a) of kill rounds.
inline constexpr absl::Duration kKillTarget = absl::Seconds(5);

// One round: the leader faulted, and
// (a) until the leadership key had a new create_revision;
// (b) until every agent it held was on another replica.
struct Round {
  std::string faulted;
  std::string next;  // the new leader
  absl::Duration leader;
  int agents = 0;                       // on the faulted replica at the fault
  std::optional<absl::Duration> moved;  // none when agents == 0
};

// The lab's settings, for the summary.
struct RunSettings {
  absl::Duration lease_ttl;
  absl::Duration cut_off_after;  // as the replicas used it
  int agents = 0;
};

void PrintRound(Fault fault, int n, const Round& round);
// Prints the spread of (a) and (b) over `rounds` (and the target, for
// kill); returns the fault's JSON line.
std::string Summarize(const RunSettings& settings, Fault fault,
                      const std::vector<Round>& rounds);
// "/proc/loadavg"'s first three fields: the machine's load, to judge noise.
std::string LoadAverage();

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_FAILOVER_REPORT_H_
