#include "coordinator/adminapi/admin_server.h"

#include <grpcpp/grpcpp.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "certfleet/v1/admin.grpc.pb.h"
#include "common/log.h"
#include "common/rpc/grpc_server.h"
#include "coordinator/adminapi/admin_audit.h"
#include "coordinator/adminapi/admin_auth.h"

namespace certfleet::adminapi {
namespace {

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  explicit AdminServiceImpl(AdminBackend& backend) : backend_(backend) {}

  grpc::Status GetStatus(grpc::ServerContext* context,
                         const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override {
    return Answer(
        context, "GetStatus", *request, response,
        [&](const std::string& caller) { return backend_.GetStatus(caller); });
  }
  grpc::Status ListCertificates(
      grpc::ServerContext* context, const v1::ListCertificatesRequest* request,
      v1::ListCertificatesResponse* response) override {
    return Answer(
        context, "ListCertificates", *request, response,
        [&](const std::string&) { return backend_.ListCertificates(); });
  }
  grpc::Status GetCertificate(grpc::ServerContext* context,
                              const v1::GetCertificateRequest* request,
                              v1::GetCertificateResponse* response) override {
    return Answer(
        context, "GetCertificate", *request, response,
        [&](const std::string&) { return backend_.GetCertificate(*request); });
  }
  grpc::Status ListAgents(grpc::ServerContext* context,
                          const v1::ListAgentsRequest* request,
                          v1::ListAgentsResponse* response) override {
    return Answer(context, "ListAgents", *request, response,
                  [&](const std::string&) { return backend_.ListAgents(); });
  }
  grpc::Status GetAgent(grpc::ServerContext* context,
                        const v1::GetAgentRequest* request,
                        v1::GetAgentResponse* response) override {
    return Answer(
        context, "GetAgent", *request, response,
        [&](const std::string&) { return backend_.GetAgent(*request); });
  }
  grpc::Status CreateToken(grpc::ServerContext* context,
                           const v1::CreateTokenRequest* request,
                           v1::CreateTokenResponse* response) override {
    return Answer(context, "CreateToken", *request, response,
                  [&](const std::string& caller) {
                    return backend_.CreateToken(*request, caller);
                  });
  }
  grpc::Status DisableAgent(grpc::ServerContext* context,
                            const v1::DisableAgentRequest* request,
                            v1::AgentActionResponse* response) override {
    return Answer(context, "DisableAgent", *request, response,
                  [&](const std::string& caller) {
                    return backend_.DisableAgent(*request, caller);
                  });
  }
  grpc::Status EnableAgent(grpc::ServerContext* context,
                           const v1::EnableAgentRequest* request,
                           v1::AgentActionResponse* response) override {
    return Answer(context, "EnableAgent", *request, response,
                  [&](const std::string& caller) {
                    return backend_.EnableAgent(*request, caller);
                  });
  }
  grpc::Status RemoveAgent(grpc::ServerContext* context,
                           const v1::RemoveAgentRequest* request,
                           v1::AgentActionResponse* response) override {
    return Answer(context, "RemoveAgent", *request, response,
                  [&](const std::string& caller) {
                    return backend_.RemoveAgent(*request, caller);
                  });
  }
  grpc::Status RelabelAgent(grpc::ServerContext* context,
                            const v1::RelabelAgentRequest* request,
                            v1::AgentActionResponse* response) override {
    return Answer(context, "RelabelAgent", *request, response,
                  [&](const std::string& caller) {
                    return backend_.RelabelAgent(*request, caller);
                  });
  }
  grpc::Status SkipRolloutHost(grpc::ServerContext* context,
                               const v1::SkipRolloutHostRequest* request,
                               v1::GetRolloutResponse* response) override {
    return Answer(context, "SkipRolloutHost", *request, response,
                  [&](const std::string& caller) {
                    return backend_.SkipRolloutHost(*request, caller);
                  });
  }
  grpc::Status RenewCertificate(
      grpc::ServerContext* context, const v1::RenewCertificateRequest* request,
      v1::RenewCertificateResponse* response) override {
    return Answer(context, "RenewCertificate", *request, response,
                  [&](const std::string& caller) {
                    return backend_.RenewCertificate(*request, caller);
                  });
  }
  grpc::Status ListAudit(grpc::ServerContext* context,
                         const v1::ListAuditRequest* request,
                         v1::ListAuditResponse* response) override {
    return Answer(
        context, "ListAudit", *request, response,
        [&](const std::string&) { return backend_.ListAudit(*request); });
  }
  grpc::Status GetRollout(grpc::ServerContext* context,
                          const v1::GetRolloutRequest* request,
                          v1::GetRolloutResponse* response) override {
    return Answer(
        context, "GetRollout", *request, response,
        [&](const std::string&) { return backend_.GetRollout(*request); });
  }
  grpc::Status PauseRollout(grpc::ServerContext* context,
                            const v1::PauseRolloutRequest* request,
                            v1::GetRolloutResponse* response) override {
    return Answer(context, "PauseRollout", *request, response,
                  [&](const std::string& caller) {
                    return backend_.CommandRollout(
                        RolloutCommand::kPause, request->certificate(), caller);
                  });
  }
  grpc::Status ResumeRollout(grpc::ServerContext* context,
                             const v1::ResumeRolloutRequest* request,
                             v1::GetRolloutResponse* response) override {
    return Answer(context, "ResumeRollout", *request, response,
                  [&](const std::string& caller) {
                    return backend_.CommandRollout(RolloutCommand::kResume,
                                                   request->certificate(),
                                                   caller);
                  });
  }
  grpc::Status AbortRollout(grpc::ServerContext* context,
                            const v1::AbortRolloutRequest* request,
                            v1::GetRolloutResponse* response) override {
    return Answer(context, "AbortRollout", *request, response,
                  [&](const std::string& caller) {
                    return backend_.CommandRollout(
                        RolloutCommand::kAbort, request->certificate(), caller);
                  });
  }
  grpc::Status Rollback(grpc::ServerContext* context,
                        const v1::RollbackRequest* request,
                        v1::GetRolloutResponse* response) override {
    return Answer(context, "Rollback", *request, response,
                  [&](const std::string& caller) {
                    return backend_.Rollback(*request, caller);
                  });
  }

 private:
  // Every call: the caller must be an admin identity; then the backend.
  // A call that changes something (AuditOf, admin_audit.h: every request
  // type must have one) is audited with its result, failures included.
  // Refused callers are logged, not audited: they never reach an action.
  template <typename Request, typename Response, typename Call>
  grpc::Status Answer(grpc::ServerContext* context, const char* method,
                      const Request& request, Response* response, Call call) {
    absl::StatusOr<std::string> caller = AdminCaller(context->auth_context());
    if (!caller.ok()) {
      CF_LOG_WARN("admin API: %s from %s refused: %s", method, context->peer(),
                  caller.status().ToString());
      return ToGrpcStatus(caller.status());
    }
    std::optional<AuditAction> audit = AuditOf(request);
    absl::StatusOr<Response> result = call(*caller);
    if (audit.has_value()) {
      if (result.ok()) AddOutcome(*result, *audit);
      // A lost record is logged by RecordAudit; the action stands either
      // way, so the caller still gets its answer.
      (void)backend_.RecordAudit(*caller, *audit, result.status());
    }
    if (!result.ok()) {
      CF_LOG_INFO("admin API: %s by %s failed: %s", method, *caller,
                  result.status().ToString());
      return ToGrpcStatus(result.status());
    }
    *response = *std::move(result);
    return grpc::Status::OK;
  }

  AdminBackend& backend_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(
    AdminServerOptions options, identity::InternalCa& ca,
    AdminBackend& backend) {
  absl::StatusOr<identity::InternalCa::ServerIdentity> identity =
      ca.IssueServerIdentity(options.server_names,
                             options.server_certificate_lifetime);
  if (!identity.ok()) return identity.status();

  std::unique_ptr<AdminServer> server(new AdminServer());
  server->service_ = std::make_unique<AdminServiceImpl>(backend);
  absl::StatusOr<StartedGrpcServer> started = StartGrpcServer({
      .what = "admin API",
      .listen = options.listen,
      .key_pem = identity->key_pem,
      .cert_pem = identity->cert_pem,
      .client_ca_pem = ca.ca_pem(),
      // Unlike the agent listener (enrollment comes without a
      // certificate), every client here must present one from the internal
      // CA.
      .client_certificates =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
      .services = {server->service_.get()},
      .max_message_bytes = options.max_message_bytes,
      .max_streams_per_connection = options.max_streams_per_connection,
      .min_ping_interval = options.min_ping_interval,
      .max_ping_strikes = options.max_ping_strikes,
  });
  if (!started.ok()) return started.status();
  server->server_ = std::move(started->server);
  server->port_ = started->port;
  return server;
}

AdminServer::~AdminServer() { Shutdown(absl::ZeroDuration()); }

void AdminServer::Shutdown(absl::Duration grace) {
  ShutdownGrpcServer(server_, grace);
}

}  // namespace certfleet::adminapi
