// EtcdStore: set-up, fencing, accounts, certificate states, versions and
// orders. Agents, tokens, the internal CA and target states are in
// etcd_fleet_store.cc; rollouts and the audit log in etcd_rollout_store.cc.
#include "coordinator/store/etcd_store.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/log.h"
#include "coordinator/store/etcd_store_impl.h"

namespace certfleet::store {

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(
    EtcdStoreOptions options) {
  if (options.client == nullptr) {
    return absl::InvalidArgumentError("etcd store: no etcd client");
  }
  if (options.prefix.size() < 2 || !absl::StartsWith(options.prefix, "/") ||
      !absl::EndsWith(options.prefix, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd store: prefix \"", options.prefix,
                     "\" must start and end with \"/\""));
  }
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(options)));
}

EtcdStore::EtcdStore(EtcdStoreOptions options)
    : options_(std::move(options)), client_(*options_.client) {}

void EtcdStore::SetFence(std::optional<EtcdFence> fence) {
  absl::MutexLock lock(&mu_);
  fence_ = std::move(fence);
}

bool EtcdStore::FenceHolds() {
  std::optional<EtcdFence> fence;
  {
    absl::MutexLock lock(&mu_);
    fence = fence_;
  }
  if (!fence.has_value()) return false;
  absl::StatusOr<etcd::GetResult> got = client_.Get(fence->key, Call());
  return got.ok() && got->kv.has_value() &&
         got->kv->create_revision == fence->create_revision;
}

Context EtcdStore::Call() const {
  return Context::Background().WithDeadline(absl::Now() +
                                            options_.request_timeout);
}

void EtcdStore::SetFenceRefusedObserver(FenceRefusedFn observer) {
  absl::MutexLock lock(&mu_);
  fence_refused_ = std::move(observer);
}

void EtcdStore::FenceRefused(const std::string& op, absl::string_view reason) {
  // A warning each time: a deposed leader that still writes is the fault
  // fencing exists for, and it should be rare enough to read.
  CF_LOG_WARN("store: fenced write refused (%s): %s", reason, op);
  FenceRefusedFn observer;
  {
    absl::MutexLock lock(&mu_);
    observer = fence_refused_;
  }
  if (observer) observer(op, reason);
}

absl::StatusOr<etcd::TxnResult> EtcdStore::Txn(etcd::TxnRequest txn,
                                               bool leader_only,
                                               const std::string& op) {
  std::optional<EtcdFence> fence;
  if (leader_only && options_.fenced) {
    {
      absl::MutexLock lock(&mu_);
      fence = fence_;
    }
    if (!fence.has_value()) {
      FenceRefused(op, "not_leader");
      return absl::FailedPreconditionError(
          absl::StrCat("store: ", op, ": this coordinator is not the leader"));
    }
    // First, so that nothing of a deposed leader's transaction applies;
    // the failure branch reads the key to tell "not the leader" from the
    // caller's own compares failing.
    txn.compares.insert(
        txn.compares.begin(),
        etcd::Compare::CreateRevision(fence->key, etcd::CompareOp::kEqual,
                                      fence->create_revision));
    txn.failure.push_back(etcd::TxnOp::Get(fence->key));
  }
  absl::StatusOr<etcd::TxnResult> result = client_.Txn(txn, Call());
  if (!result.ok()) return StoreError(result.status(), op);
  if (fence.has_value() && !result->succeeded) {
    const etcd::TxnOpResult leader = std::move(result->responses.back());
    result->responses.pop_back();
    if (leader.kvs.empty() ||
        leader.kvs.front().create_revision != fence->create_revision) {
      FenceRefused(op, "deposed");
      return absl::FailedPreconditionError(absl::StrCat(
          "store: ", op, ": no longer the leader (", fence->key,
          " is no longer the key this coordinator created at revision ",
          fence->create_revision, ")"));
    }
  }
  return result;
}

// --- Accounts and certificate states ---

absl::StatusOr<std::optional<AccountRecord>> EtcdStore::GetAccount(
    const std::string& issuer) {
  return GetRecord<AccountRecord>("accounts/" + issuer,
                                  "get account " + issuer);
}

absl::Status EtcdStore::PutAccount(const AccountRecord& account) {
  return PutRecord("accounts/" + account.issuer, account, /*leader_only=*/true,
                   "put account " + account.issuer);
}

absl::StatusOr<std::vector<AccountRecord>> EtcdStore::ListAccounts() {
  ASSIGN_OR_RETURN(auto all,
                   ListRecords<AccountRecord>("accounts/", "list accounts"));
  return RecordsOnly(std::move(all));
}

