// A coordinator the test scripts by hand, for what the real one never
// sends: an AgentService over mTLS (serving certificate and client roots
// from a real internal CA) that welcomes every stream, hands the test each
// identity renewal request the agent sends, and writes whatever
// CoordinatorMessage the test gives it — an IdentityCertificate for
// another key, another agent, or with another CA. Its Enrollment service
// answers with what the test's function makes of the request.
//
//   auto coordinator = ScriptedCoordinator::Start(*c_.ca);
//   // ... a real AgentSession dialling coordinator->address() ...
//   std::optional<std::string> csr = coordinator->WaitForRenewal();
//   coordinator->Send(IdentityMessage(cert_pem, ca_pem));
#ifndef CERTFLEET_TESTS_AGENTAPI_SCRIPTED_COORDINATOR_H_
#define CERTFLEET_TESTS_AGENTAPI_SCRIPTED_COORDINATOR_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "certfleet/v1/agent.grpc.pb.h"
#include "coordinator/identity/internal_ca.h"

namespace certfleet::agentapi::testing {

class ScriptedCoordinator final : public v1::AgentService::Service {
 public:
  // Listens on 127.0.0.1 (a free port); aborts the test binary on failure.
  static std::unique_ptr<ScriptedCoordinator> Start(identity::InternalCa& ca);
  // Cancels open streams and stops.
  ~ScriptedCoordinator() override;

  std::string address() const;
  // The CSR (DER) of the next IdentityRenewal received; nullopt when none
  // came within `timeout`.
  std::optional<std::string> WaitForRenewal(
      absl::Duration timeout = absl::Seconds(10));
  // Writes `message` to the open stream; false when there is none.
  bool Send(const v1::CoordinatorMessage& message);
  // The serial (hex) of the client certificate of each stream, in order.
  std::vector<std::string> client_serials() const;

  using EnrollAnswer =
      std::function<v1::EnrollResponse(const v1::EnrollRequest&)>;
  // Enrollment.Enroll answers with `answer(request)` (UNIMPLEMENTED until
  // set).
  void SetEnrollAnswer(EnrollAnswer answer);

  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::CoordinatorMessage, v1::AgentMessage>*
          stream) override;

 private:
  ScriptedCoordinator() = default;

  class Enrollment final : public v1::Enrollment::Service {
   public:
    explicit Enrollment(ScriptedCoordinator& owner) : owner_(owner) {}
    grpc::Status Enroll(grpc::ServerContext* context,
                        const v1::EnrollRequest* request,
                        v1::EnrollResponse* response) override;

   private:
    ScriptedCoordinator& owner_;
  };

  Enrollment enrollment_{*this};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  mutable absl::Mutex mu_;
  std::deque<std::string> renewals_ ABSL_GUARDED_BY(mu_);
  EnrollAnswer enroll_answer_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> client_serials_ ABSL_GUARDED_BY(mu_);
  // One writer at a time; null between streams.
  grpc::ServerReaderWriter<v1::CoordinatorMessage, v1::AgentMessage>* stream_
      ABSL_GUARDED_BY(mu_) = nullptr;
};

// An IdentityCertificate message.
v1::CoordinatorMessage IdentityMessage(const std::string& cert_pem,
                                       const std::string& ca_pem);

}  // namespace certfleet::agentapi::testing

#endif  // CERTFLEET_TESTS_AGENTAPI_SCRIPTED_COORDINATOR_H_
