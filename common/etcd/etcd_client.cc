// EtcdClient: construction and the KV service (Range, Put, DeleteRange,
// Txn). Lease calls are in etcd_lease.cc, Watch in etcd_watch.cc.
#include "common/etcd/etcd_client.h"

#include "absl/strings/str_cat.h"
#include "common/etcd/etcd_connection.h"
#include "common/etcd/etcd_convert.h"
#include "common/etcd/etcd_status.h"

namespace certfleet::etcd {

using internal::CallKind;
using internal::QuoteKey;
using internal::RunCall;

namespace {

absl::Status CheckKey(absl::string_view call, absl::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd ", call, ": empty key"));
  }
  return absl::OkStatus();
}

std::string Describe(absl::string_view call, const KeyRange& range) {
  if (range.range_end.empty())
    return absl::StrCat(call, " ", QuoteKey(range.key));
  return absl::StrCat(call, " [", QuoteKey(range.key), ", ",
                      QuoteKey(range.range_end), ")");
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(
    EtcdClientOptions options) {
  absl::StatusOr<std::shared_ptr<internal::Connection>> connection =
      internal::Connect(options);
  if (!connection.ok()) return connection.status();
  return std::unique_ptr<EtcdClient>(new EtcdClient(*std::move(connection)));
}

EtcdClient::EtcdClient(std::shared_ptr<internal::Connection> connection)
    : connection_(std::move(connection)) {}

EtcdClient::~EtcdClient() = default;

const std::vector<std::string>& EtcdClient::endpoints() const {
  return connection_->endpoints;
}

absl::StatusOr<GetResult> EtcdClient::Get(absl::string_view key,
                                          const Context& ctx) {
  if (absl::Status s = CheckKey("KV.Range", key); !s.ok()) return s;
  absl::StatusOr<RangeResult> range =
      Range(KeyRange::Single(std::string(key)), 0, ctx);
  if (!range.ok()) return range.status();
  GetResult result;
  result.revision = range->revision;
  if (!range->kvs.empty()) result.kv = std::move(range->kvs.front());
  return result;
}

absl::StatusOr<RangeResult> EtcdClient::Range(const KeyRange& range,
                                              int64_t limit,
                                              const Context& ctx) {
  if (absl::Status s = CheckKey("KV.Range", range.key); !s.ok()) return s;
  const etcdserverpb::RangeRequest req =
      internal::RangeRequestFor(range, limit);
  etcdserverpb::RangeResponse resp;
  absl::Status status =
      RunCall(*connection_, CallKind::kRead, Describe("KV.Range", range), ctx,
              [&](grpc::ClientContext* rpc) {
                return connection_->kv->Range(rpc, req, &resp);
              });
  if (!status.ok()) return status;
  return internal::FromProto(resp);
}

absl::StatusOr<WriteResult> EtcdClient::Put(absl::string_view key,
                                            absl::string_view value,
                                            const Context& ctx) {
  return DoPut(key, value, 0, ctx);
}

absl::StatusOr<WriteResult> EtcdClient::PutWithLease(absl::string_view key,
                                                     absl::string_view value,
                                                     int64_t lease_id,
                                                     const Context& ctx) {
  if (lease_id == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd KV.Put ", QuoteKey(key), ": lease ID 0 means no lease"));
  }
  return DoPut(key, value, lease_id, ctx);
}

absl::StatusOr<WriteResult> EtcdClient::DoPut(absl::string_view key,
                                              absl::string_view value,
                                              int64_t lease_id,
                                              const Context& ctx) {
  if (absl::Status s = CheckKey("KV.Put", key); !s.ok()) return s;
  etcdserverpb::PutRequest req;
  req.set_key(std::string(key));
  req.set_value(std::string(value));
  req.set_lease(lease_id);
  etcdserverpb::PutResponse resp;
  absl::Status status =
      RunCall(*connection_, CallKind::kWrite,
              lease_id == 0 ? absl::StrCat("KV.Put ", QuoteKey(key))
                            : absl::StrCat("KV.Put ", QuoteKey(key),
                                           " with lease ", absl::Hex(lease_id)),
              ctx, [&](grpc::ClientContext* rpc) {
                return connection_->kv->Put(rpc, req, &resp);
              });
  if (!status.ok()) return status;
  return WriteResult{.revision = resp.header().revision()};
}

absl::StatusOr<WriteResult> EtcdClient::Delete(absl::string_view key,
                                               const Context& ctx) {
  return DeleteRange(KeyRange::Single(std::string(key)), ctx);
}

absl::StatusOr<WriteResult> EtcdClient::DeleteRange(const KeyRange& range,
                                                    const Context& ctx) {
  if (absl::Status s = CheckKey("KV.DeleteRange", range.key); !s.ok()) {
    return s;
  }
  etcdserverpb::DeleteRangeRequest req;
  req.set_key(range.key);
  req.set_range_end(range.range_end);
  etcdserverpb::DeleteRangeResponse resp;
  absl::Status status =
      RunCall(*connection_, CallKind::kWrite, Describe("KV.DeleteRange", range),
              ctx, [&](grpc::ClientContext* rpc) {
                return connection_->kv->DeleteRange(rpc, req, &resp);
              });
  if (!status.ok()) return status;
  return WriteResult{.revision = resp.header().revision(),
                     .deleted = resp.deleted()};
}

absl::StatusOr<TxnResult> EtcdClient::Txn(const TxnRequest& txn,
                                          const Context& ctx) {
  for (const Compare& c : txn.compares) {
    if (absl::Status s = CheckKey("KV.Txn compare", c.range.key); !s.ok()) {
      return s;
    }
  }
  for (const auto* branch : {&txn.success, &txn.failure}) {
    for (const TxnOp& op : *branch) {
      if (absl::Status s = CheckKey("KV.Txn op", op.range.key); !s.ok()) {
        return s;
      }
    }
  }
  const etcdserverpb::TxnRequest req = internal::ToProto(txn);
  etcdserverpb::TxnResponse resp;
  std::string what = "KV.Txn";
  if (!txn.compares.empty()) {
    absl::StrAppend(&what, " on ", QuoteKey(txn.compares.front().range.key));
  }
  absl::Status status = RunCall(*connection_, CallKind::kWrite, what, ctx,
                                [&](grpc::ClientContext* rpc) {
                                  return connection_->kv->Txn(rpc, req, &resp);
                                });
  if (!status.ok()) return status;
  return internal::FromProto(resp);
}

}  // namespace certfleet::etcd
