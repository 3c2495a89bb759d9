// The lab of certfleet-bench-fanout: real certfleet-coordinators that issue
// for real (Pebble + BIND9, bench_lab.h) and N simulated agents
// (certfleet-bench-agent-loadgen, one process per coordinator).
//
// HA: a 3-member etcd and three replicas (failover_lab.h, without TCP
// proxies, each with an admin API); the agents are enrolled into etcd by the
// lab itself before the replicas start (direct_enrollment.h), and agent i
// is served by replica i mod 3. SQLite: one coordinator, its store
// prepared the same way. Either way the coordinator(s) issue version 1 of
// certificate kBenchCertificate at start (it has none), which reaches every
// agent's target kBenchTarget as a first version; a new version is asked
// for with `certfleetctl renew` against the leader, and the lab reads what
// the store says: the newest version, and which agents reported which
// version installed. The rollout policy moves every target in one wave, at
// once (waves [100%], max_unavailable 100%, bake_time 0s): the benchmark
// times the fan-out, not a policy's waits.
//
//   ASSIGN_OR_RETURN(auto lab, FanoutLab::Start({.coordinator = c, .ctl = t,
//                                                .loadgen = l, .ha = true}));
//   RETURN_IF_ERROR(lab->WaitForVersion(1, absl::Minutes(2)));
//   RETURN_IF_ERROR(lab->StartAgents());
//   ... lab->Installed("bench-site/1") ...
//   RETURN_IF_ERROR(lab->Renew());
#ifndef CERTFLEET_BENCH_FANOUT_LAB_H_
#define CERTFLEET_BENCH_FANOUT_LAB_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/bench_lab.h"
#include "bench/failover_lab.h"
#include "bench/loadgen_process.h"
#include "common/etcd/etcd_client.h"
#include "coordinator/store/etcd_store.h"
#include "tests/harness/server_process.h"

namespace certfleet::bench {

struct FanoutLabOptions {
  std::string coordinator;  // certfleet-coordinator
  std::string ctl;          // certfleetctl
  std::string loadgen;      // certfleet-bench-agent-loadgen
  bool ha = true;           // 3 replicas on etcd; false: one on SQLite
  int agents = 10000;
  // Load generator processes (agent i in load generator i mod loadgens,
  // load generator k on coordinator k mod coordinators): three in both
  // modes, so that one process's 10,000 TLS streams on two shared cores do
  // not make the load generator, not the coordinator, what is measured.
  int loadgens = 3;
  // Each load generator's pacing of its first connections.
  int max_connecting = 64;
  // etcd's --max-request-bytes; 0: its default (1.5 MiB), which a rollout
  // of about 4,500 targets or more outgrows (docs/benchmarks.md).
  int64_t etcd_max_request_bytes = 0;
};

class FanoutLab {
 public:
  // Starts Pebble + BIND9, prepares the store (the agents enrolled), starts
  // the coordinator(s) and makes an admin identity. Errors name the step
  // and where the files are.
  static absl::StatusOr<std::unique_ptr<FanoutLab>> Start(
      FanoutLabOptions options);
  ~FanoutLab();  // stops everything it started, by PID
  FanoutLab(const FanoutLab&) = delete;
  FanoutLab& operator=(const FanoutLab&) = delete;

  const std::string& dir() const { return dir_; }
  void KeepDir();

  // The coordinators' names ("coord-a", ... or "coordinator") and PIDs.
  std::vector<std::string> Coordinators() const;
  pid_t pid(const std::string& coordinator);
  // The one that leads (the only one without HA); "" when none does.
  std::string Leader();
  // OK while every coordinator and load generator runs; else which one
  // stopped, with its log's tail.
  absl::Status CheckRunning();

  // Starts the load generators.
  absl::Status StartAgents();
  // The load generators, how many agents each holds, and how many agents a
  // coordinator serves.
  std::vector<Loadgen>& loadgens() { return loadgens_; }
  int agents_of(size_t loadgen) const { return agents_per_[loadgen]; }
  int agents_on(const std::string& coordinator) const;

  // `certfleetctl renew` kBenchCertificate, sent to the leader.
  absl::Status Renew();
  // The newest version number of kBenchCertificate in the store (0: none).
  absl::StatusOr<int64_t> NewestVersion();
  absl::Status WaitForVersion(int64_t version, absl::Duration timeout);

  // Agents whose target kBenchTarget is recorded in the store with
  // `version_id` installed, and when the last of them was seen. HA: from a
  // watch of the target states the lab opens with WatchInstalls() (call it
  // before the version can be stored; it counts what is written from then
  // on); SQLite: a query.
  struct Installed {
    int count = 0;
    absl::Time last = absl::InfinitePast();
  };
  absl::Status WatchInstalls();
  absl::StatusOr<Installed> InstalledCount(const std::string& version_id);

  // HA only: the cluster's revision (each write transaction adds one), and
  // the /metrics counters named in `names` (-1 when absent): member 0's,
  // client traffic (etcd_network_client_*) summed over the members.
  absl::StatusOr<int64_t> EtcdRevision();
  std::map<std::string, double> EtcdMetrics(
      const std::vector<std::string>& names);

 private:
  FanoutLab(FanoutLabOptions options, std::string dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  absl::Status Init();
  // Enrolls the agents into `store` (several threads on etcd) and writes
  // each load generator's identities file and the CA file.
  absl::Status Enroll(store::Store& store, const std::string& kek_path);
  std::string CommonConfig() const;
  absl::Status StartSingle();
  absl::Status CreateAdminIdentity();
  int admin_port(const std::string& coordinator);

  const FanoutLabOptions options_;
  const std::string dir_;
  bool keep_dir_ = false;
  std::unique_ptr<BenchLab> issuance_;
  // HA. The client and store are the lab's own readers (and the
  // enrollment's writer); declared before the replicas, destroyed after.
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<store::EtcdStore> etcd_store_;
  std::unique_ptr<FailoverLab> replicas_;
  std::unique_ptr<etcd::EtcdWatch> watch_;
  // SQLite.
  int agent_port_ = 0;
  int admin_port_ = 0;
  std::unique_ptr<harness::ServerProcess> single_;

  std::vector<int> agents_per_;
  std::vector<Loadgen> loadgens_;

  absl::Mutex mu_;
  // version id → agents seen with it installed (HA watch).
  std::map<std::string, std::set<std::string>> installed_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> last_installed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_FANOUT_LAB_H_
