#include "agent/client/enroll.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "certfleet/v1/agent.grpc.pb.h"
#include "common/crypto/certificate.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "common/status_macros.h"

namespace certfleet::agent {

absl::StatusOr<Identity> Enroll(const EnrollOptions& options) {
  if (options.coordinators.empty()) {
    return absl::InvalidArgumentError("no coordinator address configured");
  }
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEc256));
  // The coordinator sets the subject and names itself; a CSR needs one name.
  ASSIGN_OR_RETURN(std::string csr,
                   crypto::BuildCsrDer(key, {options.hostname.empty()
                                                 ? std::string("agent")
                                                 : options.hostname}));
  v1::EnrollRequest request;
  request.set_token(options.token);
  request.set_csr_der(csr);
  request.set_hostname(options.hostname);
  for (const auto& [k, v] : options.labels) (*request.mutable_labels())[k] = v;

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.coordinator_ca_pem;
  auto creds = grpc::SslCredentials(ssl);
  std::vector<std::string> errors;
  for (const std::string& address : options.coordinators) {
    auto stub = v1::Enrollment::NewStub(grpc::CreateChannel(address, creds));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         absl::ToChronoMilliseconds(options.timeout));
    v1::EnrollResponse response;
    grpc::Status status = stub->Enroll(&context, request, &response);
    if (status.ok()) {
      Identity id{.agent_id = response.agent_id(),
                  .cert_pem = response.certificate_pem(),
                  .ca_pem = response.ca_pem()};
      ASSIGN_OR_RETURN(id.key_pem, key.ToPem());
      ASSIGN_OR_RETURN(crypto::Certificate cert,
                       crypto::Certificate::FromPem(id.cert_pem));
      id.not_before = cert.NotBefore();
      id.not_after = cert.NotAfter();
      return id;
    }
    const absl::Status s(static_cast<absl::StatusCode>(status.error_code()),
                         absl::StrCat(address, ": ", status.error_message()));
    // The coordinator's answer to the token is final; try others only when
    // this one could not be reached.
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      return s;
    }
    errors.push_back(std::string(s.message()));
  }
  return absl::UnavailableError(absl::StrCat(
      "no coordinator reachable for enrollment: ", absl::StrJoin(errors, "; ")));
}

}  // namespace certfleet::agent