absl::StatusOr<std::optional<CertificateState>> EtcdStore::GetCertificateState(
    const std::string& name) {
  return GetRecord<CertificateState>("certs/" + name,
                                     "get certificate state " + name);
}

absl::Status EtcdStore::PutCertificateState(const CertificateState& state) {
  return PutRecord("certs/" + state.name, state, /*leader_only=*/true,
                   "put certificate state " + state.name);
}

absl::StatusOr<std::vector<CertificateState>>
EtcdStore::ListCertificateStates() {
  ASSIGN_OR_RETURN(auto all, ListRecords<CertificateState>(
                                 "certs/", "list certificate states"));
  return RecordsOnly(std::move(all));
}

// --- Versions ---

absl::StatusOr<EtcdStore::VersionSequence> EtcdStore::ReadVersionSequence(
    const std::string& cert_name, const std::string& op) {
  const std::string seq = Key(etcd_keys::VersionSeq(cert_name));
  absl::StatusOr<etcd::GetResult> got = client_.Get(seq, Call());
  if (!got.ok()) return StoreError(got.status(), op);
  VersionSequence out;
  if (got->kv.has_value()) {
    out.mod_revision = got->kv->mod_revision;
    if (!absl::SimpleAtoi(got->kv->value, &out.last)) {
      return absl::DataLossError(absl::StrCat("store: ", op, ": ", seq,
                                              " holds \"", got->kv->value,
                                              "\", not a number"));
    }
    return out;
  }
  // No sequence yet (versions written by an older layout): the newest
  // version there is.
  ASSIGN_OR_RETURN(std::optional<VersionRecord> latest,
                   LatestVersion(cert_name));
  if (latest.has_value()) out.last = latest->version;
  return out;
}

absl::StatusOr<int64_t> EtcdStore::AddVersion(const VersionRecord& v) {
  const std::string op = "add version " + v.cert_name;
  const std::string seq = Key(etcd_keys::VersionSeq(v.cert_name));
  for (int attempt = 0; attempt < kEtcdTxnAttempts; ++attempt) {
    if (attempt > 0) BackOffAfterConflict();
    ASSIGN_OR_RETURN(const VersionSequence sequence,
                     ReadVersionSequence(v.cert_name, op));
    VersionRecord stored = v;
    stored.version = sequence.last + 1;
    absl::StatusOr<std::string> value = EncodeRecord(stored);
    if (!value.ok()) return StoreError(value.status(), op);
    const std::string key =
        Key(etcd_keys::Version(v.cert_name, stored.version));
    // The number is free and the order goes with the version: one
    // transaction, as the contract asks.
    etcd::TxnRequest txn;
    txn.compares.push_back(etcd::Compare::ModRevision(
        seq, etcd::CompareOp::kEqual, sequence.mod_revision));
    txn.compares.push_back(etcd::Compare::Absent(key));
    txn.success.push_back(etcd::TxnOp::Put(seq, absl::StrCat(stored.version)));
    txn.success.push_back(etcd::TxnOp::Put(key, *std::move(value)));
    txn.success.push_back(etcd::TxnOp::Delete(Key("orders/" + v.cert_name)));
    ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), true, op));
    if (r.succeeded) return stored.version;
  }
  return absl::AbortedError(absl::StrCat("store: ", op, ": gave up after ",
                                         kEtcdTxnAttempts,
                                         " concurrent additions"));
}

absl::StatusOr<std::optional<VersionRecord>> EtcdStore::GetVersion(
    const std::string& cert_name, int64_t version) {
  return GetRecord<VersionRecord>(
      etcd_keys::Version(cert_name, version),
      absl::StrCat("get version ", cert_name, "#", version));
}

absl::StatusOr<std::optional<VersionRecord>> EtcdStore::LatestVersion(
    const std::string& cert_name) {
  ASSIGN_OR_RETURN(std::vector<VersionRecord> all, ListVersions(cert_name));
  if (all.empty()) return std::nullopt;
  return all.front();
}

absl::StatusOr<std::vector<VersionRecord>> EtcdStore::ListVersions(
    const std::string& cert_name) {
  ASSIGN_OR_RETURN(auto all,
                   ListRecords<VersionRecord>("versions/" + cert_name + "/",
                                              "list versions " + cert_name));
  std::vector<VersionRecord> out = RecordsOnly(std::move(all));
  std::reverse(out.begin(), out.end());  // newest first
  return out;
}

