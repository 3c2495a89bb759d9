// Plain value types of the etcd v3 API as EtcdClient speaks it: keys and
// their metadata, key ranges, transaction compares and operations, watch
// events. They mirror etcd's rpc.proto / kv.proto (etcd 3.4) without exposing
// the generated protobuf classes, so users of the client compile without gRPC.
//
//   TxnRequest txn{
//       .compares = {Compare::CreateRevision(leader_key, CompareOp::kEqual,
//                                            my_revision)},
//       .success = {TxnOp::Put("/certfleet/orders/a", payload)}};
//   ASSIGN_OR_RETURN(TxnResult result, client->Txn(txn, ctx));
//   if (!result.succeeded) return absl::AbortedError("no longer the leader");
#ifndef CERTFLEET_COMMON_ETCD_ETCD_TYPES_H_
#define CERTFLEET_COMMON_ETCD_ETCD_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace certfleet::etcd {

// One key as etcd stores it (mvccpb.KeyValue). Revisions are cluster-wide
// and only grow; `version` counts modifications since creation (0 = absent).
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;  // 0: not attached to a lease

  bool operator==(const KeyValue&) const = default;
};

// etcd's range end for "every key starting with `prefix`": the prefix with
// its last byte below 0xff incremented and what follows dropped. An empty
// prefix, or one made only of 0xff bytes, gives "\0" (every key >= start).
std::string PrefixEnd(absl::string_view prefix);

// The keys [key, range_end); an empty range_end means the single key `key`.
struct KeyRange {
  std::string key;
  std::string range_end;

  static KeyRange Single(std::string key) { return {std::move(key), ""}; }
  static KeyRange Prefix(absl::string_view prefix) {
    return {std::string(prefix), PrefixEnd(prefix)};
  }
  static KeyRange Between(std::string start, std::string end) {
    return {std::move(start), std::move(end)};
  }
};

// Get: the key if it exists, and the store's revision when it was read.
struct GetResult {
  std::optional<KeyValue> kv;
  int64_t revision = 0;
};

// Range: keys in key order. `more` is true when `limit` cut the answer
// short; `count` is the number of keys in the whole range.
struct RangeResult {
  std::vector<KeyValue> kvs;
  bool more = false;
  int64_t count = 0;
  int64_t revision = 0;
};

// Put and Delete: the revision the write created (Delete of nothing creates
// none and reports the current one), and how many keys were deleted.
struct WriteResult {
  int64_t revision = 0;
  int64_t deleted = 0;
};

// What a Compare looks at (rpc.proto Compare.CompareTarget).
enum class CompareTarget {
  kValue,
  kVersion,
  kCreateRevision,
  kModRevision,
  kLease
};
// How it compares the key's target with the operand, as "target OP operand".
enum class CompareOp { kEqual, kNotEqual, kLess, kGreater };

// One condition of a transaction. A key that does not exist has version,
// create_revision, mod_revision and lease 0 and never compares by value.
struct Compare {
  KeyRange range;  // usually Single(); a range compares every key in it
  CompareTarget target = CompareTarget::kVersion;
  CompareOp op = CompareOp::kEqual;
  std::string value;   // for kValue
  int64_t number = 0;  // for every other target

  static Compare Value(std::string key, CompareOp op, std::string value);
  static Compare Version(std::string key, CompareOp op, int64_t version);
  static Compare CreateRevision(std::string key, CompareOp op, int64_t rev);
  static Compare ModRevision(std::string key, CompareOp op, int64_t rev);
  static Compare Lease(std::string key, CompareOp op, int64_t lease_id);
  // "The key does not exist": version == 0.
  static Compare Absent(std::string key) {
    return Version(std::move(key), CompareOp::kEqual, 0);
  }
};

// One operation of a transaction branch.
struct TxnOp {
  enum class Kind { kRange, kPut, kDelete };
  Kind kind = Kind::kRange;
  KeyRange range;     // Put uses range.key only
  std::string value;  // Put
  int64_t lease = 0;  // Put
  int64_t limit = 0;  // Range; 0 = no limit

  static TxnOp Get(std::string key);
  static TxnOp Range(KeyRange range, int64_t limit = 0);
  static TxnOp Put(std::string key, std::string value, int64_t lease = 0);
  static TxnOp Delete(std::string key);
  static TxnOp DeleteRange(KeyRange range);
};

// The outcome of one TxnOp, in the order of the branch that ran.
struct TxnOpResult {
  TxnOp::Kind kind = TxnOp::Kind::kRange;
  std::vector<KeyValue> kvs;  // kRange
  bool more = false;          // kRange
  int64_t deleted = 0;        // kDelete
};

// If every compare holds, `success` runs, otherwise `failure`; atomically,
// at one revision.
struct TxnRequest {
  std::vector<Compare> compares;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

// What a transaction did: which branch ran and each of its ops' results.
struct TxnResult {
  bool succeeded = false;  // true: the compares held and `success` ran
  std::vector<TxnOpResult> responses;
  int64_t revision = 0;  // the store's revision after the transaction
};

// A lease as granted: its ID and the TTL the server chose (etcd may raise a
// TTL to its minimum).
struct Lease {
  int64_t id = 0;
  int64_t ttl_seconds = 0;
};

// LeaseTimeToLive: seconds left and the TTL it was granted with.
struct LeaseStatus {
  int64_t id = 0;
  int64_t remaining_seconds = 0;
  int64_t granted_seconds = 0;
};

// One change seen by a watch (mvccpb.Event). For kDelete, `kv` carries the
// key and the deletion's revision in mod_revision; value, version and lease
// are empty.
struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;
  std::optional<KeyValue> prev_kv;  // only when WatchOptions::prev_kv
};

// The events of one revision or more, in revision order.
struct WatchUpdate {
  std::vector<WatchEvent> events;
  int64_t revision = 0;  // the store's revision when etcd sent them
};

}  // namespace certfleet::etcd

#endif  // CERTFLEET_COMMON_ETCD_ETCD_TYPES_H_
