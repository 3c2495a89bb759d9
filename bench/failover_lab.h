// The lab of certfleet-bench-failover: a 3-member etcd cluster, three
// certfleet-coordinator replicas (coord-a, coord-b, coord-c) that each reach
// etcd through TCP proxies of their own — so one replica alone can be cut
// off — and real certfleet-agents enrolled with them. It injects the leader
// faults the benchmark times, repairs them, and reads what etcd says: the
// leadership key, and which replica each agent is connected to (the
// presence keys the replicas publish). Every process is stopped by PID when
// the lab goes away, a frozen replica thawed first.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<FailoverLab> lab,
//                    FailoverLab::Start({.coordinator = bin, .agent = abin}));
//   LeaderKey leader = lab->Leader();
//   RETURN_IF_ERROR(lab->Freeze(leader.replica));
//   ... poll lab->Leader() and lab->Presence() ...
//   RETURN_IF_ERROR(lab->Thaw(leader.replica));
#ifndef CERTFLEET_BENCH_FAILOVER_LAB_H_
#define CERTFLEET_BENCH_FAILOVER_LAB_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/measured_process.h"
#include "common/etcd/etcd_client.h"
#include "tests/harness/etcd_server.h"
#include "tests/harness/server_process.h"
#include "tests/harness/tcp_proxy.h"

namespace certfleet::bench {

// InstallInterruptHandler() (measured_process.h) makes SIGINT and SIGTERM
// set a flag that PollUntil() sees, so the bench unwinds and stops what it
// started (the children run in process groups of their own: Ctrl-C does not
// reach them).

// Calls `done` every `every` until it says true (OK), fails (its error),
// `timeout` passes (kDeadlineExceeded naming `what`, the awaited state) or
// the bench is interrupted (kCancelled).
absl::Status PollUntil(const std::function<absl::StatusOr<bool>()>& done,
                       absl::Duration timeout, absl::Duration every,
                       const std::string& what);

struct FailoverLabOptions {
  std::string coordinator;  // the certfleet-coordinator binary
  std::string agent;        // the certfleet-agent binary (agents > 0)
  int agents = 6;
  absl::Duration lease_ttl = absl::Seconds(3);
  // ha.cut_off_after; zero: not written (the replicas' default, 6s).
  absl::Duration cut_off_after = absl::ZeroDuration();
  // Each replica reaches etcd through TCP proxies of its own, so that one
  // alone can be cut off (CutOff). False: straight to the members, for a
  // benchmark that measures etcd's traffic and wants no relay in between
  // (CutOff and Reconnect then do nothing).
  bool proxies = true;
  // More flags for every etcd member (harness::EtcdClusterOptions).
  std::vector<std::string> etcd_flags;
  // An admin API on each replica (admin_port()).
  bool admin = false;
  // Replaces the replicas' default `dns`, `scheduler`, `issuers`,
  // `dns_providers` and `certificates` sections (an issuer nobody answers,
  // one certificate "www"): e.g. BenchLab::IssuanceConfig() and
  // certificates of its own. `key_encryption_key_file` is dir()/kek.
  std::string issuance_config;
  // Called once etcd runs, before any replica starts, with the members'
  // endpoints and the lab's directory: to fill the store first.
  std::function<absl::Status(const std::vector<std::string>& endpoints,
                             const std::string& dir)>
      prepare;
};

// The leadership key: who holds it, and since which write.
struct LeaderKey {
  std::string replica;  // empty: nobody leads
  int64_t create_revision = 0;
  bool operator==(const LeaderKey&) const = default;
};

class FailoverLab {
 public:
  // Starts etcd, the replicas (and waits until each serves agents and has
  // written the internal CA file), then enrolls and starts the agents;
  // agent i lists replica i % 3 first (its home). Errors name the process
  // at fault and where its log is.
  static absl::StatusOr<std::unique_ptr<FailoverLab>> Start(
      FailoverLabOptions options);
  ~FailoverLab();
  FailoverLab(const FailoverLab&) = delete;
  FailoverLab& operator=(const FailoverLab&) = delete;

