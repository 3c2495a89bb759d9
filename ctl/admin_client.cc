#include "ctl/admin_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"

namespace certfleet::ctl {
namespace {

// The PEM blocks of `text` with the given label, in order, each with its
// BEGIN and END lines.
std::vector<std::string> PemBlocks(absl::string_view text,
                                   absl::string_view label) {
  const std::string begin = absl::StrCat("-----BEGIN ", label, "-----");
  const std::string end = absl::StrCat("-----END ", label, "-----");
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = text.find(begin, at)) != absl::string_view::npos) {
    const size_t stop = text.find(end, at);
    if (stop == absl::string_view::npos) break;
    out.push_back(absl::StrCat(text.substr(at, stop + end.size() - at), "\n"));
    at = stop + end.size();
  }
  return out;
}

// What the coordinator said, named, with gRPC's code kept.
absl::Status FromGrpc(const std::string& coordinator, const char* method,
                      const grpc::Status& s) {
  std::string why = s.error_message();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    absl::StrAppend(&why,
                    " (is the coordinator's admin API listening there, and "
                    "is the identity from its internal CA?)");
  }
  return absl::Status(
      static_cast<absl::StatusCode>(s.error_code()),
      absl::StrCat("coordinator ", coordinator, ": ", method, ": ", why));
}

}  // namespace

absl::StatusOr<AdminIdentity> ParseAdminIdentity(absl::string_view pem_text) {
  std::vector<std::string> keys = PemBlocks(pem_text, "PRIVATE KEY");
  if (keys.empty()) keys = PemBlocks(pem_text, "EC PRIVATE KEY");
  const std::vector<std::string> certs = PemBlocks(pem_text, "CERTIFICATE");
  if (keys.empty()) {
    return absl::InvalidArgumentError("it holds no PRIVATE KEY block");
  }
  if (certs.empty()) {
    return absl::InvalidArgumentError("it holds no CERTIFICATE block");
  }
  if (certs.size() < 2) {
    return absl::InvalidArgumentError(
        "it holds the admin certificate but no CA certificate after it");
  }
  AdminIdentity out{.key_pem = keys[0], .cert_pem = certs[0]};
  for (size_t i = 1; i < certs.size(); ++i) out.ca_pem += certs[i];
  return out;
}

std::unique_ptr<AdminClient> AdminClient::Connect(
    const std::string& coordinator, const AdminIdentity& identity,
    absl::Duration timeout) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = identity.ca_pem;
  ssl.pem_private_key = identity.key_pem;
  ssl.pem_cert_chain = identity.cert_pem;
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(coordinator, grpc::SslCredentials(ssl));
  return std::make_unique<AdminClient>(
      coordinator, v1::AdminService::NewStub(channel), timeout);
}

AdminClient::AdminClient(std::string coordinator,
                         std::unique_ptr<v1::AdminService::StubInterface> stub,
                         absl::Duration timeout)
    : coordinator_(std::move(coordinator)),
      stub_(std::move(stub)),
      timeout_(timeout) {}

