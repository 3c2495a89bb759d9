// EtcdStore: rollouts (fenced: only the leader drives them) and the audit
// log (any replica appends).
#include <algorithm>

#include "absl/strings/numbers.h"
#include "coordinator/store/audit_filter.h"
#include "coordinator/store/etcd_store.h"
#include "coordinator/store/etcd_store_impl.h"
#include "coordinator/store/store_errors.h"

namespace certfleet::store {
namespace {

std::string RolloutKey(const std::string& id) { return "rollouts/" + id; }
std::string ActiveKey(const std::string& cert) {
  return "active-rollouts/" + cert;
}

}  // namespace

absl::StatusOr<RolloutRecord> EtcdStore::CreateRollout(
    const RolloutRecord& rollout) {
  RETURN_IF_ERROR(CheckNewRollout(rollout));
  const std::string op = "create rollout " + rollout.id;
  RolloutRecord stored = rollout;
  stored.revision = 1;
  absl::StatusOr<std::string> value = EncodeRecord(stored);
  if (!value.ok()) return StoreError(value.status(), op);
  const std::string key = Key(RolloutKey(rollout.id));
  const std::string active = Key(ActiveKey(rollout.certificate));
  // The active index makes "one unfinished rollout per certificate" a
  // compare etcd checks, not a scan a second coordinator could race.
  etcd::TxnRequest txn;
  txn.compares.push_back(etcd::Compare::Absent(key));
  if (!rollout.finished) txn.compares.push_back(etcd::Compare::Absent(active));
  txn.success.push_back(etcd::TxnOp::Put(key, *std::move(value)));
  if (!rollout.finished) {
    txn.success.push_back(etcd::TxnOp::Put(active, rollout.id));
  }
  txn.failure.push_back(etcd::TxnOp::Get(key));
  txn.failure.push_back(etcd::TxnOp::Get(active));
  ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), true, op));
  if (r.succeeded) return stored;
  if (!r.responses[0].kvs.empty()) return RolloutIdTaken(rollout.id);
  if (r.responses[1].kvs.empty()) {
    return absl::AbortedError(
        absl::StrCat("store: ", op, ": the active rollout changed meanwhile"));
  }
  ASSIGN_OR_RETURN(std::optional<RolloutRecord> current,
                   GetRollout(r.responses[1].kvs[0].value));
  if (!current.has_value()) {
    return absl::DataLossError(
        absl::StrCat("store: ", op, ": ", active, " names rollout ",
                     r.responses[1].kvs[0].value, ", which does not exist"));
  }
  return RolloutAlreadyActive(rollout.id, *current);
}

absl::StatusOr<int64_t> EtcdStore::SaveRollout(const RolloutRecord& rollout) {
  const std::string op = "save rollout " + rollout.id;
  const std::string key = Key(RolloutKey(rollout.id));
  absl::StatusOr<etcd::GetResult> got = client_.Get(key, Call());
  if (!got.ok()) return StoreError(got.status(), op);
  std::optional<RolloutRecord> stored;
  if (got->kv.has_value()) {
    ASSIGN_OR_RETURN(stored, DecodeKv<RolloutRecord>(*got->kv, op));
  }
  if (!stored.has_value() || stored->revision != rollout.revision ||
      stored->finished) {
    return SaveRolloutRefused(rollout, stored);
  }
  RolloutRecord next = *stored;
  next.phase = rollout.phase;
  next.updated_at = rollout.updated_at;
  next.finished = rollout.finished;
  next.state_json = rollout.state_json;
  ++next.revision;
  absl::StatusOr<std::string> value = EncodeRecord(next);
  if (!value.ok()) return StoreError(value.status(), op);
  etcd::TxnRequest txn;
  txn.compares.push_back(etcd::Compare::ModRevision(
      key, etcd::CompareOp::kEqual, got->kv->mod_revision));
  txn.success.push_back(etcd::TxnOp::Put(key, *std::move(value)));
  if (next.finished) {
    txn.success.push_back(
        etcd::TxnOp::Delete(Key(ActiveKey(next.certificate))));
  }
  ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), true, op));
  if (r.succeeded) return next.revision;
  // Another writer saved between the read and the write: say what is
  // stored now, as a fresh read would.
  ASSIGN_OR_RETURN(std::optional<RolloutRecord> now, GetRollout(rollout.id));
  return SaveRolloutRefused(rollout, now);
}

