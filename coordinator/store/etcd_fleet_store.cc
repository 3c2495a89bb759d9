// EtcdStore: agents, bootstrap tokens, the internal CA and target states —
// written by every replica (they serve agents), never fenced.
#include <map>
#include <utility>

#include "coordinator/store/etcd_store.h"
#include "coordinator/store/etcd_store_impl.h"
#include "coordinator/store/store_errors.h"

namespace certfleet::store {

absl::Status EtcdStore::PutAgent(const AgentRecord& agent) {
  return PutRecord("agents/" + agent.id, agent, /*leader_only=*/false,
                   "put agent " + agent.id);
}

absl::StatusOr<std::optional<AgentRecord>> EtcdStore::GetAgent(
    const std::string& id) {
  return GetRecord<AgentRecord>("agents/" + id, "get agent " + id);
}

absl::StatusOr<std::vector<AgentRecord>> EtcdStore::ListAgents() {
  ASSIGN_OR_RETURN(auto all,
                   ListRecords<AgentRecord>("agents/", "list agents"));
  return RecordsOnly(std::move(all));
}

absl::StatusOr<AgentRecord> EtcdStore::UpdateAgent(
    const std::string& id,
    const std::function<absl::Status(AgentRecord&)>& mutate) {
  const std::string op = "update agent " + id;
  const std::string key = Key("agents/" + id);
  for (int attempt = 0; attempt < kEtcdTxnAttempts; ++attempt) {
    absl::StatusOr<etcd::GetResult> got = client_.Get(key, Call());
    if (!got.ok()) return StoreError(got.status(), op);
    if (!got->kv.has_value()) return UpdateAgentNotFound(id);
    ASSIGN_OR_RETURN(AgentRecord agent, DecodeKv<AgentRecord>(*got->kv, op));
    RETURN_IF_ERROR(ApplyAgentUpdate(id, agent, mutate));
    absl::StatusOr<std::string> value = EncodeRecord(agent);
    if (!value.ok()) return StoreError(value.status(), op);
    // Compare-and-set on the revision read: a replica that wrote the agent
    // meanwhile (another renewal, a disable) makes this one re-read and
    // decide again on what it wrote.
    etcd::TxnRequest txn;
    txn.compares.push_back(etcd::Compare::ModRevision(
        key, etcd::CompareOp::kEqual, got->kv->mod_revision));
    txn.success.push_back(etcd::TxnOp::Put(key, *std::move(value)));
    ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), false, op));
    if (r.succeeded) return agent;
    BackOffAfterConflict();
  }
  return absl::AbortedError(
      absl::StrCat("store: ", op, ": gave up after concurrent writes"));
}

absl::Status EtcdStore::PutToken(const TokenRecord& token) {
  return PutRecord("tokens/" + token.id, token, /*leader_only=*/false,
                   "put token " + token.id);
}

absl::StatusOr<std::optional<TokenRecord>> EtcdStore::GetToken(
    const std::string& id) {
  return GetRecord<TokenRecord>("tokens/" + id, "get token " + id);
}

absl::StatusOr<std::vector<TokenRecord>> EtcdStore::ListTokens() {
  ASSIGN_OR_RETURN(auto all,
                   ListRecords<TokenRecord>("tokens/", "list tokens"));
  return RecordsOnly(std::move(all));
}

absl::Status EtcdStore::ConsumeToken(const std::string& id,
                                     const std::string& agent_id,
                                     absl::Time now) {
  RETURN_IF_ERROR(CheckConsumeTime(id, now));
  const std::string op = "consume token " + id;
  const std::string key = Key("tokens/" + id);
  for (int attempt = 0; attempt < kEtcdTxnAttempts; ++attempt) {
    absl::StatusOr<etcd::GetResult> got = client_.Get(key, Call());
    if (!got.ok()) return StoreError(got.status(), op);
    if (!got->kv.has_value()) return ConsumeTokenNotFound(id);
    ASSIGN_OR_RETURN(TokenRecord token, DecodeKv<TokenRecord>(*got->kv, op));
    if (token.used_at != absl::InfinitePast()) {
      return TokenAlreadyUsed(id, token.used_by, token.used_at);
    }
    token.used_at = now;
    token.used_by = agent_id;
    absl::StatusOr<std::string> value = EncodeRecord(token);
    if (!value.ok()) return StoreError(value.status(), op);
    // Compare-and-set on the revision read: of two coordinators redeeming
    // the token at once, one transaction fails and re-reads a used token.
    etcd::TxnRequest txn;
    txn.compares.push_back(etcd::Compare::ModRevision(
        key, etcd::CompareOp::kEqual, got->kv->mod_revision));
    txn.success.push_back(etcd::TxnOp::Put(key, *std::move(value)));
    ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), false, op));
    if (r.succeeded) return absl::OkStatus();
    BackOffAfterConflict();
  }
  return absl::AbortedError(
      absl::StrCat("store: ", op, ": gave up after concurrent writes"));
}

