#include "common/etcd/etcd_convert.h"

namespace certfleet::etcd::internal {
namespace {

using etcdserverpb::Compare_CompareResult;
using etcdserverpb::Compare_CompareTarget;

Compare_CompareResult ResultFor(CompareOp op) {
  switch (op) {
    case CompareOp::kEqual:
      return etcdserverpb::Compare::EQUAL;
    case CompareOp::kNotEqual:
      return etcdserverpb::Compare::NOT_EQUAL;
    case CompareOp::kLess:
      return etcdserverpb::Compare::LESS;
    case CompareOp::kGreater:
      return etcdserverpb::Compare::GREATER;
  }
  return etcdserverpb::Compare::EQUAL;
}

}  // namespace

KeyValue FromProto(const mvccpb::KeyValue& kv) {
  return KeyValue{.key = kv.key(),
                  .value = kv.value(),
                  .create_revision = kv.create_revision(),
                  .mod_revision = kv.mod_revision(),
                  .version = kv.version(),
                  .lease = kv.lease()};
}

RangeResult FromProto(const etcdserverpb::RangeResponse& resp) {
  RangeResult result;
  result.kvs.reserve(resp.kvs_size());
  for (const mvccpb::KeyValue& kv : resp.kvs()) {
    result.kvs.push_back(FromProto(kv));
  }
  result.more = resp.more();
  result.count = resp.count();
  result.revision = resp.header().revision();
  return result;
}

TxnResult FromProto(const etcdserverpb::TxnResponse& resp) {
  TxnResult result;
  result.succeeded = resp.succeeded();
  result.revision = resp.header().revision();
  for (const etcdserverpb::ResponseOp& op : resp.responses()) {
    TxnOpResult r;
    switch (op.response_case()) {
      case etcdserverpb::ResponseOp::kResponseRange: {
        RangeResult range = FromProto(op.response_range());
        r.kind = TxnOp::Kind::kRange;
        r.kvs = std::move(range.kvs);
        r.more = range.more;
        break;
      }
      case etcdserverpb::ResponseOp::kResponsePut:
        r.kind = TxnOp::Kind::kPut;
        break;
      case etcdserverpb::ResponseOp::kResponseDeleteRange:
        r.kind = TxnOp::Kind::kDelete;
        r.deleted = op.response_delete_range().deleted();
        break;
      default:  // nested transactions are never sent
        break;
    }
    result.responses.push_back(std::move(r));
  }
  return result;
}

WatchEvent FromProto(const mvccpb::Event& event) {
  WatchEvent e;
  e.type = event.type() == mvccpb::Event::DELETE ? WatchEvent::Type::kDelete
                                                 : WatchEvent::Type::kPut;
  e.kv = FromProto(event.kv());
  if (event.has_prev_kv()) e.prev_kv = FromProto(event.prev_kv());
  return e;
}

etcdserverpb::RangeRequest RangeRequestFor(const KeyRange& range,
                                           int64_t limit) {
  etcdserverpb::RangeRequest req;
  req.set_key(range.key);
  req.set_range_end(range.range_end);
  req.set_limit(limit);
  return req;
}

etcdserverpb::Compare ToProto(const Compare& compare) {
  etcdserverpb::Compare c;
  c.set_key(compare.range.key);
  c.set_range_end(compare.range.range_end);
  c.set_result(ResultFor(compare.op));
  switch (compare.target) {
    case CompareTarget::kValue:
      c.set_target(etcdserverpb::Compare::VALUE);
      c.set_value(compare.value);
      break;
    case CompareTarget::kVersion:
      c.set_target(etcdserverpb::Compare::VERSION);
      c.set_version(compare.number);
      break;
    case CompareTarget::kCreateRevision:
      c.set_target(etcdserverpb::Compare::CREATE);
      c.set_create_revision(compare.number);
      break;
    case CompareTarget::kModRevision:
      c.set_target(etcdserverpb::Compare::MOD);
      c.set_mod_revision(compare.number);
      break;
    case CompareTarget::kLease:
      c.set_target(etcdserverpb::Compare::LEASE);
      c.set_lease(compare.number);
      break;
  }
  return c;
}

etcdserverpb::RequestOp ToProto(const TxnOp& op) {
  etcdserverpb::RequestOp r;
  switch (op.kind) {
    case TxnOp::Kind::kRange:
      *r.mutable_request_range() = RangeRequestFor(op.range, op.limit);
      break;
    case TxnOp::Kind::kPut: {
      etcdserverpb::PutRequest* put = r.mutable_request_put();
      put->set_key(op.range.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      break;
    }
    case TxnOp::Kind::kDelete: {
      etcdserverpb::DeleteRangeRequest* del = r.mutable_request_delete_range();
      del->set_key(op.range.key);
      del->set_range_end(op.range.range_end);
      break;
    }
  }
  return r;
}

etcdserverpb::TxnRequest ToProto(const TxnRequest& txn) {
  etcdserverpb::TxnRequest req;
  for (const Compare& c : txn.compares) *req.add_compare() = ToProto(c);
  for (const TxnOp& op : txn.success) *req.add_success() = ToProto(op);
  for (const TxnOp& op : txn.failure) *req.add_failure() = ToProto(op);
  return req;
}

}  // namespace certfleet::etcd::internal
