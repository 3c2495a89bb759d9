// EtcdClient: the Lease service (grant, keep-alive, time-to-live, revoke).
// Lease IDs appear in hex in messages, as etcdctl prints them.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/etcd/etcd_client.h"
#include "common/etcd/etcd_connection.h"

namespace certfleet::etcd {

using internal::CallKind;
using internal::RunCall;

namespace {

// etcd's upper bound on a lease TTL (lease.MaxLeaseTTL, 9,000,000,000 s).
constexpr int64_t kMaxLeaseTtlSeconds = 9'000'000'000;

std::string LeaseName(int64_t id) {
  return absl::StrCat("lease ", absl::Hex(id));
}

}  // namespace

absl::StatusOr<Lease> EtcdClient::LeaseGrant(absl::Duration ttl,
                                             const Context& ctx) {
  if (ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("etcd Lease.Grant: TTL ", absl::FormatDuration(ttl),
                     " is below etcd's unit of one second"));
  }
  const int64_t seconds = static_cast<int64_t>(
      std::ceil(absl::FDivDuration(ttl, absl::Seconds(1))));
  if (seconds > kMaxLeaseTtlSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "etcd Lease.Grant: TTL ", absl::FormatDuration(ttl),
        " is above etcd's maximum of ", kMaxLeaseTtlSeconds, " s"));
  }
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(seconds);
  etcdserverpb::LeaseGrantResponse resp;
  const std::string what = absl::StrCat("Lease.Grant TTL ", seconds, " s");
  absl::Status status = RunCall(
      *connection_, CallKind::kWrite, what, ctx, [&](grpc::ClientContext* rpc) {
        return connection_->lease->LeaseGrant(rpc, req, &resp);
      });
  if (!status.ok()) return status;
  if (!resp.error().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("etcd ", what, " via ", connection_->endpoints_text, ": ",
                     resp.error()));
  }
  return Lease{.id = resp.id(), .ttl_seconds = resp.ttl()};
}

absl::StatusOr<int64_t> EtcdClient::LeaseKeepAliveOnce(int64_t lease_id,
                                                       const Context& ctx) {
  const std::string what =
      absl::StrCat("Lease.KeepAlive ", LeaseName(lease_id));
  etcdserverpb::LeaseKeepAliveResponse resp;
  // Renewing twice is harmless, so it retries like a read.
  absl::Status status = RunCall(
      *connection_, CallKind::kRead, what, ctx, [&](grpc::ClientContext* rpc) {
        auto stream = connection_->lease->LeaseKeepAlive(rpc);
        etcdserverpb::LeaseKeepAliveRequest req;
        req.set_id(lease_id);
        bool answered = false;
        if (stream->Write(req)) {
          stream->WritesDone();
          answered = stream->Read(&resp);
          // etcd ends the stream once it reads our end of it.
          etcdserverpb::LeaseKeepAliveResponse extra;
          while (stream->Read(&extra)) {
          }
        }
        grpc::Status finished = stream->Finish();
        if (finished.ok() && !answered) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "keep-alive stream ended without an answer");
        }
        return answered ? grpc::Status::OK : finished;
      });
  if (!status.ok()) return status;
  // etcd answers an expired or unknown lease with TTL 0.
  if (resp.ttl() <= 0) {
    return absl::NotFoundError(
        absl::StrCat("etcd ", what, " via ", connection_->endpoints_text,
                     ": the lease expired or does not exist"));
  }
  return resp.ttl();
}

absl::StatusOr<LeaseStatus> EtcdClient::LeaseTimeToLive(int64_t lease_id,
                                                        const Context& ctx) {
  const std::string what =
      absl::StrCat("Lease.TimeToLive ", LeaseName(lease_id));
  etcdserverpb::LeaseTimeToLiveRequest req;
  req.set_id(lease_id);
  etcdserverpb::LeaseTimeToLiveResponse resp;
  absl::Status status = RunCall(
      *connection_, CallKind::kRead, what, ctx, [&](grpc::ClientContext* rpc) {
        return connection_->lease->LeaseTimeToLive(rpc, req, &resp);
      });
  if (!status.ok()) return status;
  // etcd answers an expired or unknown lease with TTL -1.
  if (resp.ttl() < 0) {
    return absl::NotFoundError(
        absl::StrCat("etcd ", what, " via ", connection_->endpoints_text,
                     ": the lease expired or does not exist"));
  }
  return LeaseStatus{.id = resp.id(),
                     .remaining_seconds = resp.ttl(),
                     .granted_seconds = resp.grantedttl()};
}

absl::Status EtcdClient::LeaseRevoke(int64_t lease_id, const Context& ctx) {
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(lease_id);
  etcdserverpb::LeaseRevokeResponse resp;
  return RunCall(*connection_, CallKind::kWrite,
                 absl::StrCat("Lease.Revoke ", LeaseName(lease_id)), ctx,
                 [&](grpc::ClientContext* rpc) {
                   return connection_->lease->LeaseRevoke(rpc, req, &resp);
                 });
}

}  // namespace certfleet::etcd
