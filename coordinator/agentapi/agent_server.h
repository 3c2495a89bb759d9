// The coordinator's gRPC endpoint for agents: Enrollment (TLS that
// authenticates the coordinator only) and AgentService (mutual TLS with an
// identity from the internal CA) on one listener. A client certificate is
// optional at the TLS layer — enrollment has none yet — but when presented
// it must chain to the internal CA, or the handshake fails; AgentService
// then refuses any stream without a verified identity.
//
//   ASSIGN_OR_RETURN(auto server, AgentServer::Start(
//       {.listen = "0.0.0.0:7443", .server_names = {"coord.example.com"}},
//       internal_ca, enrollment, hub));
#ifndef CERTFLEET_COORDINATOR_AGENTAPI_AGENT_SERVER_H_
#define CERTFLEET_COORDINATOR_AGENTAPI_AGENT_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/agentapi/agent_hub.h"
#include "coordinator/fleet/enrollment.h"
#include "coordinator/fleet/internal_ca.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace certfleet::agentapi {

struct AgentServerOptions {
  std::string listen;                      // "ip:port"; port 0 picks one
  std::vector<std::string> server_names;   // SANs of the serving certificate
  // The serving certificate is issued by the internal CA at every start.
  absl::Duration server_certificate_lifetime = absl::Hours(24 * 365);
  // HTTP/2 keepalive pings the server accepts from agents (agents ping to
  // notice dead connections through NATs and load balancers).
  absl::Duration min_client_ping_interval = absl::Seconds(10);
};

class AgentServer {
 public:
  static absl::StatusOr<std::unique_ptr<AgentServer>> Start(
      AgentServerOptions options, fleet::InternalCa& ca,
      fleet::EnrollmentService& enrollment, AgentHub& hub);
  ~AgentServer();

  int port() const { return port_; }
  // Stops accepting, then cancels open streams after `grace`.
  void Shutdown(absl::Duration grace = absl::Seconds(2));

 private:
  AgentServer() = default;
  std::unique_ptr<grpc::Service> enrollment_service_;
  std::unique_ptr<grpc::Service> agent_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace certfleet::agentapi

#endif  // CERTFLEET_COORDINATOR_AGENTAPI_AGENT_SERVER_H_
