// The gRPC side of EtcdClient, shared by the client and its watches: one
// channel over every endpoint, the generated stubs, and the retry loop every
// unary call runs in. Internal to common/etcd (it includes gRPC and the
// generated code, which callers of etcd_client.h do not need).
//
//   ASSIGN_OR_RETURN(std::shared_ptr<Connection> c, Connect(options));
//   absl::Status s = RunCall(*c, CallKind::kRead, "KV.Range", ctx,
//       [&](grpc::ClientContext* rpc) { return c->kv->Range(rpc, req, &resp);
//       });
#ifndef CERTFLEET_COMMON_ETCD_ETCD_CONNECTION_H_
#define CERTFLEET_COMMON_ETCD_ETCD_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/context.h"
#include "common/etcd/etcd_client.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace certfleet::etcd::internal {

struct Connection {
  // Stops and joins the poller.
  ~Connection();

  std::vector<std::string> endpoints;  // "127.0.0.1:2379", scheme removed
  std::string endpoints_text;          // "[127.0.0.1:2379, ...]"
  absl::Duration call_timeout;
  Clock* clock = nullptr;
  std::unique_ptr<Clock> owned_clock;  // when the options named none
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  // Keeps some thread polling the channel's connections at all times. With
  // the synchronous API nothing else reads an idle connection, so a member
  // that died would be noticed only when a call is sent to it (and fails,
  // perhaps after etcd took it), and one that came back only by gRPC's 5 s
  // backup poller.
  std::thread poller;
  std::atomic<bool> stopping{false};
};

// Validates the options, reads the TLS files and creates the channel (which
// connects lazily).
absl::StatusOr<std::shared_ptr<Connection>> Connect(
    const EtcdClientOptions& options);

// Reads may be repeated after any transient failure; writes only when etcd
// certainly did not take them (etcd_status.h).
enum class CallKind { kRead, kWrite };

// The end of a call's time on connection.clock: the earlier of the
// Context's deadline and now + call_timeout.
absl::Time CallDeadline(const Connection& connection, const Context& ctx);

// gRPC's (real-time) deadline for `deadline` on connection.clock.
std::chrono::system_clock::time_point GrpcDeadline(const Connection& connection,
                                                   absl::Time deadline);

// Runs `attempt` — one gRPC call under the ClientContext it is given, whose
// deadline is already set — until it succeeds, fails in a way `kind` may not
// repeat, the Context is cancelled, or the time is up (CallDeadline). The
// error is the last attempt's, mapped by FromGrpcStatus and naming `what`.
absl::Status RunCall(
    Connection& connection, CallKind kind, absl::string_view what,
    const Context& ctx,
    absl::FunctionRef<grpc::Status(grpc::ClientContext*)> attempt);

// After a failure to reach any member: waits up to `max_wait` (real time)
// until the channel's connectivity changes, polling its connections
// meanwhile. The synchronous API has no thread of its own reading idle
// connections: without this wait, a connection attempt to a member that came
// back is only completed by gRPC's backup poller (every 5 s). Returns early
// when `stop` is cancelled.
void WaitForChannel(Connection& connection, absl::Duration max_wait,
                    const Cancellation* stop);

}  // namespace certfleet::etcd::internal

#endif  // CERTFLEET_COMMON_ETCD_ETCD_CONNECTION_H_
