// The Store on etcd v3, shared by several coordinators (store.type etcd).
// One key per record under a prefix, values encoded by record_codec.h:
//
//   <prefix>accounts/<issuer>            <prefix>agents/<id>
//   <prefix>certs/<name>                 <prefix>tokens/<id>
//   <prefix>versions/<cert>/<%020d n>    <prefix>internal-ca
//   <prefix>orders/<cert>                <prefix>targets/<agent>/<target>
//   <prefix>rollouts/<id>                <prefix>active-rollouts/<cert> → id
//   <prefix>desired/<agent>/<target>     (what the target should serve)
//   <prefix>audit/<%020d id>             <prefix>audit-seq
//   <prefix>presence/<agent>/<replica>   <prefix>replicas/<replica>  (leased)
//
// Every method that must be atomic is one etcd transaction, retried from a
// fresh read when another writer won a compare: AddVersion (the next number
// and the order's removal), ConsumeToken, UpdateAgent (compare-and-set on
// the agent's mod_revision), CreateInternalCaIfAbsent,
// CreateRollout (the active index says "one unfinished rollout per
// certificate"), SaveRollout (compare-and-set on the record's mod_revision),
// AppendAudit (the sequence key).
//
// Fencing: in HA mode only the leader may write what only the leader
// decides — accounts, certificate states, versions, orders, rollouts, and
// what each target should serve (desired/, kept apart from the agents'
// reports under targets/ for this reason). With
// `fenced`, those writes carry a compare that the leadership key still has
// the create_revision this coordinator won it with (SetFence); a deposed
// leader's write fails with kFailedPrecondition instead of landing. Agents,
// tokens, target states, the internal CA and the audit log are written by
// every replica (they serve agents and the admin API) and are never fenced.
//
//   ASSIGN_OR_RETURN(auto client, etcd::EtcdClient::Create({...}));
//   ASSIGN_OR_RETURN(auto store, EtcdStore::Open(
//       {.client = client.get(), .prefix = "/certfleet/", .fenced = true}));
//   store->SetFence(EtcdFence{"/certfleet/leader", won_at_revision});
#ifndef CERTFLEET_COORDINATOR_STORE_ETCD_STORE_H_
#define CERTFLEET_COORDINATOR_STORE_ETCD_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/context.h"
#include "common/etcd/etcd_client.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// The leadership key and the create_revision it had when this coordinator
// won the election.
struct EtcdFence {
  std::string key;
  int64_t create_revision = 0;
};

// What a replica publishes about itself (<prefix>replicas/<name>, on its
// presence lease): so every replica and `certfleetctl status` can see that
// the cluster runs one configuration.
struct ReplicaRecord {
  std::string replica;
  std::string version;        // the coordinator's software version
  std::string config_digest;  // config::ClusterDigest of its coordinator.yaml
  std::vector<std::string> certificates;  // configured, sorted
  absl::Time started_at = absl::InfinitePast();

  bool operator==(const ReplicaRecord&) const = default;
};

struct EtcdStoreOptions {
  etcd::EtcdClient* client = nullptr;  // must outlive the store
  // Starts and ends with "/".
  std::string prefix = "/certfleet/";
  // Each etcd call gives up after this.
  absl::Duration request_timeout = absl::Seconds(5);
  // Leader-only writes need a fence (SetFence); without one they fail with
  // kFailedPrecondition. Off for a single coordinator and in tests.
  bool fenced = false;
};

class EtcdStore : public Store {
 public:
  // kInvalidArgument for a missing client or a bad prefix. Does not talk to
  // etcd.
  static absl::StatusOr<std::unique_ptr<EtcdStore>> Open(
      EtcdStoreOptions options);

  // The fence leader-only writes carry from now on; nullopt: none (a
  // follower, or a leader that stepped down).
  void SetFence(std::optional<EtcdFence> fence);
  // Whether the fence holds now: a linearizable read finds the leadership
  // key with the fence's create_revision. False without a fence, when
  // another replica leads, or when etcd cannot be asked — for effects that
  // are not etcd writes (a DNS record removed, an authorization
  // deactivated) and so cannot carry the fence themselves.
  bool FenceHolds();
  // Told of every leader-only write the fence refused, with the operation
  // and why: "not_leader" (no fence: this replica does not lead) or
  // "deposed" (another replica leads since; the write changed nothing).
  // For metrics; called on the writer's thread. Set before use.
  using FenceRefusedFn =
      std::function<void(absl::string_view op, absl::string_view reason)>;
  void SetFenceRefusedObserver(FenceRefusedFn observer);