  // Where the configurations and logs are; removed with the lab unless
  // KeepDir() was called (after a failure, so they can be read).
  const std::string& dir() const { return dir_; }
  void KeepDir() { keep_dir_ = true; }
  static const std::vector<std::string>& Replicas();

  // The faults, on one replica, and their repair. kNotFound for a name
  // that is not a replica, kFailedPrecondition for one not running.
  absl::Status Kill(const std::string& replica);       // SIGKILL
  absl::Status Restart(const std::string& replica);    // after Kill
  absl::Status Freeze(const std::string& replica);     // SIGSTOP
  absl::Status Thaw(const std::string& replica);       // SIGCONT
  absl::Status CutOff(const std::string& replica);     // from etcd
  absl::Status Reconnect(const std::string& replica);  // to etcd

  // OK while every process the lab started runs (a killed replica not yet
  // restarted excepted); else which one exited, with its log's tail.
  absl::Status CheckRunning();
  // True once `replica` takes agents: it runs, its agent port accepts
  // connections and its /readyz says 200 (it is in touch with etcd).
  bool Ready(const std::string& replica);

  // What etcd says now (the bench's own client, not through a proxy).
  // An empty replica when the key is missing or etcd did not answer.
  LeaderKey Leader();
  // Agent id → the replica its presence key names; an agent without one
  // is left out.
  absl::StatusOr<std::map<std::string, std::string>> Presence();

  // A replica's process id (0 when not running) and ports; 0 for a name
  // that is not a replica.
  pid_t pid(const std::string& replica);
  int agent_port(const std::string& replica);
  int admin_port(const std::string& replica);  // 0 without options.admin
  // Its coordinator.yaml ("" for a name that is not a replica).
  std::string config_path(const std::string& replica);
  std::vector<std::string> etcd_endpoints() const { return etcd_->endpoints(); }

  int agent_count() const { return static_cast<int>(agents_.size()); }
  const std::string& agent_id(int i) const { return agents_[i].id; }
  // The replica agent `i` lists first.
  const std::string& agent_home(int i) const { return agents_[i].home; }
  // The replica agent `i` last said (in its log) it is connected to: ""
  // when its last stream ended and it has not connected since.
  std::string AgentSaysConnectedTo(int i) const;
  // Stops the given agents, waits until no presence key names them and
  // every replica has seen them gone (1 s), and starts them again: each
  // dials its home replica first.
  absl::Status RestartAgents(const std::vector<int>& agents);

 private:
  struct Replica {
    std::string name;
    std::string config;  // path of its coordinator.yaml
    int agent_port = 0;
    int metrics_port = 0;
    int admin_port = 0;
    // One proxy per etcd member: the replica reaches etcd only through
    // these, so cutting them cuts it off as a partition would.
    std::vector<std::unique_ptr<harness::TcpProxy>> proxies;
    std::unique_ptr<harness::ServerProcess> process;  // null once killed
    bool frozen = false;
  };
  struct Agent {
    std::string id;  // as enrolled
    std::string home;
    std::string dir;
    std::unique_ptr<harness::ServerProcess> process;
  };

  FailoverLab(FailoverLabOptions options, std::string dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}
  // Start() without the note of where the logs are.
  absl::Status Init();
  absl::Status WriteReplicaConfig(Replica& r);
  absl::Status StartReplica(Replica& r);
  absl::Status EnrollAgent(int i);
  absl::Status StartAgent(Agent& a);
  // kNotFound when no replica has that name; with `running`, also
  // kFailedPrecondition when it was killed and not restarted.
  absl::StatusOr<Replica*> Find(const std::string& name, bool running);

  const FailoverLabOptions options_;
  const std::string dir_;
  bool keep_dir_ = false;
  // Declared in the order they start: destroyed agents first, etcd last.
  std::unique_ptr<harness::EtcdCluster> etcd_;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::vector<Replica> replicas_;
  std::vector<Agent> agents_;
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_FAILOVER_LAB_H_
