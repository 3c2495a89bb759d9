#include "coordinator/agentapi/agent_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <deque>

#include "absl/strings/str_cat.h"
#include "certfleet/v1/agent.grpc.pb.h"
#include "common/crypto/certificate.h"
#include "common/log.h"

namespace certfleet::agentapi {
namespace {

grpc::Status ToGrpc(const absl::Status& s) {
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

// Who a verified client certificate speaks for: the agent id, and the
// certificate's serial (the hub admits only the agent's current one).
struct VerifiedAgent {
  std::string id;      // "" when the peer is no agent
  std::string serial;  // lower-case hex
};

VerifiedAgent VerifiedAgentId(const grpc::CallbackServerContext* context) {
  std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return {};
  std::vector<grpc::string_ref> pem = auth->FindPropertyValues("x509_pem_cert");
  if (pem.empty()) return {};
  absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromPem(
      absl::string_view(pem[0].data(), pem[0].size()));
  if (!cert.ok()) return {};
  absl::StatusOr<std::string> id =
      fleet::InternalCa::AgentIdFromCertificate(*cert);
  if (!id.ok()) return {};
  return {.id = *std::move(id), .serial = cert->SerialHex()};
}

// One agent's stream. Reads are handed to the hub; writes are queued so
// that only one is outstanding, as gRPC requires.
class AgentStream
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage> {
 public:
  class Channel : public AgentChannel {
   public:
    explicit Channel(AgentStream* stream) : stream_(stream) {}
    void Send(const v1::CoordinatorMessage& message) override {
      absl::MutexLock lock(&mu_);
      if (stream_) stream_->Send(message);
    }
    void Close(const absl::Status& why) override {
      absl::MutexLock lock(&mu_);
      if (stream_) stream_->Close(why);
    }
    // The reactor is going away: later calls do nothing.
    void Orphan() {
      absl::MutexLock lock(&mu_);
      stream_ = nullptr;
    }

   private:
    absl::Mutex mu_;
    AgentStream* stream_ ABSL_GUARDED_BY(mu_);
  };

  AgentStream(AgentHub& hub, std::string agent_id, const std::string& serial)
      : hub_(hub),
        agent_id_(std::move(agent_id)),
        channel_(std::make_shared<Channel>(this)) {
    hub_.Attach(agent_id_, serial, channel_);
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The agent closed its side (or the stream broke).
      Close(absl::OkStatus());
      return;
    }
    hub_.OnMessage(agent_id_, std::move(in_));
    in_.Clear();
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    out_.pop_front();
    if (!ok) {
      writing_ = false;
      // A Close() may have been waiting for this write: finish now, or the
      // stream never ends and Server::Shutdown waits for it forever.
      if (finish_pending_ && !finished_) FinishLocked();
      return;
    }
    if (!out_.empty() && !finished_) {
      StartWrite(&out_.front());
    } else {
      writing_ = false;
      if (finish_pending_ && !finished_) FinishLocked();
    }
  }

  void OnCancel() override { Close(absl::CancelledError("cancelled")); }

  void OnDone() override {
    channel_->Orphan();
    hub_.Detach(agent_id_, channel_.get());
    delete this;
  }

 private:
  void Send(const v1::CoordinatorMessage& message) {
    absl::MutexLock lock(&mu_);
    if (finished_ || finish_pending_) return;
    out_.push_back(message);
    if (!writing_) {
      writing_ = true;
      StartWrite(&out_.front());
    }
  }

  // Finishes once queued writes are out (a replaced stream still gets its
  // explanation).
  void Close(const absl::Status& why) {
    absl::MutexLock lock(&mu_);
    if (finished_ || finish_pending_) return;
    // absl and gRPC share the canonical status codes.
    status_ = grpc::Status(static_cast<grpc::StatusCode>(why.code()),
                           std::string(why.message()));
    finish_pending_ = true;
    if (!writing_) FinishLocked();
  }

  void FinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    Finish(status_);
  }

