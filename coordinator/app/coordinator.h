// The coordinator assembled from its configuration: key-encryption key,
// store, metrics, issuers, DNS-01 solver, order runner and scheduler.
//
//   ASSIGN_OR_RETURN(auto coordinator, Coordinator::Create(config, clock));
//   RETURN_IF_ERROR(coordinator->Serve(ctx));        // until ctx is cancelled
//   ASSIGN_OR_RETURN(auto report, coordinator->RunOnce(ctx));  // --once
#ifndef CERTFLEET_COORDINATOR_APP_COORDINATOR_H_
#define CERTFLEET_COORDINATOR_APP_COORDINATOR_H_

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/crypto/kek.h"
#include "common/etcd/etcd_client.h"
#include "common/filesystem.h"
#include "common/metrics/http_server.h"
#include "common/metrics/registry.h"
#include "common/process_runner.h"
#include "coordinator/adminapi/admin_backend.h"
#include "coordinator/adminapi/admin_server.h"
#include "coordinator/agentapi/agent_server.h"
#include "coordinator/app/coordinator_metrics.h"
#include "coordinator/app/leader_terms.h"
#include "coordinator/app/runner_slot.h"
#include "coordinator/config/config.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/delivery/staleness.h"
#include "coordinator/dns/resolver.h"
#include "coordinator/dns/solver.h"
#include "coordinator/ha/config_agreement.h"
#include "coordinator/identity/enrollment.h"
#include "coordinator/identity/internal_ca.h"
#include "coordinator/identity/tokens.h"
#include "coordinator/issuance/issuer.h"
#include "coordinator/issuance/order_runner.h"
#include "coordinator/retention/version_pruner.h"
#include "coordinator/rollout/runner/rollout_runner.h"
#include "coordinator/scheduler/scheduler.h"
#include "coordinator/store/store.h"

namespace certfleet::app {

struct CoordinatorOptions {
  // Serve /metrics when the config names an address.
  bool metrics_server = true;
};

// A watch a replica keeps open (coordinator_ha.cc).
struct ReplicaWatch;

class Coordinator {
 public:
  // Fails with the first problem met, naming it: an unreadable or unsafe
  // key-encryption key, a store that cannot be opened, a metrics address in
  // use, a trust bundle that cannot be read.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(
      const config::CoordinatorConfig& config, Clock& clock,
      CoordinatorOptions options = {});
  ~Coordinator();

  // Abandons orders of certificates no longer configured, then runs the
  // scheduler until `ctx` is cancelled. With store.type etcd, one of several
  // replicas: serves agents and the admin API all along, and issues and
  // drives rollouts only while elected leader (coordinator_ha.cc).
  absl::Status Serve(const Context& ctx);
  // The same sweep and a single scheduler pass.
  absl::StatusOr<scheduler::PassReport> RunOnce(const Context& ctx);

  store::Store& store() { return *store_; }
  metrics::Registry& registry() { return registry_; }
  // The bound metrics port, 0 when not serving metrics.
  int metrics_port() const;
  // ACME HTTP exchanges so far, all issuers together.
  uint64_t acme_exchanges() const;
  // The agent service's port, 0 when not serving agents.
  int agent_port() const;
  // The admin API's port, 0 when not serving it.
  int admin_port() const;
  // The hub (null when not serving agents), for tests and benchmarks.
  delivery::AgentHub* hub() { return hub_.get(); }
  // The rollout runner (null when not serving agents, or not leading).
  rollout::RolloutRunner* rollouts() { return runner_slot_.Get().get(); }
  // This replica leads (always true on a single coordinator).
  bool leading() const;

 private:
  Coordinator(const config::CoordinatorConfig& config, Clock& clock);

