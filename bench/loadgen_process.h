// certfleet-bench-agent-loadgen (bench/agent_loadgen_main.cc) as a child of
// a benchmark: started with --reconnect, so its simulated agents behave as
// certfleet-agent does when a stream ends, and read through the status
// line it prints every 100 ms to its log. Shared by the reconnect-storm and
// HA fan-out benchmarks.
//
//   ASSIGN_OR_RETURN(Loadgen lg, Loadgen::Start({.loadgen = bin,
//                                                .address = "127.0.0.1:P",
//                                                .ca_path = ca,
//                                                .identities_path = ids,
//                                                .log_path = log}));
//   ASSIGN_OR_RETURN(LoadgenStatus s, lg.Status());
//   ... s.connected, s.results ...
//   lg.Stop();
#ifndef CERTFLEET_BENCH_LOADGEN_PROCESS_H_
#define CERTFLEET_BENCH_LOADGEN_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::bench {

// One status line of the load generator.
struct LoadgenStatus {
  absl::Time at = absl::InfinitePast();
  size_t connected = 0;
  size_t attempts = 0;
  size_t ended = 0;
  size_t gave_up = 0;
  // When every agent last held a welcomed stream (InfinitePast: never).
  absl::Time all_connected_at = absl::InfinitePast();
  // Bundles answered with an ok result so far, and when the last was
  // (InfinitePast: none yet).
  size_t results = 0;
  absl::Time last_result_at = absl::InfinitePast();
};

// "status now_us=T connected=C ..." → its fields; false when malformed.
bool ParseLoadgenStatus(absl::string_view line, LoadgenStatus* out);

struct LoadgenSpec {
  std::string loadgen;  // the certfleet-bench-agent-loadgen binary
  std::string address;  // the coordinator's agent service, HOST:PORT
  std::string ca_path;  // its internal CA
  std::string identities_path;
  int max_connecting = 256;
  std::string log_path;  // its stdout and stderr
};

class Loadgen {
 public:
  static absl::StatusOr<Loadgen> Start(const LoadgenSpec& spec);
  Loadgen() = default;
  Loadgen(Loadgen&& other) noexcept;
  Loadgen& operator=(Loadgen&& other) noexcept;
  ~Loadgen();  // Stop()

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  // Its last status line; kUnavailable before the first, kFailedPrecondition
  // once it exited (with its output's tail).
  absl::StatusOr<LoadgenStatus> Status();
  // SIGTERM, SIGKILL after 10 s; reaped. Idempotent.
  void Stop();

 private:
  pid_t pid_ = 0;
  std::string log_path_;
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_LOADGEN_PROCESS_H_
