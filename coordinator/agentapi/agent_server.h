// The coordinator's gRPC endpoint for agents: Enrollment (TLS that
// authenticates the coordinator only) and AgentService (mutual TLS with an
// identity from the internal CA) on one listener. A client certificate is
// optional at the TLS layer — enrollment has none yet — but when presented
// it must chain to the internal CA, or the handshake fails; AgentService
// then refuses any stream without a verified identity. What agents may send
// is bounded (agent_limits.h): message size, streams per connection,
// keepalive pings, enrollment attempts per source and overall, and each
// message's names and targets (agent_input.h) before the hub sees it.
//
//   ASSIGN_OR_RETURN(auto server, AgentServer::Start(
//       {.listen = "0.0.0.0:7443", .server_names = {"coord.example.com"}},
//       internal_ca, enrollment, hub));
#ifndef CERTFLEET_COORDINATOR_AGENTAPI_AGENT_SERVER_H_
#define CERTFLEET_COORDINATOR_AGENTAPI_AGENT_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/delivery/agent_limits.h"
#include "coordinator/identity/enrollment.h"
#include "coordinator/identity/internal_ca.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace certfleet::agentapi {

struct AgentServerOptions {
  std::string listen;                     // "ip:port"; port 0 picks one
  std::vector<std::string> server_names;  // SANs of the serving certificate
  // The serving certificate is issued by the internal CA at every start.
  absl::Duration server_certificate_lifetime = absl::Hours(24 * 365);
  // What agents may send. The hub applies its own copy (its constructor's)
  // to its queue, to text and to renewals.
  delivery::AgentLimits limits;
  // Told about refusals (metrics); may be null. Must outlive the server.
  delivery::HubObserver* observer = nullptr;
  // The enrollment rate limits' clock; null: the system clock.
  Clock* clock = nullptr;
};

class AgentServer {
 public:
  static absl::StatusOr<std::unique_ptr<AgentServer>> Start(
      AgentServerOptions options, identity::InternalCa& ca,
      identity::EnrollmentService& enrollment, delivery::AgentHub& hub);
  ~AgentServer();

  int port() const { return port_; }
  // Stops accepting, then cancels open streams after `grace`.
  void Shutdown(absl::Duration grace = absl::Seconds(2));
  // false: ends every agent stream and refuses new ones with UNAVAILABLE
  // `why`, so agents go to another replica (this one is cut off from etcd);
  // true: accepts them again. Enrollment is not affected.
  void SetServing(bool serving, const std::string& why = "");

 private:
  AgentServer() = default;
  SystemClock system_clock_;
  delivery::AgentLimits limits_;  // the services refer to it
  std::unique_ptr<grpc::Service> enrollment_service_;
  std::unique_ptr<grpc::Service> agent_service_;
  // agent_service_'s SetServing (its type is private to agent_server.cc).
  std::function<void(bool serving, const absl::Status& why)> set_serving_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // Sends the streams' heartbeats until stopped (Shutdown).
  absl::Notification stop_heartbeats_;
  std::thread heartbeats_;
};

}  // namespace certfleet::agentapi

#endif  // CERTFLEET_COORDINATOR_AGENTAPI_AGENT_SERVER_H_
