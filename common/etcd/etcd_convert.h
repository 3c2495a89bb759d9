// Conversions between etcd's generated protobuf messages and the plain types
// of etcd_types.h. Internal to common/etcd.
//
//   etcdserverpb::TxnRequest req = ToProto(txn);
//   TxnResult result = FromProto(resp);
#ifndef CERTFLEET_COMMON_ETCD_ETCD_CONVERT_H_
#define CERTFLEET_COMMON_ETCD_ETCD_CONVERT_H_

#include "common/etcd/etcd_types.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "etcd/mvcc/mvccpb/kv.pb.h"

namespace certfleet::etcd::internal {

KeyValue FromProto(const mvccpb::KeyValue& kv);
RangeResult FromProto(const etcdserverpb::RangeResponse& resp);
TxnResult FromProto(const etcdserverpb::TxnResponse& resp);
WatchEvent FromProto(const mvccpb::Event& event);

etcdserverpb::RangeRequest RangeRequestFor(const KeyRange& range,
                                           int64_t limit);
etcdserverpb::Compare ToProto(const Compare& compare);
etcdserverpb::RequestOp ToProto(const TxnOp& op);
etcdserverpb::TxnRequest ToProto(const TxnRequest& txn);

}  // namespace certfleet::etcd::internal

#endif  // CERTFLEET_COMMON_ETCD_ETCD_CONVERT_H_