  // --- For replicas (etcd_replica_store.cc) ---
  // Calls `on_change` with every target state written from now on, by any
  // replica, on the watch's thread, until the watch is cancelled. A watch
  // that ends (compaction, etcd cancelled it) is logged; the caller
  // re-creates it.
  absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>> WatchTargetStates(
      std::function<void(const TargetStateRecord&)> on_change,
      std::function<void(const absl::Status&)> on_end);
  // Calls `on_change` with every desired version the leader sets from now
  // on (records with agent_id, target, certificate and desired_version_id);
  // like WatchTargetStates. Not called when one is forgotten.
  absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>> WatchDesiredVersions(
      std::function<void(const TargetStateRecord&)> on_change,
      std::function<void(const absl::Status&)> on_end);
  // Calls `on_change` with every agent record written from now on (a
  // status, labels or identity serial changed by another replica), on the
  // watch's thread, until the watch is cancelled; like WatchTargetStates.
  absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>> WatchAgents(
      std::function<void(const AgentRecord&)> on_change,
      std::function<void(const absl::Status&)> on_end);
  // Agent `agent_id` holds a stream with `replica`:
  // <prefix>presence/<agent>/<replica>, attached to `lease_id`, so it goes
  // when the replica's lease does. One key per replica: a replica coming
  // back from a pause or a partition, still believing it holds a stream the
  // agent has since opened elsewhere, writes and clears only its own key,
  // never the key of the replica the agent moved to.
  absl::Status SetPresence(const std::string& agent_id,
                           const std::string& replica, int64_t lease_id);
  absl::Status ClearPresence(const std::string& agent_id,
                             const std::string& replica);
  // The same for many agents, in transactions of at most kMaxTxnOps keys:
  // a replica that thousands of agents connect to at once publishes them in
  // a few dozen writes, not one each. One status per agent (its
  // transaction's), in the order given.
  std::vector<absl::Status> SetPresences(
      const std::vector<std::string>& agent_ids, const std::string& replica,
      int64_t lease_id);
  std::vector<absl::Status> ClearPresences(
      const std::vector<std::string>& agent_ids, const std::string& replica);
  // Publishes `record` at <prefix>replicas/<record.replica>, attached to
  // `lease_id` (it goes with the replica).
  absl::Status PublishReplica(const ReplicaRecord& record, int64_t lease_id);
  // Every replica that publishes now, sorted by name. A record that cannot
  // be read is skipped and logged (a newer replica's format).
  absl::StatusOr<std::vector<ReplicaRecord>> ListReplicas();
  // The agents connected to any replica (with a key of any replica).
  absl::StatusOr<std::set<std::string>> PresentAgents();

  // --- For `certfleet-coordinator migrate` (etcd_replica_store.cc) ---
  // The number of keys under the prefix (0: a fresh installation).
  absl::StatusOr<int64_t> KeyCount();
  // Writes `rollout` as it is (id, revision, finished), and its active
  // index when unfinished: a copy, not a new rollout.
  absl::Status ImportRollout(const RolloutRecord& rollout);
  // Writes `record` under its own id and moves the audit sequence past it.
  absl::Status ImportAudit(const AuditRecord& record);

  // "<prefix>" + `suffix`: the store's keys, for watches.
  std::string Key(const std::string& suffix) const {
    return options_.prefix + suffix;
  }

  absl::StatusOr<std::optional<AccountRecord>> GetAccount(
      const std::string& issuer) override;
  absl::Status PutAccount(const AccountRecord& account) override;
  absl::StatusOr<std::vector<AccountRecord>> ListAccounts() override;
  absl::StatusOr<std::optional<CertificateState>> GetCertificateState(
      const std::string& name) override;
  absl::Status PutCertificateState(const CertificateState& state) override;
  absl::StatusOr<std::vector<CertificateState>> ListCertificateStates()
      override;
  absl::StatusOr<int64_t> AddVersion(const VersionRecord& v) override;
  absl::StatusOr<std::optional<VersionRecord>> GetVersion(
      const std::string& cert_name, int64_t version) override;
  absl::StatusOr<std::optional<VersionRecord>> LatestVersion(
      const std::string& cert_name) override;
  absl::StatusOr<std::vector<VersionRecord>> ListVersions(
      const std::string& cert_name) override;
  absl::StatusOr<std::vector<std::string>> ListVersionedCertificates() override;
  absl::Status MarkVersionRevoked(const std::string& cert_name, int64_t version,
                                  absl::Time when,
                                  const std::string& reason) override;
  absl::Status DeleteVersion(const std::string& cert_name,
                             int64_t version) override;
  absl::StatusOr<std::optional<OrderRecord>> GetOrder(
      const std::string& cert_name) override;
  absl::Status PutOrder(const OrderRecord& order) override;
  absl::Status DeleteOrder(const std::string& cert_name) override;
  absl::StatusOr<std::vector<OrderRecord>> ListOrders() override;

