#include "tests/agentapi/scripted_coordinator.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"

namespace certfleet::agentapi::testing {

std::unique_ptr<ScriptedCoordinator> ScriptedCoordinator::Start(
    identity::InternalCa& ca) {
  absl::StatusOr<identity::InternalCa::ServerIdentity> identity =
      ca.IssueServerIdentity({"127.0.0.1"}, absl::Hours(1));
  if (!identity.ok()) {
    fprintf(stderr, "scripted coordinator: %s\n",
            identity.status().ToString().c_str());
    abort();
  }
  // Enrollment comes without a client certificate; streams present one.
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = ca.ca_pem();
  ssl.pem_key_cert_pairs.push_back({identity->key_pem, identity->cert_pem});
  std::unique_ptr<ScriptedCoordinator> c(new ScriptedCoordinator());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl),
                           &c->port_);
  builder.RegisterService(c.get());
  builder.RegisterService(&c->enrollment_);
  c->server_ = builder.BuildAndStart();
  if (c->server_ == nullptr || c->port_ == 0) {
    fprintf(stderr, "scripted coordinator: cannot listen\n");
    abort();
  }
  return c;
}

ScriptedCoordinator::~ScriptedCoordinator() {
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
}

std::string ScriptedCoordinator::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::optional<std::string> ScriptedCoordinator::WaitForRenewal(
    absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto received = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !renewals_.empty();
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&received), timeout)) {
    return std::nullopt;
  }
  std::string csr = std::move(renewals_.front());
  renewals_.pop_front();
  return csr;
}

bool ScriptedCoordinator::Send(const v1::CoordinatorMessage& message) {
  absl::MutexLock lock(&mu_);
  return stream_ != nullptr && stream_->Write(message);
}

std::vector<std::string> ScriptedCoordinator::client_serials() const {
  absl::MutexLock lock(&mu_);
  return client_serials_;
}

void ScriptedCoordinator::SetEnrollAnswer(EnrollAnswer answer) {
  absl::MutexLock lock(&mu_);
  enroll_answer_ = std::move(answer);
}

grpc::Status ScriptedCoordinator::Enrollment::Enroll(
    grpc::ServerContext*, const v1::EnrollRequest* request,
    v1::EnrollResponse* response) {
  EnrollAnswer answer;
  {
    absl::MutexLock lock(&owner_.mu_);
    answer = owner_.enroll_answer_;
  }
  if (!answer) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
  *response = answer(*request);
  return grpc::Status::OK;
}

grpc::Status ScriptedCoordinator::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::CoordinatorMessage, v1::AgentMessage>*
        stream) {
  std::string serial;
  const std::vector<grpc::string_ref> pem =
      context->auth_context()->FindPropertyValues("x509_pem_cert");
  if (!pem.empty()) {
    absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromPem(
        absl::string_view(pem.front().data(), pem.front().size()));
    if (cert.ok()) serial = cert->SerialHex();
  }
  if (serial.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "no client certificate");
  }
  {
    absl::MutexLock lock(&mu_);
    client_serials_.push_back(serial);
    stream_ = stream;
  }
  v1::AgentMessage in;
  while (stream->Read(&in)) {
    if (in.has_hello()) {
      v1::CoordinatorMessage welcome;
      welcome.mutable_welcome()->set_agent_id("scripted");
      welcome.mutable_welcome()->set_coordinator("scripted");
      absl::MutexLock lock(&mu_);
      stream->Write(welcome);
    } else if (in.has_renew_identity()) {
      absl::MutexLock lock(&mu_);
      renewals_.push_back(in.renew_identity().csr_der());
    }
  }
  absl::MutexLock lock(&mu_);
  if (stream_ == stream) stream_ = nullptr;
  return grpc::Status::OK;
}

v1::CoordinatorMessage IdentityMessage(const std::string& cert_pem,
                                       const std::string& ca_pem) {
  v1::CoordinatorMessage m;
  m.mutable_identity()->set_certificate_pem(cert_pem);
  m.mutable_identity()->set_ca_pem(ca_pem);
  return m;
}

}  // namespace certfleet::agentapi::testing
