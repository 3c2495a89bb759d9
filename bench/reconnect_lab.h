// The lab of certfleet-bench-reconnect: a real certfleet-coordinator on
// SQLite, N agents already enrolled in its store (with FleetCoordinator's
// direct enrollment, before the coordinator starts), one version of the
// certificate every agent's target "site" is assigned, and the simulated
// agents (certfleet-bench-agent-loadgen --reconnect) in a process of their
// own, reconnecting by themselves as certfleet-agent does. The lab kills
// and restarts the coordinator, and reads what the bench times: how many
// agents hold a welcomed stream (the load generator's status lines) and
// how many targets' inventories the store recorded since a given time.
//
//   ASSIGN_OR_RETURN(auto lab, ReconnectLab::Start({.coordinator = bin,
//                                                   .loadgen = lg,
//                                                   .agents = 10000}));
//   RETURN_IF_ERROR(lab->StartAgents());
//   lab->KillCoordinator();
//   RETURN_IF_ERROR(lab->StartCoordinator());
//   ... lab->Status(), lab->RecordedSince(t) ...
#ifndef CERTFLEET_BENCH_RECONNECT_LAB_H_
#define CERTFLEET_BENCH_RECONNECT_LAB_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/loadgen_process.h"
#include "tests/harness/server_process.h"

namespace certfleet::bench {

struct ReconnectLabOptions {
  std::string coordinator;  // the certfleet-coordinator binary
  std::string loadgen;      // certfleet-bench-agent-loadgen
  int agents = 10000;
  // The load generator's pacing of the first connections.
  int max_connecting = 256;
};

class ReconnectLab {
 public:
  // Prepares the store (enrolls the agents, stores version 1) and starts
  // the coordinator; errors name the step and where the logs are.
  static absl::StatusOr<std::unique_ptr<ReconnectLab>> Start(
      ReconnectLabOptions options);
  ~ReconnectLab();  // stops what it started, by PID; removes the directory
  ReconnectLab(const ReconnectLab&) = delete;
  ReconnectLab& operator=(const ReconnectLab&) = delete;

  const std::string& dir() const { return dir_; }
  void KeepDir() { keep_dir_ = true; }

  // Starts the coordinator (again) and returns once its agent port accepts
  // connections (single coordinator: its agent service starts last).
  absl::Status StartCoordinator();
  // SIGKILL (a crash), or SIGTERM and wait for it to exit (a restart).
  void KillCoordinator();
  void StopCoordinator();
  pid_t coordinator_pid() const;

  // Starts the load generator (its agents connect, paced, then reconnect
  // by themselves).
  absl::Status StartAgents();
  pid_t loadgen_pid() const { return loadgen_.pid(); }
  // Its last status line; kUnavailable before the first, kFailedPrecondition
  // once it exited (with its output's tail).
  absl::StatusOr<LoadgenStatus> Status();

  // Targets whose state the store recorded at or after `since` (the
  // coordinator's clock is the real one): inventories handled and written.
  absl::StatusOr<int> RecordedSince(absl::Time since);

 private:
  ReconnectLab(ReconnectLabOptions options, std::string dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  absl::Status Prepare();
  absl::Status WriteConfig();

  const ReconnectLabOptions options_;
  const std::string dir_;
  bool keep_dir_ = false;
  int agent_port_ = 0;
  int metrics_port_ = 0;
  int starts_ = 0;
  std::unique_ptr<harness::ServerProcess> coordinator_;
  Loadgen loadgen_;
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_RECONNECT_LAB_H_