absl::StatusOr<std::optional<InternalCaRecord>> EtcdStore::GetInternalCa() {
  return GetRecord<InternalCaRecord>("internal-ca", "get internal CA");
}

absl::StatusOr<InternalCaRecord> EtcdStore::CreateInternalCaIfAbsent(
    const InternalCaRecord& ca) {
  const std::string op = "create internal CA";
  absl::StatusOr<std::string> value = EncodeRecord(ca);
  if (!value.ok()) return StoreError(value.status(), op);
  const std::string key = Key("internal-ca");
  // Written once: the first replica's CA wins, the others read it back.
  etcd::TxnRequest txn;
  txn.compares.push_back(etcd::Compare::Absent(key));
  txn.success.push_back(etcd::TxnOp::Put(key, *std::move(value)));
  txn.failure.push_back(etcd::TxnOp::Get(key));
  ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), false, op));
  if (r.succeeded) return ca;
  if (r.responses.empty() || r.responses[0].kvs.empty()) {
    return absl::InternalError(
        absl::StrCat("store: ", op, ": neither created nor found"));
  }
  return DecodeKv<InternalCaRecord>(r.responses[0].kvs[0], op);
}

absl::Status EtcdStore::PutTargetState(const TargetStateRecord& state) {
  TargetStateRecord reported = state;
  reported.desired_version_id.clear();  // desired/<agent>/<target> says it
  return PutRecord(
      "targets/" + state.agent_id + "/" + state.target, reported,
      /*leader_only=*/false,
      absl::StrCat("put target state ", state.agent_id, "/", state.target));
}

absl::Status EtcdStore::PutDesiredVersion(const std::string& agent_id,
                                          const std::string& target,
                                          const std::string& certificate,
                                          const std::string& version_id) {
  const std::string suffix = "desired/" + agent_id + "/" + target;
  const std::string op =
      absl::StrCat("put desired version of ", agent_id, "/", target);
  if (version_id.empty()) {
    // Forgetting decides nothing: no fence.
    etcd::TxnRequest txn;
    txn.success.push_back(etcd::TxnOp::Delete(Key(suffix)));
    return Txn(std::move(txn), /*leader_only=*/false, op).status();
  }
  return PutRecord(suffix,
                   TargetStateRecord{.agent_id = agent_id,
                                     .target = target,
                                     .certificate = certificate,
                                     .desired_version_id = version_id},
                   /*leader_only=*/true, op);
}

absl::StatusOr<std::vector<TargetStateRecord>> EtcdStore::MergedTargetStates(
    const std::string& agent_prefix, const std::string& op) {
  // Reports and decisions live under two prefixes; a target may have either
  // or both.
  ASSIGN_OR_RETURN(auto reported, ListRecords<TargetStateRecord>(
                                      "targets/" + agent_prefix, op));
  ASSIGN_OR_RETURN(auto desired, ListRecords<TargetStateRecord>(
                                     "desired/" + agent_prefix, op));
  std::map<std::pair<std::string, std::string>, TargetStateRecord> merged;
  for (auto& [r, created] : reported) {
    r.desired_version_id.clear();
    merged[{r.agent_id, r.target}] = std::move(r);
  }
  for (auto& [d, created] : desired) {
    TargetStateRecord& r = merged[{d.agent_id, d.target}];
    if (r.agent_id.empty()) {
      r.agent_id = d.agent_id;
      r.target = d.target;
    }
    if (r.certificate.empty()) r.certificate = d.certificate;
    r.desired_version_id = d.desired_version_id;
  }
  std::vector<TargetStateRecord> out;
  out.reserve(merged.size());
  for (auto& [key, r] : merged) out.push_back(std::move(r));
  return out;
}

absl::StatusOr<std::vector<TargetStateRecord>> EtcdStore::ListTargetStates(
    const std::string& agent_id) {
  return MergedTargetStates(agent_id + "/",
                            "list target states of " + agent_id);
}

absl::StatusOr<std::vector<TargetStateRecord>>
EtcdStore::ListAllTargetStates() {
  return MergedTargetStates("", "list target states");
}

}  // namespace certfleet::store
