#include "coordinator/agentapi/agent_server.h"

#include <grpcpp/grpcpp.h>

#include <deque>
#include <set>

#include "absl/strings/str_cat.h"
#include "certfleet/v1/agent.grpc.pb.h"
#include "common/crypto/certificate.h"
#include "common/log.h"
#include "common/rpc/grpc_server.h"
#include "coordinator/delivery/agent_input.h"
#include "coordinator/delivery/rate_limits.h"

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
      identity::InternalCa::AgentIdFromCertificate(*cert);
  if (!id.ok()) return {};
  return {.id = *std::move(id), .serial = cert->SerialHex()};
}

class AgentStream;

// The open streams, for the heartbeat thread. A stream leaves it in OnDone,
// under the same lock the heartbeat takes: it is never sent to once gone.
class StreamRegistry {
 public:
  void Add(AgentStream* s) {
    absl::MutexLock lock(&mu_);
    streams_.insert(s);
  }
  void Remove(AgentStream* s) {
    absl::MutexLock lock(&mu_);
    streams_.erase(s);
  }
  void Heartbeat();
  // Ends every open stream with `why`.
  void EndAll(const absl::Status& why);

 private:
  absl::Mutex mu_;
  std::set<AgentStream*> streams_ ABSL_GUARDED_BY(mu_);
};

// One agent's stream. Each message read is checked (CheckAgentMessage) and
// handed to the hub; while limits.max_messages_in_hub_per_stream of its
// messages wait there, the next read waits for the hub to handle one (the
// hub's thread then starts it), so a fast sender is held back by HTTP/2 flow
// control. Below that, reads go on at once, as before: the hub's thread is
// the fan-out's bottleneck and starting a read costs it more than handling a
// small message. Writes are queued so that only one is outstanding, as gRPC
// requires.
class AgentStream
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage> {
 public:
  class Channel : public delivery::AgentChannel {
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
    // The hub handled one of the stream's messages.
    void Handled() {
      absl::MutexLock lock(&mu_);
      if (stream_) stream_->Handled();
    }
    bool Ended() const override {
      absl::MutexLock lock(&mu_);
      return stream_ == nullptr || stream_->Ending();
    }
    // The reactor is going away: later calls do nothing.
    void Orphan() {
      absl::MutexLock lock(&mu_);
      stream_ = nullptr;
    }

   private:
    mutable absl::Mutex mu_;
    AgentStream* stream_ ABSL_GUARDED_BY(mu_);
  };

  AgentStream(delivery::AgentHub& hub, StreamRegistry& registry,
              std::string agent_id, const std::string& serial,
              const delivery::AgentLimits& limits,
              delivery::HubObserver* observer)
      : hub_(hub),
        registry_(registry),
        agent_id_(std::move(agent_id)),
        limits_(limits),
        observer_(observer),
        channel_(std::make_shared<Channel>(this)) {
    hub_.Attach(agent_id_, serial, channel_);
    registry_.Add(this);
    StartRead(&in_);
  }

  // Ends the stream from outside (the replica hands its agents over).
  void End(const absl::Status& why) { Close(why); }

  // Finished or finishing: cancelled by the agent, closed, or refused.
  bool Ending() {
    absl::MutexLock lock(&mu_);
    return finished_ || finish_pending_;
  }

  // "Still here", unless a write is under way (that says it already).
  void Heartbeat() {
    absl::MutexLock lock(&mu_);
    if (writing_) return;
    v1::CoordinatorMessage heartbeat;
    heartbeat.mutable_heartbeat();
    SendLocked(std::move(heartbeat));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The agent closed its side (or the stream broke).
      Close(absl::OkStatus());
      return;
    }
    if (absl::Status s = delivery::CheckAgentMessage(in_, limits_); !s.ok()) {
      // A real agent never sends this: nothing of it is kept.
      CF_LOG_WARN("agent %s: stream ended: %s", agent_id_, s.message());
      if (observer_) {
        observer_->OnRefused(s.code() == absl::StatusCode::kResourceExhausted
                                 ? "too_many_targets"
                                 : "invalid_message");
      }
      Close(s);
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      ++in_hub_;  // before Submit: the hub may handle it at once
    }
    std::shared_ptr<Channel> channel = channel_;
    absl::Status queued = hub_.Submit(agent_id_, channel_, std::move(in_),
                                      [channel] { channel->Handled(); });
    if (!queued.ok()) {
      {
        absl::MutexLock lock(&mu_);
        --in_hub_;
      }
      Close(queued);  // logged and counted by the hub
      return;
    }
    absl::MutexLock lock(&mu_);
    if (finished_ || finish_pending_) return;
    if (in_hub_ < limits_.max_messages_in_hub_per_stream) {
      ReadLocked();
    } else {
      read_paused_ = true;  // Handled starts the next read
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    delivery::WipeKey(out_.front());
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
    registry_.Remove(this);
    channel_->Orphan();
    hub_.Detach(agent_id_, channel_.get());
    {
      // Nothing else can reach out_ now (the channel is orphaned and the
      // registry forgot us); the lock costs nothing and keeps the rule simple.
      absl::MutexLock lock(&mu_);
      // Bundles never written still hold their keys.
      for (v1::CoordinatorMessage& m : out_) delivery::WipeKey(m);
    }
    delete this;
  }

 private:
  void Send(const v1::CoordinatorMessage& message) {
    absl::MutexLock lock(&mu_);
    SendLocked(message);
  }

  // Queues `message`, and writes it at once when no write is under way.
  void SendLocked(v1::CoordinatorMessage message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || finish_pending_) return;
    out_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      StartWrite(&out_.front());
    }
  }

  void Handled() {
    absl::MutexLock lock(&mu_);
    --in_hub_;
    // Never a read after Finish: the call may be gone once it is done.
    if (!read_paused_ || finished_ || finish_pending_) return;
    read_paused_ = false;
    ReadLocked();
  }

  void ReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    in_.Clear();
    // Reactions are never run inline from StartRead (gRPC dispatches them to
    // its executor), so holding mu_ here cannot deadlock with OnReadDone.
    StartRead(&in_);
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

  delivery::AgentHub& hub_;
  StreamRegistry& registry_;
  const std::string agent_id_;
  const delivery::AgentLimits& limits_;
  delivery::HubObserver* const observer_;
  std::shared_ptr<Channel> channel_;
  v1::AgentMessage in_;
  absl::Mutex mu_;
  std::deque<v1::CoordinatorMessage> out_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  // Messages handed to the hub and not yet handled; whether the next read
  // waits for one of them.
  int in_hub_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
};

