// Internal to the etcd store (etcd_store*.cc): the record helpers every part
// uses. Not part of the store's interface.
#ifndef CERTFLEET_COORDINATOR_STORE_ETCD_STORE_IMPL_H_
#define CERTFLEET_COORDINATOR_STORE_ETCD_STORE_IMPL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "coordinator/store/etcd_store.h"
#include "coordinator/store/record_codec.h"

namespace certfleet::store {
namespace etcd_keys {

// Zero-padded so key order is numeric order.
inline std::string Number(int64_t n) { return absl::StrFormat("%020d", n); }

inline std::string Version(const std::string& cert, int64_t n) {
  return absl::StrCat("versions/", cert, "/", Number(n));
}

// The last version number given out for `cert`: one key to compare on
// instead of scanning the versions.
inline std::string VersionSeq(const std::string& cert) {
  return "version-seq/" + cert;
}

}  // namespace etcd_keys

// How often an optimistic transaction is retried after losing a compare to
// another writer before giving up with kAborted. Contention is rare (one
// leader writes versions and rollouts) but must not fail a burst.
inline constexpr int kEtcdTxnAttempts = 200;

// A short random pause after losing a compare, so that writers that keep
// colliding spread out.
inline void BackOffAfterConflict() {
  thread_local absl::BitGen gen;
  absl::SleepFor(absl::Microseconds(absl::Uniform(gen, 100, 2000)));
}

inline absl::Status StoreError(const absl::Status& s, const std::string& op) {
  return Annotate(s, absl::StrCat("store: ", op));
}

template <typename Record>
absl::StatusOr<Record> DecodeKv(const etcd::KeyValue& kv,
                                const std::string& op) {
  Record r;
  if (absl::Status s = DecodeRecord(kv.value, &r); !s.ok()) {
    return StoreError(s, absl::StrCat(op, ": key ", kv.key));
  }
  return r;
}

template <typename Record>
absl::StatusOr<std::optional<Record>> EtcdStore::GetRecord(
    const std::string& suffix, const std::string& op) {
  absl::StatusOr<etcd::GetResult> got = client_.Get(Key(suffix), Call());
  if (!got.ok()) return StoreError(got.status(), op);
  if (!got->kv.has_value()) return std::nullopt;
  ASSIGN_OR_RETURN(Record r, DecodeKv<Record>(*got->kv, op));
  return r;
}

template <typename Record>
absl::StatusOr<std::vector<std::pair<Record, int64_t>>> EtcdStore::ListRecords(
    const std::string& suffix, const std::string& op) {
  absl::StatusOr<etcd::RangeResult> range =
      client_.Range(etcd::KeyRange::Prefix(Key(suffix)), 0, Call());
  if (!range.ok()) return StoreError(range.status(), op);
  std::vector<std::pair<Record, int64_t>> out;
  out.reserve(range->kvs.size());
  for (const etcd::KeyValue& kv : range->kvs) {
    ASSIGN_OR_RETURN(Record r, DecodeKv<Record>(kv, op));
    out.emplace_back(std::move(r), kv.create_revision);
  }
  return out;
}

template <typename Record>
absl::Status EtcdStore::PutRecord(const std::string& suffix,
                                  const Record& record, bool leader_only,
                                  const std::string& op) {
  absl::StatusOr<std::string> value = EncodeRecord(record);
  if (!value.ok()) return StoreError(value.status(), op);
  etcd::TxnRequest txn;
  txn.success.push_back(etcd::TxnOp::Put(Key(suffix), *std::move(value)));
  return Txn(std::move(txn), leader_only, op).status();
}

// Just the records of ListRecords.
template <typename Record>
std::vector<Record> RecordsOnly(std::vector<std::pair<Record, int64_t>> in) {
  std::vector<Record> out;
  out.reserve(in.size());
  for (auto& [r, created] : in) out.push_back(std::move(r));
  return out;
}

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_ETCD_STORE_IMPL_H_
