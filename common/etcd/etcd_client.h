// A small synchronous client for etcd v3 (KV, Lease, Watch) over gRPC, the
// base of the etcd store backend and of leader election. The generated code
// comes from etcd's own installed .proto files (proto/etcd/); this header
// keeps it, and gRPC, out of the callers' compile units.
//
// One gRPC channel spreads calls over every endpoint (round robin over the
// members that are up), so a member that goes down is skipped. Each call
// runs under the earlier of the Context's deadline and `call_timeout`, and is
// retried within that time when a retry cannot apply it twice:
//   - reads (Get, Range, LeaseTimeToLive, LeaseKeepAliveOnce) on any
//     kUnavailable;
//   - writes (Put, Delete, Txn, LeaseGrant, LeaseRevoke) only when etcd did
//     not take the request: no member reachable, "raft proposal dropped",
//     "etcdserver: no leader" (etcd_status.cc lists them). Any other
//     kUnavailable of a write (the connection broke mid-call, "request
//     timed out") is returned:
//     the write may or may not have been applied, and only the caller knows
//     how to check (a fenced Txn re-reads its key's mod_revision). This also
//     happens to a write sent in the instant after a member died, before
//     gRPC has read the end of that member's connection (a thread of the
//     client keeps polling, so the window is small).
// A cancelled Context is seen before each attempt and between attempts; an
// attempt in flight runs until it ends or reaches the deadline.
// Thread-safe. Each client owns a thread that polls its connections.
//
// Errors keep etcd's gRPC codes (see etcd_status.h for the exceptions) and
// name the call, the key and the endpoints.
//
//   ASSIGN_OR_RETURN(auto client, etcd::EtcdClient::Create(
//       {.endpoints = {"127.0.0.1:2379", "127.0.0.1:22379"}}));
//   RETURN_IF_ERROR(client->Put("/certfleet/a", "1", ctx).status());
//   ASSIGN_OR_RETURN(etcd::GetResult got, client->Get("/certfleet/a", ctx));
#ifndef CERTFLEET_COMMON_ETCD_ETCD_CLIENT_H_
#define CERTFLEET_COMMON_ETCD_ETCD_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/context.h"
#include "common/etcd/etcd_types.h"
#include "common/etcd/etcd_watch.h"

namespace certfleet::etcd {

// Where the cluster is and how to reach it.
struct EtcdClientOptions {
  // "127.0.0.1:2379" or "[::1]:2379", optionally with "http://" or
  // "https://" in front. IP literals only: a host name would need the system
  // resolver. All IPv4 or all IPv6.
  std::vector<std::string> endpoints;
  // TLS when ca_file is set (PEM bundle trusted for the members'
  // certificates); cert_file + key_file add a client certificate.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // The name every member's certificate must carry; default: the first
  // endpoint's address. One name for all members, as gRPC checks one.
  std::string tls_server_name;
  // The longest one call may take, retries included, when the Context
  // allows longer. Watch uses it for the creation of the watch.
  absl::Duration call_timeout = absl::Seconds(5);
  // Cap of gRPC's reconnect backoff: a member that comes back is used again
  // within about this long.
  absl::Duration max_reconnect_backoff = absl::Seconds(1);
  // Whose time Context deadlines are in (they become gRPC's real-time
  // deadlines as "time left"), and what sleeps between retries. nullptr:
  // the system clock. Must outlive the client and its watches.
  Clock* clock = nullptr;
};

// The client. Thread-safe; see the top of this file for retries.
class EtcdClient {
 public:
  // Validates the options and reads the TLS files: kInvalidArgument names
  // the endpoint or file at fault. Does not connect: a cluster that is down
  // shows up as kUnavailable on the first call.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(
      EtcdClientOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // The endpoints as given (scheme removed), for messages.
  const std::vector<std::string>& endpoints() const;

  // One key. A missing key is OK with `kv` empty. Linearizable.
  absl::StatusOr<GetResult> Get(absl::string_view key, const Context& ctx);
  // The keys of `range` in key order, at most `limit` (0: all).
  absl::StatusOr<RangeResult> Range(const KeyRange& range, int64_t limit,
                                    const Context& ctx);
  absl::StatusOr<WriteResult> Put(absl::string_view key,
                                  absl::string_view value, const Context& ctx);
  // Put with the key attached to `lease_id`: it goes away with the lease.
  // kNotFound when the lease does not exist (any more).
  absl::StatusOr<WriteResult> PutWithLease(absl::string_view key,
                                           absl::string_view value,
                                           int64_t lease_id,
                                           const Context& ctx);
  // Deletes one key; `deleted` is 0 when it did not exist.
  absl::StatusOr<WriteResult> Delete(absl::string_view key, const Context& ctx);
  absl::StatusOr<WriteResult> DeleteRange(const KeyRange& range,
                                          const Context& ctx);
  absl::StatusOr<WriteResult> DeletePrefix(absl::string_view prefix,
                                           const Context& ctx) {
    return DeleteRange(KeyRange::Prefix(prefix), ctx);
  }
  // Atomically: if every compare holds, the success ops, else the failure
  // ops. Not retried once etcd may have taken it (see above).
  absl::StatusOr<TxnResult> Txn(const TxnRequest& txn, const Context& ctx);

  // A new lease of `ttl`, rounded up to whole seconds (etcd's unit; etcd
  // may raise it to its minimum). kInvalidArgument below one second or
  // above etcd's maximum.
  absl::StatusOr<Lease> LeaseGrant(absl::Duration ttl, const Context& ctx);
  // Renews the lease once (one message on a LeaseKeepAlive stream) and
  // returns its TTL again, in seconds. kNotFound when it expired or never
  // existed. Keeping a lease alive is the caller's loop — every TTL/3 on its
  // own Clock — because deciding what a lost lease means (a leader steps
  // down) belongs there too.
  absl::StatusOr<int64_t> LeaseKeepAliveOnce(int64_t lease_id,
                                             const Context& ctx);
  // Seconds left and granted TTL; kNotFound when expired or unknown.
  absl::StatusOr<LeaseStatus> LeaseTimeToLive(int64_t lease_id,
                                              const Context& ctx);
  // Ends the lease now and deletes its keys. kNotFound when unknown.
  absl::Status LeaseRevoke(int64_t lease_id, const Context& ctx);

  // Starts watching `options.range`; returns once etcd has created the
  // watch (changes committed after that are seen), or fails within the
  // Context's deadline (capped by call_timeout) — then `callback` is never
  // called. See etcd_watch.h for what the callback receives. The watch may
  // outlive the client.
  absl::StatusOr<std::unique_ptr<EtcdWatch>> Watch(WatchOptions options,
                                                   WatchCallback callback,
                                                   const Context& ctx);

 private:
  explicit EtcdClient(std::shared_ptr<internal::Connection> connection);
  absl::StatusOr<WriteResult> DoPut(absl::string_view key,
                                    absl::string_view value, int64_t lease_id,
                                    const Context& ctx);

  std::shared_ptr<internal::Connection> connection_;
};

}  // namespace certfleet::etcd

#endif  // CERTFLEET_COMMON_ETCD_ETCD_CLIENT_H_
