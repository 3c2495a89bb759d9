// Starting and stopping a gRPC server over TLS the one way the coordinator's
// listeners (the agents' service, the admin API) do it: a serving
// certificate, the internal CA as the client trust root, the services, and
// the limits every listener sets on its clients (largest message, streams
// per connection, keepalive ping strikes).
//
//   ASSIGN_OR_RETURN(StartedGrpcServer started, StartGrpcServer({
//       .what = "admin API", .listen = "127.0.0.1:7444",
//       .key_pem = key, .cert_pem = cert, .client_ca_pem = ca,
//       .client_certificates =
//           GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
//       .services = {service.get()}, .max_message_bytes = 64 * 1024}));
//   ...
//   ShutdownGrpcServer(started.server, absl::Seconds(2));
#ifndef CERTFLEET_COMMON_RPC_GRPC_SERVER_H_
#define CERTFLEET_COMMON_RPC_GRPC_SERVER_H_

#include <grpc/grpc_security_constants.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace certfleet {

struct GrpcServerOptions {
  // Names the listener in messages and logs: "agent service", "admin API".
  std::string what;
  std::string listen;  // "ip:port"; port 0 picks one
  // The serving key and certificate, and the CA that client certificates
  // must chain to (PEM).
  std::string key_pem;
  std::string cert_pem;
  std::string client_ca_pem;
  // Whether a client must present a certificate (the agents' listener
  // takes enrollments without one).
  grpc_ssl_client_certificate_request_type client_certificates =
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  // Registered in order; must outlive the server.
  std::vector<grpc::Service*> services;
  // Largest request accepted; a larger one is refused with
  // RESOURCE_EXHAUSTED before it is parsed.
  size_t max_message_bytes = 64 * 1024;
  // Calls one connection may have open at once.
  int max_streams_per_connection = 16;
  // Keepalive pings closer together than this with no data between are
  // strikes; past max_ping_strikes the connection is closed with GOAWAY
  // "too_many_pings".
  absl::Duration min_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
  // Further integer channel arguments (GRPC_ARG_...), as given.
  std::vector<std::pair<std::string, int>> channel_args;
};

struct StartedGrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the port bound (the one asked for, or the one picked)
};

// Builds and starts the server. kUnavailable "<what> cannot listen on
// <listen> (address in use, or not an address of this host?)" when it
// cannot listen. Logs "<what> listening on <listen> (port N)".
absl::StatusOr<StartedGrpcServer> StartGrpcServer(
    const GrpcServerOptions& options);

// Stops accepting, waits up to `grace` for calls in progress (then cancels
// them) and destroys the server. Does nothing when `server` is null.
void ShutdownGrpcServer(std::unique_ptr<grpc::Server>& server,
                        absl::Duration grace);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_RPC_GRPC_SERVER_H_
