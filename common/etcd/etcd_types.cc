#include "common/etcd/etcd_types.h"

namespace certfleet::etcd {

std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  // No byte can be incremented: etcd reads "\0" as "to the end of the
  // keyspace".
  return std::string(1, '\0');
}

namespace {

Compare MakeCompare(std::string key, CompareTarget target, CompareOp op,
                    std::string value, int64_t number) {
  Compare c;
  c.range = KeyRange::Single(std::move(key));
  c.target = target;
  c.op = op;
  c.value = std::move(value);
  c.number = number;
  return c;
}

}  // namespace

Compare Compare::Value(std::string key, CompareOp op, std::string value) {
  return MakeCompare(std::move(key), CompareTarget::kValue, op,
                     std::move(value), 0);
}
Compare Compare::Version(std::string key, CompareOp op, int64_t version) {
  return MakeCompare(std::move(key), CompareTarget::kVersion, op, "", version);
}
Compare Compare::CreateRevision(std::string key, CompareOp op, int64_t rev) {
  return MakeCompare(std::move(key), CompareTarget::kCreateRevision, op, "",
                     rev);
}
Compare Compare::ModRevision(std::string key, CompareOp op, int64_t rev) {
  return MakeCompare(std::move(key), CompareTarget::kModRevision, op, "", rev);
}
Compare Compare::Lease(std::string key, CompareOp op, int64_t lease_id) {
  return MakeCompare(std::move(key), CompareTarget::kLease, op, "", lease_id);
}

TxnOp TxnOp::Get(std::string key) {
  return Range(KeyRange::Single(std::move(key)));
}
TxnOp TxnOp::Range(KeyRange range, int64_t limit) {
  TxnOp op;
  op.kind = Kind::kRange;
  op.range = std::move(range);
  op.limit = limit;
  return op;
}
TxnOp TxnOp::Put(std::string key, std::string value, int64_t lease) {
  TxnOp op;
  op.kind = Kind::kPut;
  op.range = KeyRange::Single(std::move(key));
  op.value = std::move(value);
  op.lease = lease;
  return op;
}
TxnOp TxnOp::Delete(std::string key) {
  return DeleteRange(KeyRange::Single(std::move(key)));
}
TxnOp TxnOp::DeleteRange(KeyRange range) {
  TxnOp op;
  op.kind = Kind::kDelete;
  op.range = std::move(range);
  return op;
}

}  // namespace certfleet::etcd