absl::StatusOr<std::optional<RolloutRecord>> EtcdStore::GetRollout(
    const std::string& id) {
  return GetRecord<RolloutRecord>(RolloutKey(id), "get rollout " + id);
}

absl::StatusOr<std::optional<RolloutRecord>> EtcdStore::ActiveRollout(
    const std::string& certificate) {
  const std::string op = "active rollout of " + certificate;
  absl::StatusOr<etcd::GetResult> got =
      client_.Get(Key(ActiveKey(certificate)), Call());
  if (!got.ok()) return StoreError(got.status(), op);
  if (!got->kv.has_value()) return std::nullopt;
  return GetRollout(got->kv->value);
}

absl::StatusOr<std::vector<RolloutRecord>> EtcdStore::ListRollouts(
    const RolloutFilter& filter) {
  RETURN_IF_ERROR(CheckLimit("list rollouts", filter.limit));
  ASSIGN_OR_RETURN(auto all,
                   ListRecords<RolloutRecord>("rollouts/", "list rollouts"));
  // Newest first: by created_at, then by creation (the key's revision).
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    if (a.first.created_at != b.first.created_at) {
      return a.first.created_at > b.first.created_at;
    }
    return a.second > b.second;
  });
  std::vector<RolloutRecord> out;
  for (auto& [r, created] : all) {
    if (!filter.certificate.empty() && r.certificate != filter.certificate) {
      continue;
    }
    if (filter.unfinished_only && r.finished) continue;
    out.push_back(std::move(r));
    if (filter.limit > 0 && out.size() == static_cast<size_t>(filter.limit)) {
      break;
    }
  }
  return out;
}

absl::StatusOr<int64_t> EtcdStore::AppendAudit(const AuditRecord& record) {
  RETURN_IF_ERROR(CheckAuditRecord(record));
  const std::string op = "append audit record";
  const std::string seq = Key("audit-seq");
  for (int attempt = 0; attempt < kEtcdTxnAttempts; ++attempt) {
    absl::StatusOr<etcd::GetResult> got = client_.Get(seq, Call());
    if (!got.ok()) return StoreError(got.status(), op);
    int64_t last = 0;
    if (got->kv.has_value() && !absl::SimpleAtoi(got->kv->value, &last)) {
      return absl::DataLossError(absl::StrCat("store: ", op, ": ", seq,
                                              " holds \"", got->kv->value,
                                              "\", not a number"));
    }
    AuditRecord stored = record;
    stored.id = last + 1;
    absl::StatusOr<std::string> value = EncodeRecord(stored);
    if (!value.ok()) return StoreError(value.status(), op);
    // The sequence key's revision makes ids dense and never reused.
    etcd::TxnRequest txn;
    txn.compares.push_back(etcd::Compare::ModRevision(
        seq, etcd::CompareOp::kEqual,
        got->kv.has_value() ? got->kv->mod_revision : 0));
    txn.success.push_back(etcd::TxnOp::Put(seq, absl::StrCat(stored.id)));
    txn.success.push_back(etcd::TxnOp::Put(
        Key("audit/" + etcd_keys::Number(stored.id)), *std::move(value)));
    ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), false, op));
    if (r.succeeded) return stored.id;
    BackOffAfterConflict();
  }
  return absl::AbortedError(
      absl::StrCat("store: ", op, ": gave up after concurrent appends"));
}

absl::StatusOr<std::vector<AuditRecord>> EtcdStore::ListAudit(
    const AuditFilter& filter) {
  RETURN_IF_ERROR(CheckLimit("list audit records", filter.limit));
  ASSIGN_OR_RETURN(auto all,
                   ListRecords<AuditRecord>("audit/", "list audit records"));
  std::vector<AuditRecord> newest_first = RecordsOnly(std::move(all));
  std::reverse(newest_first.begin(), newest_first.end());  // keys by id
  return FilterAudit(newest_first, filter);
}

}  // namespace certfleet::store
