// EtcdStore: agents, bootstrap tokens, the internal CA and target states —
// written by every replica (they serve agents), never fenced.
#include <map>
#include <set>
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

std::vector<absl::Status> EtcdStore::WriteInTransactions(
    std::vector<etcd::TxnOp> ops, std::vector<absl::Status> statuses,
    bool leader_only, const std::string& op) {
  size_t i = 0;
  while (i < ops.size()) {
    etcd::TxnRequest txn;
    std::set<std::string> keys;
    std::vector<size_t> in;
    for (; i < ops.size() && in.size() < kMaxTxnOps; ++i) {
      if (!statuses[i].ok()) continue;
      if (!keys.insert(ops[i].range.key).second) break;  // the next one
      in.push_back(i);
      txn.success.push_back(std::move(ops[i]));
    }
    if (in.empty()) continue;
    const absl::Status status =
        Txn(std::move(txn), leader_only,
            absl::StrCat(op, " (", in.size(), " in one transaction)"))
            .status();
    for (size_t j : in) statuses[j] = status;
  }
  return statuses;
}

std::vector<absl::Status> EtcdStore::PutTargetStates(
    const std::vector<TargetStateRecord>& states) {
  std::vector<etcd::TxnOp> ops;
  std::vector<absl::Status> statuses;
  for (const TargetStateRecord& s : states) {
    TargetStateRecord reported = s;
    reported.desired_version_id.clear();  // desired/<agent>/<target> says it
    absl::StatusOr<std::string> value = EncodeRecord(reported);
    statuses.push_back(
        value.ok() ? absl::OkStatus()
                   : StoreError(value.status(),
                                absl::StrCat("put target state ", s.agent_id,
                                             "/", s.target)));
    ops.push_back(
        etcd::TxnOp::Put(Key("targets/" + s.agent_id + "/" + s.target),
                         value.ok() ? *std::move(value) : ""));
  }
  return WriteInTransactions(std::move(ops), std::move(statuses),
                             /*leader_only=*/false, "put target states");
}

std::vector<absl::Status> EtcdStore::PutDesiredVersions(
    const std::vector<TargetStateRecord>& desired) {
  // Setting a version is fenced, forgetting one is not (PutDesiredVersion):
  // each run of the one or the other in its own transactions, in order.
  std::vector<absl::Status> out(desired.size());
  size_t i = 0;
  while (i < desired.size()) {
    const bool set = !desired[i].desired_version_id.empty();
    std::vector<etcd::TxnOp> ops;
    std::vector<absl::Status> statuses;
    std::vector<size_t> at;
    for (; i < desired.size() && !desired[i].desired_version_id.empty() == set;
         ++i) {
      const TargetStateRecord& d = desired[i];
      const std::string key = Key("desired/" + d.agent_id + "/" + d.target);
      at.push_back(i);
      if (!set) {
        ops.push_back(etcd::TxnOp::Delete(key));
        statuses.push_back(absl::OkStatus());
        continue;
      }
      absl::StatusOr<std::string> value = EncodeRecord(
          TargetStateRecord{.agent_id = d.agent_id,
                            .target = d.target,
                            .certificate = d.certificate,
                            .desired_version_id = d.desired_version_id});
      statuses.push_back(
          value.ok() ? absl::OkStatus()
                     : StoreError(value.status(),
                                  absl::StrCat("put desired version of ",
                                               d.agent_id, "/", d.target)));
      ops.push_back(etcd::TxnOp::Put(key, value.ok() ? *std::move(value) : ""));
    }
    statuses = WriteInTransactions(
        std::move(ops), std::move(statuses), /*leader_only=*/set,
        set ? "put desired versions" : "forget desired versions");
    for (size_t j = 0; j < at.size(); ++j) out[at[j]] = statuses[j];
  }
  return out;
}

std::vector<absl::Status> EtcdStore::RecordLastSeen(
    const std::vector<LastSeen>& seen) {
  std::vector<absl::Status> out(seen.size());
  size_t i = 0;
  while (i < seen.size()) {
    std::vector<size_t> chunk;
    std::set<std::string> agents;
    for (; i < seen.size() && chunk.size() < kMaxTxnOps; ++i) {
      if (!agents.insert(seen[i].agent_id).second) break;  // the next one
      chunk.push_back(i);
    }
    RecordLastSeenChunk(seen, chunk, out);
  }
  return out;
}

void EtcdStore::RecordLastSeenChunk(const std::vector<LastSeen>& seen,
                                    const std::vector<size_t>& chunk,
                                    std::vector<absl::Status>& out) {
  const std::string op =
      absl::StrCat("record when ", chunk.size(), " agent(s) were last seen");
  // One read of every record, then one write of those that move, each on
  // the revision read.
  etcd::TxnRequest read;
  for (size_t i : chunk) {
    read.success.push_back(etcd::TxnOp::Get(Key("agents/" + seen[i].agent_id)));
  }
  absl::StatusOr<etcd::TxnResult> got = Txn(std::move(read), false, op);
  if (!got.ok()) {
    for (size_t i : chunk) out[i] = got.status();
    return;
  }
  etcd::TxnRequest write;
  std::vector<size_t> writing;
  for (size_t j = 0; j < chunk.size(); ++j) {
    const size_t i = chunk[j];
    if (j >= got->responses.size() || got->responses[j].kvs.empty()) {
      out[i] = UpdateAgentNotFound(seen[i].agent_id);
      continue;
    }
    const etcd::KeyValue& kv = got->responses[j].kvs.front();
    absl::StatusOr<AgentRecord> agent = DecodeKv<AgentRecord>(kv, op);
    if (!agent.ok()) {
      out[i] = agent.status();
      continue;
    }
    if (agent->last_seen_at >= seen[i].at) continue;  // seen later already
    agent->last_seen_at = seen[i].at;
    absl::StatusOr<std::string> value = EncodeRecord(*agent);
    if (!value.ok()) {
      out[i] = StoreError(value.status(), op);
      continue;
    }
    write.compares.push_back(etcd::Compare::ModRevision(
        kv.key, etcd::CompareOp::kEqual, kv.mod_revision));
    write.success.push_back(etcd::TxnOp::Put(kv.key, *std::move(value)));
    writing.push_back(i);
  }
  if (writing.empty()) return;
  absl::StatusOr<etcd::TxnResult> wrote = Txn(std::move(write), false, op);
  if (wrote.ok() && wrote->succeeded) return;
  if (!wrote.ok()) {
    for (size_t i : writing) out[i] = wrote.status();
    return;
  }
  // Another replica wrote one of them since the read (a renewal, a
  // disable): each on its own, re-read and compared.
  for (size_t i : writing) {
    out[i] = UpdateAgent(seen[i].agent_id, [at = seen[i].at](AgentRecord& a) {
               if (a.last_seen_at < at) a.last_seen_at = at;
               return absl::OkStatus();
             }).status();
  }
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