// One unary call with the deadline, its status translated.
#define CERTFLEET_ADMIN_CALL(method, request, Response)                 \
  do {                                                                  \
    grpc::ClientContext context;                                        \
    context.set_deadline(std::chrono::system_clock::now() +             \
                         absl::ToChronoMilliseconds(timeout_));         \
    Response response;                                                  \
    const grpc::Status s = stub_->method(&context, request, &response); \
    if (!s.ok()) return FromGrpc(coordinator_, #method, s);             \
    return response;                                                    \
  } while (0)

absl::StatusOr<v1::GetStatusResponse> AdminClient::GetStatus() {
  CERTFLEET_ADMIN_CALL(GetStatus, v1::GetStatusRequest(),
                       v1::GetStatusResponse);
}

absl::StatusOr<v1::ListCertificatesResponse> AdminClient::ListCertificates() {
  CERTFLEET_ADMIN_CALL(ListCertificates, v1::ListCertificatesRequest(),
                       v1::ListCertificatesResponse);
}

absl::StatusOr<v1::GetCertificateResponse> AdminClient::GetCertificate(
    const std::string& name) {
  v1::GetCertificateRequest request;
  request.set_name(name);
  CERTFLEET_ADMIN_CALL(GetCertificate, request, v1::GetCertificateResponse);
}

absl::StatusOr<v1::ListAgentsResponse> AdminClient::ListAgents() {
  CERTFLEET_ADMIN_CALL(ListAgents, v1::ListAgentsRequest(),
                       v1::ListAgentsResponse);
}

absl::StatusOr<v1::GetAgentResponse> AdminClient::GetAgent(
    const std::string& id) {
  v1::GetAgentRequest request;
  request.set_id(id);
  CERTFLEET_ADMIN_CALL(GetAgent, request, v1::GetAgentResponse);
}

absl::StatusOr<v1::CreateTokenResponse> AdminClient::CreateToken(
    const std::map<std::string, std::string>& labels,
    std::optional<absl::Duration> ttl, const std::string& description,
    const std::string& for_agent) {
  v1::CreateTokenRequest request;
  request.set_for_agent(for_agent);
  for (const auto& [key, value] : labels) {
    (*request.mutable_labels())[key] = value;
  }
  if (ttl.has_value()) {
    DurationToProto(*ttl, request.mutable_ttl());
  }
  request.set_description(description);
  CERTFLEET_ADMIN_CALL(CreateToken, request, v1::CreateTokenResponse);
}

absl::StatusOr<v1::RenewCertificateResponse> AdminClient::RenewCertificate(
    const std::string& name) {
  v1::RenewCertificateRequest request;
  request.set_name(name);
  CERTFLEET_ADMIN_CALL(RenewCertificate, request, v1::RenewCertificateResponse);
}

absl::StatusOr<v1::ListAuditResponse> AdminClient::ListAudit(
    absl::Time since, const std::string& certificate, int limit) {
  v1::ListAuditRequest request;
  if (since != absl::InfinitePast()) {
    TimeToProto(since, request.mutable_since());
  }
  request.set_certificate(certificate);
  request.set_limit(limit);
  CERTFLEET_ADMIN_CALL(ListAudit, request, v1::ListAuditResponse);
}

absl::StatusOr<v1::GetRolloutResponse> AdminClient::GetRollout(
    const std::string& certificate) {
  v1::GetRolloutRequest request;
  request.set_certificate(certificate);
  CERTFLEET_ADMIN_CALL(GetRollout, request, v1::GetRolloutResponse);
}

absl::StatusOr<v1::GetRolloutResponse> AdminClient::PauseRollout(
    const std::string& certificate) {
  v1::PauseRolloutRequest request;
  request.set_certificate(certificate);
  CERTFLEET_ADMIN_CALL(PauseRollout, request, v1::GetRolloutResponse);
}

absl::StatusOr<v1::GetRolloutResponse> AdminClient::ResumeRollout(
    const std::string& certificate) {
  v1::ResumeRolloutRequest request;
  request.set_certificate(certificate);
  CERTFLEET_ADMIN_CALL(ResumeRollout, request, v1::GetRolloutResponse);
}

absl::StatusOr<v1::GetRolloutResponse> AdminClient::AbortRollout(
    const std::string& certificate) {
  v1::AbortRolloutRequest request;
  request.set_certificate(certificate);
  CERTFLEET_ADMIN_CALL(AbortRollout, request, v1::GetRolloutResponse);
}

absl::StatusOr<v1::GetRolloutResponse> AdminClient::Rollback(
    const std::string& certificate, int64_t to_version, bool expedite) {
  v1::RollbackRequest request;
  request.set_certificate(certificate);
  request.set_to_version(to_version);
  request.set_expedite(expedite);
  CERTFLEET_ADMIN_CALL(Rollback, request, v1::GetRolloutResponse);
}

absl::StatusOr<v1::AgentActionResponse> AdminClient::DisableAgent(
    const std::string& id, const std::string& reason) {
  v1::DisableAgentRequest request;
  request.set_id(id);
  request.set_reason(reason);
  CERTFLEET_ADMIN_CALL(DisableAgent, request, v1::AgentActionResponse);
}

absl::StatusOr<v1::AgentActionResponse> AdminClient::EnableAgent(
    const std::string& id) {
  v1::EnableAgentRequest request;
  request.set_id(id);
  CERTFLEET_ADMIN_CALL(EnableAgent, request, v1::AgentActionResponse);
}

absl::StatusOr<v1::AgentActionResponse> AdminClient::RemoveAgent(
    const std::string& id, const std::string& reason) {
  v1::RemoveAgentRequest request;
  request.set_id(id);
  request.set_reason(reason);
  CERTFLEET_ADMIN_CALL(RemoveAgent, request, v1::AgentActionResponse);
}

absl::StatusOr<v1::AgentActionResponse> AdminClient::RelabelAgent(
    const std::string& id, const std::map<std::string, std::string>& labels) {
  v1::RelabelAgentRequest request;
  request.set_id(id);
  for (const auto& [key, value] : labels) {
    (*request.mutable_labels())[key] = value;
  }
  CERTFLEET_ADMIN_CALL(RelabelAgent, request, v1::AgentActionResponse);
}

absl::StatusOr<v1::GetRolloutResponse> AdminClient::SkipRolloutHost(
    const std::string& certificate, const std::string& agent_id) {
  v1::SkipRolloutHostRequest request;
  request.set_certificate(certificate);
  request.set_agent_id(agent_id);
  CERTFLEET_ADMIN_CALL(SkipRolloutHost, request, v1::GetRolloutResponse);
}

#undef CERTFLEET_ADMIN_CALL

}  // namespace certfleet::ctl
