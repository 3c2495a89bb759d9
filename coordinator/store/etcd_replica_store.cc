// EtcdStore: what replicas share beyond the records — watches on target
// states (an agent's report served elsewhere wakes the leader's rollouts)
// and desired versions (what the leader chose reaches the replica serving
// the agent) and on agents (a disable, a removal, a relabel or a new
// identity made on one replica reaches the stream on another) and presence
// (which agents are connected, to any replica).
#include "common/log.h"
#include "coordinator/store/etcd_store.h"
#include "coordinator/store/etcd_store_impl.h"
#include "nlohmann/json.hpp"

namespace certfleet::store {

namespace {

// The callback of a watch of the records under one prefix: each record put
// is decoded and handed to `on_change`; the end of the watch is logged
// (unless cancelled) and handed to `on_end`.
template <typename Record>
std::function<void(absl::StatusOr<etcd::WatchUpdate>)> RecordWatcher(
    std::string what, std::function<void(const Record&)> on_change,
    std::function<void(const absl::Status&)> on_end) {
  return [what = std::move(what), on_change = std::move(on_change),
          on_end =
              std::move(on_end)](absl::StatusOr<etcd::WatchUpdate> update) {
    if (!update.ok()) {
      if (!absl::IsCancelled(update.status())) {
        CF_LOG_WARN("watch of %s ended: %s", what, update.status().ToString());
      }
      if (on_end) on_end(update.status());
      return;
    }
    for (const etcd::WatchEvent& e : update->events) {
      if (e.type != etcd::WatchEvent::Type::kPut) continue;
      absl::StatusOr<Record> r = DecodeKv<Record>(e.kv, "watch " + what);
      if (!r.ok()) {
        CF_LOG_WARN("%s", r.status().ToString());
        continue;
      }
      on_change(*r);
    }
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>> EtcdStore::WatchTargetStates(
    std::function<void(const TargetStateRecord&)> on_change,
    std::function<void(const absl::Status&)> on_end) {
  return client_.Watch(
      {.range = etcd::KeyRange::Prefix(Key("targets/"))},
      RecordWatcher<TargetStateRecord>("target states", std::move(on_change),
                                       std::move(on_end)),
      Call());
}

absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>>
EtcdStore::WatchDesiredVersions(
    std::function<void(const TargetStateRecord&)> on_change,
    std::function<void(const absl::Status&)> on_end) {
  return client_.Watch(
      {.range = etcd::KeyRange::Prefix(Key("desired/"))},
      RecordWatcher<TargetStateRecord>("desired versions", std::move(on_change),
                                       std::move(on_end)),
      Call());
}

absl::Status EtcdStore::PublishReplica(const ReplicaRecord& record,
                                       int64_t lease_id) {
  const nlohmann::json value = {
      {"replica", record.replica},
      {"version", record.version},
      {"config_digest", record.config_digest},
      {"certificates", record.certificates},
      {"started_at", absl::ToUnixNanos(record.started_at)}};
  etcd::TxnRequest txn;
  txn.success.push_back(etcd::TxnOp::Put(Key("replicas/" + record.replica),
                                         value.dump(), lease_id));
  return Txn(std::move(txn), false, "publish replica " + record.replica)
      .status();
}

absl::StatusOr<std::vector<ReplicaRecord>> EtcdStore::ListReplicas() {
  absl::StatusOr<etcd::RangeResult> range =
      client_.Range(etcd::KeyRange::Prefix(Key("replicas/")), 0, Call());
  if (!range.ok()) return StoreError(range.status(), "list replicas");
  std::vector<ReplicaRecord> out;
  for (const etcd::KeyValue& kv : range->kvs) {
    try {
      const nlohmann::json j = nlohmann::json::parse(kv.value);
      out.push_back(
          {.replica = j.at("replica").get<std::string>(),
           .version = j.value("version", ""),
           .config_digest = j.value("config_digest", ""),
           .certificates = j.value("certificates", std::vector<std::string>()),
           .started_at = absl::FromUnixNanos(j.value("started_at", 0LL))});
    } catch (const nlohmann::json::exception& e) {
      CF_LOG_WARN("replica record %s cannot be read: %s", kv.key, e.what());
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>> EtcdStore::WatchAgents(
    std::function<void(const AgentRecord&)> on_change,
    std::function<void(const absl::Status&)> on_end) {
  return client_.Watch({.range = etcd::KeyRange::Prefix(Key("agents/"))},
                       RecordWatcher<AgentRecord>(
                           "agents", std::move(on_change), std::move(on_end)),
                       Call());
}

absl::Status EtcdStore::SetPresence(const std::string& agent_id,
                                    const std::string& replica,
                                    int64_t lease_id) {
  etcd::TxnRequest txn;
  txn.success.push_back(etcd::TxnOp::Put(
      Key("presence/" + agent_id + "/" + replica), replica, lease_id));
  return Txn(std::move(txn), false, "set presence of " + agent_id).status();
}

absl::Status EtcdStore::ClearPresence(const std::string& agent_id,
                                      const std::string& replica) {
  etcd::TxnRequest txn;
  txn.success.push_back(
      etcd::TxnOp::Delete(Key("presence/" + agent_id + "/" + replica)));
  return Txn(std::move(txn), false, "clear presence of " + agent_id).status();
}

std::vector<absl::Status> EtcdStore::SetPresences(
    const std::vector<std::string>& agent_ids, const std::string& replica,
    int64_t lease_id) {
  std::vector<etcd::TxnOp> ops;
  for (const std::string& agent_id : agent_ids) {
    ops.push_back(etcd::TxnOp::Put(Key("presence/" + agent_id + "/" + replica),
                                   replica, lease_id));
  }
  return WriteInTransactions(std::move(ops),
                             std::vector<absl::Status>(agent_ids.size()),
                             /*leader_only=*/false, "set presence");
}

std::vector<absl::Status> EtcdStore::ClearPresences(
    const std::vector<std::string>& agent_ids, const std::string& replica) {
  std::vector<etcd::TxnOp> ops;
  for (const std::string& agent_id : agent_ids) {
    ops.push_back(
        etcd::TxnOp::Delete(Key("presence/" + agent_id + "/" + replica)));
  }
  return WriteInTransactions(std::move(ops),
                             std::vector<absl::Status>(agent_ids.size()),
                             /*leader_only=*/false, "clear presence");
}

absl::StatusOr<std::set<std::string>> EtcdStore::PresentAgents() {
  const std::string prefix = Key("presence/");
  absl::StatusOr<etcd::RangeResult> range =
      client_.Range(etcd::KeyRange::Prefix(prefix), 0, Call());
  if (!range.ok()) return StoreError(range.status(), "list present agents");
  std::set<std::string> out;
  for (const etcd::KeyValue& kv : range->kvs) {
    const std::string rest = kv.key.substr(prefix.size());
    out.insert(rest.substr(0, rest.find('/')));
  }
  return out;
}

absl::StatusOr<int64_t> EtcdStore::KeyCount() {
  absl::StatusOr<etcd::RangeResult> range =
      client_.Range(etcd::KeyRange::Prefix(options_.prefix), 1, Call());
  if (!range.ok()) return StoreError(range.status(), "count keys");
  return range->count;
}

absl::Status EtcdStore::ImportRollout(const RolloutRecord& rollout) {
  const std::string op = "import rollout " + rollout.id;
  absl::StatusOr<std::string> value = EncodeRecord(rollout);
  if (!value.ok()) return StoreError(value.status(), op);
  etcd::TxnRequest txn;
  txn.success.push_back(
      etcd::TxnOp::Put(Key("rollouts/" + rollout.id), *std::move(value)));
  if (!rollout.finished) {
    txn.success.push_back(etcd::TxnOp::Put(
        Key("active-rollouts/" + rollout.certificate), rollout.id));
  }
  return Txn(std::move(txn), false, op).status();
}

absl::Status EtcdStore::ImportAudit(const AuditRecord& record) {
  const std::string op = absl::StrCat("import audit record ", record.id);
  absl::StatusOr<std::string> value = EncodeRecord(record);
  if (!value.ok()) return StoreError(value.status(), op);
  const std::string seq = Key("audit-seq");
  // Records arrive in id order; the sequence ends at the last one.
  etcd::TxnRequest txn;
  txn.success.push_back(etcd::TxnOp::Put(
      Key("audit/" + etcd_keys::Number(record.id)), *std::move(value)));
  txn.success.push_back(etcd::TxnOp::Put(seq, absl::StrCat(record.id)));
  return Txn(std::move(txn), false, op).status();
}

}  // namespace certfleet::store