absl::StatusOr<std::vector<std::string>>
EtcdStore::ListVersionedCertificates() {
  // One sequence key per certificate that has versions.
  const std::string prefix = Key("version-seq/");
  absl::StatusOr<etcd::RangeResult> range =
      client_.Range(etcd::KeyRange::Prefix(prefix), 0, Call());
  if (!range.ok()) {
    return StoreError(range.status(), "list versioned certificates");
  }
  std::vector<std::string> out;
  for (const etcd::KeyValue& kv : range->kvs) {
    out.push_back(kv.key.substr(prefix.size()));
  }
  return out;
}

absl::Status EtcdStore::MarkVersionRevoked(const std::string& cert_name,
                                           int64_t version, absl::Time when,
                                           const std::string& reason) {
  const std::string op =
      absl::StrCat("mark version ", cert_name, "#", version, " revoked");
  const std::string key = Key(etcd_keys::Version(cert_name, version));
  for (int attempt = 0; attempt < kEtcdTxnAttempts; ++attempt) {
    absl::StatusOr<etcd::GetResult> got = client_.Get(key, Call());
    if (!got.ok()) return StoreError(got.status(), op);
    if (!got->kv.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("store: ", op, ": no such version"));
    }
    ASSIGN_OR_RETURN(VersionRecord v, DecodeKv<VersionRecord>(*got->kv, op));
    v.revoked_at = when;
    v.revocation_reason = reason;
    absl::StatusOr<std::string> value = EncodeRecord(v);
    if (!value.ok()) return StoreError(value.status(), op);
    etcd::TxnRequest txn;
    txn.compares.push_back(etcd::Compare::ModRevision(
        key, etcd::CompareOp::kEqual, got->kv->mod_revision));
    txn.success.push_back(etcd::TxnOp::Put(key, *std::move(value)));
    ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), true, op));
    if (r.succeeded) return absl::OkStatus();
    BackOffAfterConflict();
  }
  return absl::AbortedError(
      absl::StrCat("store: ", op, ": gave up after concurrent writes"));
}

absl::Status EtcdStore::DeleteVersion(const std::string& cert_name,
                                      int64_t version) {
  const std::string op =
      absl::StrCat("delete version ", cert_name, "#", version);
  const std::string key = Key(etcd_keys::Version(cert_name, version));
  for (int attempt = 0; attempt < kEtcdTxnAttempts; ++attempt) {
    if (attempt > 0) BackOffAfterConflict();
    absl::StatusOr<etcd::GetResult> got = client_.Get(key, Call());
    if (!got.ok()) return StoreError(got.status(), op);
    if (!got->kv.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("store: ", op, ": no such version"));
    }
    // The newest is kept: the sequence (or, in the older layout without
    // one, the newest record) must be past this number.
    ASSIGN_OR_RETURN(const VersionSequence sequence,
                     ReadVersionSequence(cert_name, op));
    if (sequence.last <= version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store: ", op, ": it is the newest version, which is kept"));
    }
    etcd::TxnRequest txn;
    txn.compares.push_back(etcd::Compare::ModRevision(
        key, etcd::CompareOp::kEqual, got->kv->mod_revision));
    txn.success.push_back(etcd::TxnOp::Delete(key));
    // Fenced: a deposed leader's pruner deletes nothing.
    ASSIGN_OR_RETURN(etcd::TxnResult r, Txn(std::move(txn), true, op));
    if (r.succeeded) return absl::OkStatus();
  }
  return absl::AbortedError(
      absl::StrCat("store: ", op, ": gave up after concurrent writes"));
}

// --- Orders ---

absl::StatusOr<std::optional<OrderRecord>> EtcdStore::GetOrder(
    const std::string& cert_name) {
  return GetRecord<OrderRecord>("orders/" + cert_name,
                                "get order " + cert_name);
}

absl::Status EtcdStore::PutOrder(const OrderRecord& order) {
  return PutRecord("orders/" + order.cert_name, order, /*leader_only=*/true,
                   "put order " + order.cert_name);
}

absl::Status EtcdStore::DeleteOrder(const std::string& cert_name) {
  etcd::TxnRequest txn;
  txn.success.push_back(etcd::TxnOp::Delete(Key("orders/" + cert_name)));
  return Txn(std::move(txn), /*leader_only=*/true, "delete order " + cert_name)
      .status();
}

absl::StatusOr<std::vector<OrderRecord>> EtcdStore::ListOrders() {
  ASSIGN_OR_RETURN(auto all,
                   ListRecords<OrderRecord>("orders/", "list orders"));
  return RecordsOnly(std::move(all));
}

}  // namespace certfleet::store
