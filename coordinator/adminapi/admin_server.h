// The admin API's listener: AdminService (certfleet/v1/admin.proto) over
// mutual TLS on its own port. The handshake requires a client certificate
// signed by the internal CA; every call then requires that certificate to
// be an admin identity (admin_auth.h) before AdminBackend answers it.
// Unary calls on gRPC's synchronous server: each runs on a pool thread, so
// blocking store reads are fine there.
//
//   ASSIGN_OR_RETURN(auto server, AdminServer::Start(
//       {.listen = "127.0.0.1:7444", .server_names = {"127.0.0.1"}},
//       internal_ca, backend));
//   int port = server->port();
#ifndef CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_SERVER_H_
#define CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/adminapi/admin_backend.h"
#include "coordinator/identity/internal_ca.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace certfleet::adminapi {

struct AdminServerOptions {
  std::string listen;                     // "ip:port"; port 0 picks one
  std::vector<std::string> server_names;  // SANs of the serving certificate
  // The serving certificate is issued by the internal CA at every start.
  absl::Duration server_certificate_lifetime = absl::Hours(24 * 365);
  // Limits on clients (any certificate of the internal CA passes the
  // handshake, agents' included). Largest request accepted; a larger one
  // is refused with RESOURCE_EXHAUSTED before it is parsed. Every request
  // is a few names and labels: the largest, CreateToken, is under 4 KiB.
  size_t max_message_bytes = 64 * 1024;
  // Calls one connection may have open at once (certfleetctl makes one at
  // a time; a gRPC client waits for a free slot).
  int max_streams_per_connection = 16;
  // Keepalive pings closer together than this with no data between are
  // strikes (certfleetctl sends none); past max_ping_strikes the connection
  // is closed with GOAWAY "too_many_pings" (UNAVAILABLE for its calls).
  absl::Duration min_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
};

class AdminServer {
 public:
  // kUnavailable when it cannot listen; kInvalidArgument for bad server
  // names. `ca` and `backend` must outlive the server.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(
      AdminServerOptions options, identity::InternalCa& ca,
      AdminBackend& backend);
  ~AdminServer();

  int port() const { return port_; }
  // Stops accepting and waits up to `grace` for calls in progress.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

 private:
  AdminServer() = default;
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace certfleet::adminapi

#endif  // CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_SERVER_H_