void StreamRegistry::Heartbeat() {
  absl::MutexLock lock(&mu_);
  for (AgentStream* s : streams_) s->Heartbeat();
}

void StreamRegistry::EndAll(const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  for (AgentStream* s : streams_) s->End(why);
}

// A stream that is refused before it starts.
class RefusedStream
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage> {
 public:
  explicit RefusedStream(grpc::Status status) { Finish(status); }
  void OnDone() override { delete this; }
};

class AgentServiceImpl final : public v1::AgentService::CallbackService {
 public:
  AgentServiceImpl(delivery::AgentHub& hub, const delivery::AgentLimits& limits,
                   delivery::HubObserver* observer)
      : hub_(hub), limits_(limits), observer_(observer) {}

  StreamRegistry& streams() { return streams_; }

  // While not serving, every new stream is refused with `why` (the agent
  // goes to another replica).
  void SetServing(bool serving, const absl::Status& why) {
    absl::MutexLock lock(&mu_);
    serving_ = serving;
    refusal_ = why;
  }

  grpc::ServerBidiReactor<v1::AgentMessage, v1::CoordinatorMessage>* Connect(
      grpc::CallbackServerContext* context) override {
    {
      absl::MutexLock lock(&mu_);
      if (!serving_) return new RefusedStream(ToGrpc(refusal_));
    }
    VerifiedAgent agent = VerifiedAgentId(context);
    if (agent.id.empty()) {
      return new RefusedStream(grpc::Status(
          grpc::StatusCode::UNAUTHENTICATED,
          "AgentService needs an agent identity certificate from this "
          "coordinator's internal CA; enroll first"));
    }
    return new AgentStream(hub_, streams_, std::move(agent.id), agent.serial,
                           limits_, observer_);
  }

