// What the kernel says about a running process, for the agent benchmarks:
// resident memory now and at its peak (VmRSS, VmHWM), CPU used so far, and
// how often its threads were switched out (context switches summed over
// every thread: each voluntary switch is a sleep, so each wake-up after it
// is one). Read from /proc, so it works on any process, including the
// benchmark's own (pid 0 = self).
//
//   ASSIGN_OR_RETURN(ProcSample before, SampleProcess(agent_pid));
//   absl::SleepFor(absl::Seconds(60));
//   ASSIGN_OR_RETURN(ProcSample after, SampleProcess(agent_pid));
//   printf("%ld wake-ups\n", after.voluntary_switches -
//                            before.voluntary_switches);
#ifndef CERTFLEET_BENCH_PROC_STATS_H_
#define CERTFLEET_BENCH_PROC_STATS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace certfleet::bench {

// One thread's name and switch counts (for finding who wakes up).
struct ThreadSample {
  pid_t tid = 0;
  std::string comm;
  long voluntary_switches = 0;
  long involuntary_switches = 0;
};

struct ProcSample {
  long rss_kb = 0;       // VmRSS
  long hwm_kb = 0;       // VmHWM (peak RSS)
  long rss_anon_kb = 0;  // RssAnon: private, not shared with other processes
  long rss_file_kb = 0;  // RssFile: mapped files (shared libraries)
  // Proportional set size (/proc/PID/smaps_rollup): shared pages divided
  // among the processes that map them; 0 when unreadable.
  long pss_kb = 0;
  double cpu_ms = 0;  // utime + stime of every thread, /proc/PID/stat
  long threads = 0;
  // Summed over /proc/PID/task/*/status (the process's own line counts
  // only its main thread).
  long voluntary_switches = 0;
  long involuntary_switches = 0;
  std::vector<ThreadSample> per_thread;
};

// Reads /proc/`pid` (0 = this process). kNotFound when it is gone.
absl::StatusOr<ProcSample> SampleProcess(pid_t pid);

// Wake-ups per thread between two samples of one process, as
// "comm(tid)=N" for each thread that woke, most first.
std::string WakeupsByThread(const ProcSample& before, const ProcSample& after);

// "/proc/loadavg"'s first three fields ("1.23 0.98 0.75"): other work on
// the machine skews every timing.
std::string LoadAverage();

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft
// limit.
long RaiseFileLimit();

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_PROC_STATS_H_
