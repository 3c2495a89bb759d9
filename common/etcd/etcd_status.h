// How etcd's gRPC errors become absl::Status, and which of them a retry may
// repeat. Internal to common/etcd.
//
// Codes stay etcd's own (rpctypes/error.go in etcd 3.4: kNotFound "requested
// lease not found", kOutOfRange "required revision has been compacted",
// kUnavailable "no leader", "request timed out", kResourceExhausted
// "database space exceeded", ...) except where etcd's code would send the
// caller the wrong way:
//   UNKNOWN "raft proposal dropped"    → kUnavailable (no leader yet: retry)
//   FAILED_PRECONDITION "not leader"   → kUnavailable (leadership moved)
//   OUT_OF_RANGE "too large lease TTL" → kInvalidArgument (caller's TTL)
//
//   absl::Status s = FromGrpcStatus(grpc_status, "KV.Put \"/a\"", endpoints);
#ifndef CERTFLEET_COMMON_ETCD_ETCD_STATUS_H_
#define CERTFLEET_COMMON_ETCD_ETCD_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace grpc {
class Status;
}  // namespace grpc

namespace certfleet::etcd::internal {

// Whether repeating a failed call is safe.
enum class RetryClass {
  kPermanent,     // do not retry
  kNotApplied,    // etcd did not take the request: any call may retry
  kMaybeApplied,  // transient, but a write may have been applied: reads only
};

RetryClass ClassifyForRetry(const grpc::Status& status);

// True when the call failed because no member could be reached at all (the
// request was never sent).
bool IsNotConnected(const grpc::Status& status);

// `what` names the call and key ("KV.Range \"/certfleet/a\""); `endpoints`
// the members tried. The message is "etcd <what> via <endpoints>: <etcd's
// message>".
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view what,
                            absl::string_view endpoints);

// A key for messages: printable, escaped, cut at 200 bytes.
std::string QuoteKey(absl::string_view key);

}  // namespace certfleet::etcd::internal

#endif  // CERTFLEET_COMMON_ETCD_ETCD_STATUS_H_