 private:
  delivery::AgentHub& hub_;
  const delivery::AgentLimits& limits_;
  delivery::HubObserver* const observer_;
  StreamRegistry streams_;
  absl::Mutex mu_;
  bool serving_ ABSL_GUARDED_BY(mu_) = true;
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);
};

class EnrollmentImpl final : public v1::Enrollment::CallbackService {
 public:
  EnrollmentImpl(identity::EnrollmentService& enrollment,
                 delivery::AgentHub& hub, const delivery::AgentLimits& limits,
                 delivery::HubObserver* observer, Clock& clock)
      : enrollment_(enrollment),
        hub_(hub),
        limits_(limits),
        observer_(observer),
        per_address_(limits.enrollment_per_address,
                     limits.max_enrollment_sources, clock),
        overall_(limits.enrollment_overall, 1, clock) {}

  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* context,
                                   const v1::EnrollRequest* request,
                                   v1::EnrollResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const std::string source = delivery::SourceAddressKey(context->peer());
    if (absl::Status admitted = Admit(source); !admitted.ok()) {
      reactor->Finish(ToGrpc(admitted));
      return reactor;
    }
    // Checked before it is logged or stored; a failed attempt all the same.
    if (!delivery::IsHostname(request->hostname())) {
      if (observer_) observer_->OnRefused("invalid_hostname");
      const absl::Status refused = absl::InvalidArgumentError(absl::StrCat(
          "hostname ", delivery::Quoted(request->hostname()),
          " is not a host name (at most 253 characters: labels of letters, "
          "digits, \"-\" and \"_\" separated by dots)"));
      CF_LOG_WARN("enrollment from %s refused: %s", source, refused.message());
      reactor->Finish(ToGrpc(refused));
      return reactor;
    }
    std::map<std::string, std::string> labels(request->labels().begin(),
                                              request->labels().end());
    absl::StatusOr<identity::EnrollmentService::EnrollResult> result =
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
    // A host with a valid token costs the limits nothing.
    per_address_.Refund(source);
    overall_.Refund("");
    response->set_agent_id(result->agent_id);
    response->set_certificate_pem(result->certificate_pem);
    response->set_ca_pem(result->ca_pem);
    for (const auto& [k, v] : result->labels)
      (*response->mutable_labels())[k] = v;
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  static std::string Describe(const delivery::RateLimit& limit) {
    return absl::StrCat("at most ", limit.burst, " in a row, then one per ",
                        absl::FormatDuration(limit.refill_every));
  }
  static std::string RetryIn(absl::Duration d) {
    return absl::FormatDuration(absl::Ceil(d, absl::Seconds(1)));
  }

  // OK when the per-address and the overall limits have room for an attempt
  // from `source` (the address's limit first: one busy source must not use
  // up everyone's).
  absl::Status Admit(const std::string& source) {
    const delivery::KeyedRateLimiter::Decision mine = per_address_.Take(source);
    if (!mine.allowed) {
      if (observer_) observer_->OnRefused("enrollment_rate_address");
      if (mine.first_refusal) {
        CF_LOG_WARN(
            "enrollment attempts from %s refused: over the limit (%s; "
            "successful enrollments are not counted); logged once until it "
            "may try again",
            source, Describe(limits_.enrollment_per_address));
      }
      return absl::ResourceExhaustedError(absl::StrCat(
          "too many failed enrollment attempts from ", source, " (",
          Describe(limits_.enrollment_per_address), "); retry in ",
          RetryIn(mine.retry_after),
          " (the bootstrap token was not looked at, so it is still valid)"));
    }
    const delivery::KeyedRateLimiter::Decision all = overall_.Take("");
    if (!all.allowed) {
      per_address_.Refund(source);
      if (observer_) observer_->OnRefused("enrollment_rate_overall");
      if (all.first_refusal) {
        CF_LOG_WARN(
            "enrollment attempts refused: over the coordinator's overall "
            "limit (%s; successful enrollments are not counted); first "
            "refused: %s",
            Describe(limits_.enrollment_overall), source);
      }
      return absl::ResourceExhaustedError(absl::StrCat(
          "too many failed enrollment attempts at this coordinator (",
          Describe(limits_.enrollment_overall), "); retry in ",
          RetryIn(all.retry_after),
          " (the bootstrap token was not looked at, so it is still valid)"));
    }
    return absl::OkStatus();
  }