  // etcd_fleet_store.cc
  absl::Status PutAgent(const AgentRecord& agent) override;
  absl::StatusOr<std::optional<AgentRecord>> GetAgent(
      const std::string& id) override;
  absl::StatusOr<std::vector<AgentRecord>> ListAgents() override;
  absl::StatusOr<AgentRecord> UpdateAgent(
      const std::string& id,
      const std::function<absl::Status(AgentRecord&)>& mutate) override;
  absl::Status PutToken(const TokenRecord& token) override;
  absl::StatusOr<std::optional<TokenRecord>> GetToken(
      const std::string& id) override;
  absl::StatusOr<std::vector<TokenRecord>> ListTokens() override;
  absl::Status ConsumeToken(const std::string& id, const std::string& agent_id,
                            absl::Time now) override;
  absl::StatusOr<std::optional<InternalCaRecord>> GetInternalCa() override;
  absl::StatusOr<InternalCaRecord> CreateInternalCaIfAbsent(
      const InternalCaRecord& ca) override;
  absl::Status PutTargetState(const TargetStateRecord& state) override;
  absl::Status PutDesiredVersion(const std::string& agent_id,
                                 const std::string& target,
                                 const std::string& certificate,
                                 const std::string& version_id) override;
  absl::StatusOr<std::vector<TargetStateRecord>> ListTargetStates(
      const std::string& agent_id) override;
  absl::StatusOr<std::vector<TargetStateRecord>> ListAllTargetStates() override;
  // Transactions of at most kMaxTxnOps operations: reports unfenced, set
  // versions fenced (forgotten ones not), last-seen times as one read and
  // one compare-and-set write per transaction (each agent on its own
  // through UpdateAgent when another writer got in between).
  std::vector<absl::Status> PutTargetStates(
      const std::vector<TargetStateRecord>& states) override;
  std::vector<absl::Status> PutDesiredVersions(
      const std::vector<TargetStateRecord>& desired) override;
  std::vector<absl::Status> RecordLastSeen(
      const std::vector<LastSeen>& seen) override;
  // etcd's default limit on the operations (and on the compares) of one
  // transaction (--max-txn-ops).
  static constexpr size_t kMaxTxnOps = 128;

  // etcd_rollout_store.cc
  absl::StatusOr<RolloutRecord> CreateRollout(
      const RolloutRecord& rollout) override;
  absl::StatusOr<int64_t> SaveRollout(const RolloutRecord& rollout) override;
  absl::StatusOr<std::optional<RolloutRecord>> GetRollout(
      const std::string& id) override;
  absl::StatusOr<std::optional<RolloutRecord>> ActiveRollout(
      const std::string& certificate) override;
  absl::StatusOr<std::vector<RolloutRecord>> ListRollouts(
      const RolloutFilter& filter) override;
  absl::StatusOr<int64_t> AppendAudit(const AuditRecord& record) override;
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(
      const AuditFilter& filter) override;

 private:
  explicit EtcdStore(EtcdStoreOptions options);

  Context Call() const;
  // The record at `suffix`, decoded; nullopt when absent. Errors annotated
  // with `op`.
  template <typename Record>
  absl::StatusOr<std::optional<Record>> GetRecord(const std::string& suffix,
                                                  const std::string& op);
  // Every record under `suffix` (a prefix), decoded, in key order, with
  // the keys' create_revision (creation order) alongside.
  template <typename Record>
  absl::StatusOr<std::vector<std::pair<Record, int64_t>>> ListRecords(
      const std::string& suffix, const std::string& op);
  // Puts `record` at `suffix`, fenced when `leader_only`.
  template <typename Record>
  absl::Status PutRecord(const std::string& suffix, const Record& record,
                         bool leader_only, const std::string& op);
  // Runs `txn` with the fence's compare added first when `leader_only`.
  // kFailedPrecondition when the fence is required but unset, or when the
  // transaction failed on the fence (not on the caller's compares; the
  // result's `succeeded` is false then).
  absl::StatusOr<etcd::TxnResult> Txn(etcd::TxnRequest txn, bool leader_only,
                                      const std::string& op);
  // The newest number `cert_name` was given and the sequence key's
  // mod_revision (0 without one: the older layout, where the newest record
  // tells the number).
  struct VersionSequence {
    int64_t last = 0;
    int64_t mod_revision = 0;
  };
  absl::StatusOr<VersionSequence> ReadVersionSequence(
      const std::string& cert_name, const std::string& op);
  // Runs `ops` in transactions of at most kMaxTxnOps operations, never one
  // key twice in a transaction (etcd refuses that); each op's status is its
  // transaction's. An op whose status in `statuses` is already an error is
  // left out. Fenced when `leader_only`.
  std::vector<absl::Status> WriteInTransactions(
      std::vector<etcd::TxnOp> ops, std::vector<absl::Status> statuses,
      bool leader_only, const std::string& op);
  // RecordLastSeen for `chunk` (indices into `seen`, distinct agents, at
  // most kMaxTxnOps), into `out`.
  void RecordLastSeenChunk(const std::vector<LastSeen>& seen,
                           const std::vector<size_t>& chunk,
                           std::vector<absl::Status>& out);
  // The target states whose keys start with `agent_prefix` ("" for all, or
  // "<agent>/"): the agents' reports merged with the leader's decisions.
  absl::StatusOr<std::vector<TargetStateRecord>> MergedTargetStates(
      const std::string& agent_prefix, const std::string& op);
  // Logs a refused leader-only write and tells the observer.
  void FenceRefused(const std::string& op, absl::string_view reason);

  const EtcdStoreOptions options_;
  etcd::EtcdClient& client_;
  mutable absl::Mutex mu_;
  std::optional<EtcdFence> fence_ ABSL_GUARDED_BY(mu_);
  FenceRefusedFn fence_refused_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_ETCD_STORE_H_
