// Runs one program to completion and measures it the way the benchmark
// reports it: wall time from spawn to reap, CPU (user + system) and peak RSS
// from the kernel's rusage for that child (wait4), so nothing the benchmark
// itself does is counted. Also reads the CPU a running server has used so
// far, to attribute the lab's (Pebble's, BIND9's) cost to a pass.
//
//   ASSIGN_OR_RETURN(MeasuredRun run, RunMeasured({
//       .argv = {coordinator, "serve", "--config", path, "--once", "-o",
//       "json"}, .stdout_path = dir + "/pass.json", .stderr_path = dir +
//       "/pass.log", .timeout = absl::Minutes(2)}));
//   printf("%.1f ms CPU, %ld KB peak\n", run.cpu_ms, run.max_rss_kb);
#ifndef CERTFLEET_BENCH_MEASURED_PROCESS_H_
#define CERTFLEET_BENCH_MEASURED_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace certfleet::bench {

// What to run. argv[0] is looked up on PATH when it has no '/'.
struct MeasuredSpec {
  std::vector<std::string> argv;
  // Added to (or replacing in) the benchmark's own environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::string stdout_path;  // created/truncated; required
  std::string stderr_path;  // created/truncated; required
  std::string working_dir;  // empty: the benchmark's
  // The child is killed (SIGKILL) after this; the result then says so.
  absl::Duration timeout = absl::Minutes(5);
  // Asked about once a second while the child runs; true kills the child
  // early (e.g. the server it talks to stopped making progress).
  std::function<bool()> stalled;
};

// How one run went. Times are the child's only (wait4 rusage).
struct MeasuredRun {
  int exit_code = -1;      // -1 when killed by a signal
  int term_signal = 0;     // the signal that ended it, else 0
  bool timed_out = false;  // killed by us after spec.timeout
  bool stalled = false;    // killed by us because spec.stalled said so
  absl::Duration wall;     // spawn → reaped
  double cpu_ms = 0;       // ru_utime + ru_stime
  double user_ms = 0;      // ru_utime
  double system_ms = 0;    // ru_stime
  long max_rss_kb = 0;     // ru_maxrss (kilobytes on Linux)
};

// Spawns spec.argv, waits for it (or kills it at the timeout) and returns
// its measurements. Errors only when the program cannot be started; a
// non-zero exit is a result, not an error.
absl::StatusOr<MeasuredRun> RunMeasured(const MeasuredSpec& spec);

// Makes SIGINT/SIGTERM stop the benchmark cleanly: the running children are
// killed and later RunMeasured calls fail with kCancelled, so the benchmark
// unwinds and its servers are stopped by their owners. Call from main before
// any thread starts.
void InstallInterruptHandler();
// True once SIGINT or SIGTERM arrived.
bool Interrupted();

// CPU (user + system, every thread) that a running process has used so far,
// in milliseconds, from /proc/PID/stat. kNotFound when it is gone.
absl::StatusOr<double> ProcessCpuMs(pid_t pid);

// CPU every process on the machine has used since boot (user, nice,
// system, irq, softirq, steal from /proc/stat), in ms: the difference over
// a pass, minus what the benchmark's own processes used, is other load.
double MachineBusyMs();

// The whole file as a string (for a child's output); kNotFound if missing.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// The last `max_bytes` of a file, for failure messages ("" when missing).
std::string FileTail(const std::string& path, size_t max_bytes = 2000);

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_MEASURED_PROCESS_H_