  identity::EnrollmentService& enrollment_;
  delivery::AgentHub& hub_;
  const delivery::AgentLimits& limits_;
  delivery::HubObserver* const observer_;
  delivery::KeyedRateLimiter per_address_;
  delivery::KeyedRateLimiter overall_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Start(
    AgentServerOptions options, identity::InternalCa& ca,
    identity::EnrollmentService& enrollment, delivery::AgentHub& hub) {
  absl::StatusOr<identity::InternalCa::ServerIdentity> identity =
      ca.IssueServerIdentity(options.server_names,
                             options.server_certificate_lifetime);
  if (!identity.ok()) return identity.status();

  std::unique_ptr<AgentServer> server(new AgentServer());
  server->limits_ = options.limits;
  Clock& clock =
      options.clock != nullptr ? *options.clock : server->system_clock_;
  server->enrollment_service_ = std::make_unique<EnrollmentImpl>(
      enrollment, hub, server->limits_, options.observer, clock);
  auto agent_service = std::make_unique<AgentServiceImpl>(hub, server->limits_,
                                                          options.observer);
  StreamRegistry& streams = agent_service->streams();
  server->set_serving_ = [impl = agent_service.get()](bool serving,
                                                      const absl::Status& why) {
    impl->SetServing(serving, why);
    if (!serving) impl->streams().EndAll(why);
  };
  server->agent_service_ = std::move(agent_service);
  const delivery::AgentLimits& limits = server->limits_;

  absl::StatusOr<StartedGrpcServer> started = StartGrpcServer({
      .what = "agent service",
      .listen = options.listen,
      .key_pem = identity->key_pem,
      .cert_pem = identity->cert_pem,
      .client_ca_pem = ca.ca_pem(),
      // Enrollment comes without a certificate; the stream checks its own.
      .client_certificates = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY,
      .services = {server->enrollment_service_.get(),
                   server->agent_service_.get()},
      .max_message_bytes = limits.max_message_bytes,
      .max_streams_per_connection = limits.max_streams_per_connection,
      // Agents ping every 30 s to keep their stream alive across idle NATs;
      // pings closer together with no data between are strikes, and a
      // connection past max_ping_strikes is closed (GOAWAY
      // "too_many_pings").
      .min_ping_interval = limits.min_ping_interval,
      .max_ping_strikes = limits.max_ping_strikes,
      .channel_args =
          {{GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1},
           // Memory per connected agent (bench/run_agents.sh): the TLS
           // frame protector holds one buffer of this size per connection,
           // 16 KB by default; 4 KB still carries a whole bundle in one or
           // two records and saves ~9 KB per agent. Most of the rest
           // (~110 KB: OpenSSL's BIO pair and record buffers, gRPC's read
           // staging buffers and call arena) has no channel argument in
           // gRPC 1.51.
           {GRPC_ARG_TSI_MAX_FRAME_SIZE, 4096}},
  });
  if (!started.ok()) return started.status();
  server->server_ = std::move(started->server);
  server->port_ = started->port;
  if (limits.heartbeat_interval > absl::ZeroDuration()) {
    server->heartbeats_ = std::thread([s = server.get(), &streams] {
      while (!s->stop_heartbeats_.WaitForNotificationWithTimeout(
          s->limits_.heartbeat_interval)) {
        streams.Heartbeat();
      }
    });
  }
  return server;
}

AgentServer::~AgentServer() { Shutdown(absl::ZeroDuration()); }

void AgentServer::SetServing(bool serving, const std::string& why) {
  set_serving_(serving, absl::UnavailableError(why));
}

void AgentServer::Shutdown(absl::Duration grace) {
  if (!stop_heartbeats_.HasBeenNotified()) stop_heartbeats_.Notify();
  if (heartbeats_.joinable()) heartbeats_.join();
  ShutdownGrpcServer(server_, grace);
}

}  // namespace certfleet::agentapi