  const config::CoordinatorConfig config_;
  Clock& clock_;
  LocalFilesystem fs_;
  SubprocessRunner processes_;
  metrics::Registry registry_;
  CoordinatorMetrics metrics_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  std::optional<crypto::Kek> kek_;
  // Several coordinators (store.type etcd; coordinator_ha.cc): the client
  // the EtcdStore, the election and the presence use, so declared (and
  // destroyed) around them all.
  std::unique_ptr<etcd::EtcdClient> etcd_client_;
  std::unique_ptr<store::Store> store_;
  std::vector<std::unique_ptr<acme::AcmeObserver>> acme_observers_;
  std::map<std::string, std::unique_ptr<issuance::Issuer>> issuers_;
  std::unique_ptr<dns::DnsResolver> resolver_;
  std::unique_ptr<dns::DnsResolver> authoritative_resolver_;
  std::unique_ptr<dns::Dns01Solver> solver_;
  std::unique_ptr<issuance::OrderRunner> runner_;
  std::unique_ptr<retention::VersionPruner> pruner_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  // The internal CA and the tokens: for the agent service and the admin
  // API (when either is configured).
  std::unique_ptr<identity::InternalCa> internal_ca_;
  std::unique_ptr<identity::BootstrapTokens> tokens_;
  // The agent service (when agents.listen is set).
  std::unique_ptr<identity::EnrollmentService> enrollment_;
  std::unique_ptr<delivery::Assignments> assignments_;
  // Who is stale (agents.stale_after), shared by the rollouts and the admin
  // API.
  std::unique_ptr<delivery::Staleness> staleness_;
  std::unique_ptr<delivery::AgentHub> hub_;
  // New versions reach agents through it (rollouts in waves); empty on a
  // replica that does not lead.
  RunnerSlot runner_slot_;
  std::unique_ptr<agentapi::AgentServer> agent_server_;
  // The admin API (when admin.listen is set).
  std::unique_ptr<adminapi::AdminBackend> admin_backend_;
  std::unique_ptr<adminapi::AdminServer> admin_server_;
  // Forwards issuance events to the metrics and to the hub.
  std::unique_ptr<issuance::IssuanceObserver> issuance_observer_;

  store::EtcdStore* etcd_store_ = nullptr;  // store_, when on etcd
  // This replica lost its etcd session (Presence): not ready, agents sent
  // elsewhere.
  std::atomic<bool> cut_off_{false};
  std::unique_ptr<LeaderTerms> leadership_;
  std::unique_ptr<ha::LeaderElection> election_;
  // Whether every replica runs this configuration (several coordinators).
  std::unique_ptr<ha::ConfigAgreement> agreement_;
  std::string election_replica_;

  absl::Status LoadInternalCa();
  absl::Status StartAgentService();
  absl::Status StartAdminService();
  // The rollout runner: created, resumed, started, put in the slot. With
  // several coordinators `term` is the leadership term it acts in: it stops
  // acting the moment the term ends.
  absl::Status StartRollouts(
      std::shared_ptr<const Cancellation> term = nullptr);
  void StopRollouts();
  // The election of this replica (store on etcd); started by Serve.
  absl::Status StartElection();
  absl::Status ServeReplica(const Context& ctx);
  // What the replicas publish, read by the presence thread: a change in
  // which of them run another configuration is logged, audited and counted.
  void OnReplicas(const std::vector<store::ReplicaRecord>& replicas);
  // What this replica publishes about itself.
  store::ReplicaRecord ReplicaSelf() const;
  // (Re)creates the replica's watches that are not open: target states (an
  // agent's report made through another replica wakes the rollouts),
  // desired versions (what the leader chose reaches the stream held here)
  // and agent records (a disable, removal, relabel or re-enrollment made
  // through another replica reaches the stream held here).
  void KeepWatching(ReplicaWatch* targets, ReplicaWatch* desired,
                    ReplicaWatch* agents);
  // The agents connected to any replica: this hub's, and with etcd those
  // other replicas publish (ha/presence.h).
  std::set<std::string> PresentAgents() const;
};

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_COORDINATOR_H_
