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
namespace {

// The identity from `response`, once checked against what this agent asked
// for and trusts: the certificate is for `key`, verifies against the
// configured coordinator CA and names the agent id it came with. The CA
// stored is the configured one; a response naming another is refused, as
// it will be at every renewal (identity.h).
absl::StatusOr<Identity> CheckedIdentity(const EnrollOptions& options,
                                         const std::string& address,
                                         const crypto::PrivateKey& key,
                                         const v1::EnrollResponse& response) {
  const std::string where = absl::StrCat("enrollment at ", address);
  if (!response.ca_pem().empty() &&
      !WithinTrustedCertificates(response.ca_pem(),
                                 options.coordinator_ca_pem)) {
    return absl::FailedPreconditionError(absl::StrCat(
        where,
        ": the coordinator answered with a CA other than the configured "
        "coordinator_ca; check that coordinator_ca is this coordinator's "
        "internal CA"));
  }
  absl::StatusOr<crypto::Certificate> cert =
      crypto::Certificate::FromPem(response.certificate_pem());
  if (!cert.ok()) return Annotate(cert.status(), where);
  // The TLS handshake already verified the coordinator against the same CA:
  // the real time is the time to check at.
  RETURN_IF_ERROR(
      Annotate(CheckIssuedIdentity(*cert, key, options.coordinator_ca_pem,
                                   response.agent_id(), absl::Now()),
               where));
  Identity id{.agent_id = response.agent_id(),
              .cert_pem = cert->ToPem(),
              .ca_pem = options.coordinator_ca_pem};
  ASSIGN_OR_RETURN(id.key_pem, key.ToPem());
  id.not_before = cert->NotBefore();
  id.not_after = cert->NotAfter();
  return id;
}

}  // namespace

absl::StatusOr<Identity> Enroll(const EnrollOptions& options) {
  if (options.coordinators.empty()) {
    return absl::InvalidArgumentError("no coordinator address configured");
  }
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEc256));
  // The coordinator sets the subject and names itself; a CSR needs one name.
  ASSIGN_OR_RETURN(
      std::string csr,
      crypto::BuildCsrDer(key, {options.hostname.empty() ? std::string("agent")
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
    if (status.ok()) return CheckedIdentity(options, address, key, response);
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
  return absl::UnavailableError(
      absl::StrCat("no coordinator reachable for enrollment: ",
                   absl::StrJoin(errors, "; ")));
}

}  // namespace certfleet::agent