  AgentHub& hub_;
  const std::string agent_id_;
  std::shared_ptr<Channel> channel_;
  v1::AgentMessage in_;
  absl::Mutex mu_;
  std::deque<v1::CoordinatorMessage> out_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

// A stream that is refused before it starts.
class RefusedStream
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage> {
 public:
  explicit RefusedStream(grpc::Status status) { Finish(status); }
  void OnDone() override { delete this; }
};

class AgentServiceImpl final : public v1::AgentService::CallbackService {
 public:
  explicit AgentServiceImpl(AgentHub& hub) : hub_(hub) {}

  grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage>* Connect(
      grpc::CallbackServerContext* context) override {
    VerifiedAgent agent = VerifiedAgentId(context);
    if (agent.id.empty()) {
      return new RefusedStream(grpc::Status(
          grpc::StatusCode::UNAUTHENTICATED,
          "AgentService needs an agent identity certificate from this "
          "coordinator's internal CA; enroll first"));
    }
    return new AgentStream(hub_, std::move(agent.id), agent.serial);
  }

 private:
  AgentHub& hub_;
};

class EnrollmentImpl final : public v1::Enrollment::CallbackService {
 public:
  EnrollmentImpl(fleet::EnrollmentService& enrollment, AgentHub& hub)
      : enrollment_(enrollment), hub_(hub) {}

  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* context,
                                   const v1::EnrollRequest* request,
                                   v1::EnrollResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::map<std::string, std::string> labels(request->labels().begin(),
                                              request->labels().end());
    absl::StatusOr<fleet::EnrollmentService::EnrollResult> result =
        enrollment_.Enroll(request->token(), request->csr_der(),
                           request->hostname(), labels);
    if (!result.ok()) {
      CF_LOG_WARN("enrollment of %s from %s refused: %s", request->hostname(),
                  context->peer(), result.status().ToString());
      reactor->Finish(ToGrpc(result.status()));
      return reactor;
    }
    // A re-enrolled agent's old identity may still hold a stream here.
    if (result->reenrolled) hub_.AgentChanged(result->agent_id);
    response->set_agent_id(result->agent_id);
    response->set_certificate_pem(result->certificate_pem);
    response->set_ca_pem(result->ca_pem);
    for (const auto& [k, v] : result->labels)
      (*response->mutable_labels())[k] = v;
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  fleet::EnrollmentService& enrollment_;
  AgentHub& hub_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Start(
    AgentServerOptions options, fleet::InternalCa& ca,
    fleet::EnrollmentService& enrollment, AgentHub& hub) {
  absl::StatusOr<fleet::InternalCa::ServerIdentity> identity =
      ca.IssueServerIdentity(options.server_names,
                             options.server_certificate_lifetime);
  if (!identity.ok()) return identity.status();

  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = ca.ca_pem();
  ssl.pem_key_cert_pairs.push_back({identity->key_pem, identity->cert_pem});

  std::unique_ptr<AgentServer> server(new AgentServer());
  server->enrollment_service_ =
      std::make_unique<EnrollmentImpl>(enrollment, hub);
  server->agent_service_ = std::make_unique<AgentServiceImpl>(hub);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::SslServerCredentials(ssl),
                           &server->port_);
  builder.RegisterService(server->enrollment_service_.get());
  builder.RegisterService(server->agent_service_.get());
  // Agents ping to keep their stream alive across idle NATs; accept it.
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(
          absl::ToInt64Milliseconds(options.min_client_ping_interval)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Memory per connected agent (bench/run_agents.sh): the TLS frame
  // protector holds one buffer of this size per connection, 16 KB by
  // default; 4 KB still carries a whole bundle in one or two records and
  // saves ~9 KB per agent. Most of the rest (~110 KB: OpenSSL's BIO pair and
  // record buffers, gRPC's read staging buffers and call arena) has no
  // channel argument in gRPC 1.51.
  builder.AddChannelArgument(GRPC_ARG_TSI_MAX_FRAME_SIZE, 4096);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("agent service cannot listen on ", options.listen,
                     " (address in use, or not an address of this host?)"));
  }
  CF_LOG_INFO("agent service listening on %s (port %d)", options.listen,
              server->port_);
  return server;
}

AgentServer::~AgentServer() { Shutdown(absl::ZeroDuration()); }

void AgentServer::Shutdown(absl::Duration grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(grace));
  server_.reset();
}

}  // namespace certfleet::agentapi
