#include "common/etcd/etcd_status.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace certfleet::etcd::internal {
namespace {

// Messages of requests etcd refused before proposing them to raft, so they
// were certainly not applied (rpctypes/error.go, raft.ErrProposalDropped).
constexpr absl::string_view kNotAppliedMessages[] = {
    "etcdserver: no leader",
    "etcdserver: not leader",
    "etcdserver: not capable",
    "etcdserver: rpc not supported for learner",
    "etcdserver: too many requests",
    "raft proposal dropped",
};

// gRPC's own words when no member could be reached, so nothing was sent.
constexpr absl::string_view kNotConnectedMessages[] = {
    "failed to connect to all addresses",
    "Connection refused",
    "connections to all backends failing",
};

bool Contains(absl::string_view text, absl::Span<const absl::string_view> any) {
  for (absl::string_view s : any) {
    if (absl::StrContains(text, s)) return true;
  }
  return false;
}

}  // namespace

bool IsNotConnected(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         Contains(status.error_message(), kNotConnectedMessages);
}

RetryClass ClassifyForRetry(const grpc::Status& status) {
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (Contains(message, kNotAppliedMessages) ||
          Contains(message, kNotConnectedMessages)) {
        return RetryClass::kNotApplied;
      }
      return RetryClass::kMaybeApplied;
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return Contains(message, kNotAppliedMessages) ? RetryClass::kNotApplied
                                                    : RetryClass::kPermanent;
    default:
      return RetryClass::kPermanent;
  }
}

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view what,
                            absl::string_view endpoints) {
  if (status.ok()) return absl::OkStatus();
  const std::string& message = status.error_message();
  // absl's codes are numbered as gRPC's.
  auto code = static_cast<absl::StatusCode>(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNKNOWN &&
      absl::StrContains(message, "raft proposal dropped")) {
    code = absl::StatusCode::kUnavailable;
  } else if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
             absl::StrContains(message, "etcdserver: not leader")) {
    code = absl::StatusCode::kUnavailable;
  } else if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE &&
             absl::StrContains(message, "too large lease TTL")) {
    code = absl::StatusCode::kInvalidArgument;
  }
  return absl::Status(
      code, absl::StrCat("etcd ", what, " via ", endpoints, ": ", message));
}

std::string QuoteKey(absl::string_view key) {
  constexpr size_t kMax = 200;
  std::string out =
      absl::StrCat("\"", absl::CHexEscape(key.substr(0, kMax)), "\"");
  if (key.size() > kMax) out.append("...");
  return out;
}

}  // namespace certfleet::etcd::internal
