// AgentSession: the connection, the stream and the install worker. Identity
// renewal is in session_identity.cc.
#include "agent/client/session.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "agent/client/coordinator_rotation.h"
#include "agent/client/silence_watch.h"
#include "certfleet/v1/agent.grpc.pb.h"
#include "common/delivery_step.h"
#include "common/log.h"
#include "common/proto_time.h"

namespace certfleet::agent {
AgentSession::AgentSession(SessionOptions options, IdentityStore& identities,
                           TargetManager& targets, Clock& clock,
                           SessionObserver* observer)
    : options_(std::move(options)),
      identities_(identities),
      targets_(targets),
      clock_(clock),
      observer_(observer),
      worker_([this] { Worker(); }) {}

AgentSession::~AgentSession() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  worker_.join();
}

void AgentSession::Send(const v1::AgentMessage& message) {
  absl::MutexLock lock(&write_mu_);
  if (writer_ == nullptr) return;  // reported in the next Inventory
  writer_->Write(message);
}

void AgentSession::ReportHealth(const HealthChange& change) {
  v1::AgentMessage msg;
  v1::HealthReport* r = msg.mutable_health();
  r->set_target(change.target);
  r->set_healthy(change.healthy);
  r->set_detail(change.detail);
  Send(msg);
}

void AgentSession::SendInventory() {
  v1::AgentMessage msg;
  for (const TargetStatus& t : targets_.Inventory()) {
    v1::TargetState* s = msg.mutable_inventory()->add_targets();
    s->set_name(t.name);
    s->set_version_id(t.version_id);
    s->set_serial(t.serial);
    TimeToProto(t.not_after, s->mutable_not_after());
    s->set_healthy(t.healthy);
    s->set_health_detail(t.health_detail);
    if (t.last_failure.has_value()) {
      v1::LocalFailure* f = s->mutable_last_failure();
      f->set_version_id(t.last_failure->version_id);
      f->set_failed_step(
          std::string(DeliveryStepName(t.last_failure->failed_step)));
      f->set_error(t.last_failure->error);
      f->set_rolled_back(t.last_failure->rolled_back);
    }
    s->set_state_problem(t.state_problem);
  }
  Send(msg);
}

void AgentSession::Run(const Context& ctx) {
  run_ctx_ = ctx;
  Backoff backoff(options_.reconnect);
  CoordinatorRotation rotation(options_.coordinators);
  while (!ctx.IsCancelled()) {
    absl::StatusOr<Identity> identity = identities_.Load();
    if (!identity.ok()) {
      CF_LOG_ERROR("%s", identity.status().ToString());
      (void)clock_.SleepFor(backoff.Next(), ctx);
      continue;
    }
    const std::string address = rotation.Next();
    const absl::Time started = clock_.Now();
    const StreamEnd end = ServeOnce(address, *identity, ctx);
    const absl::Status& ended = end.why;
    if (ctx.IsCancelled()) break;
    if (end.silent) {
      rotation.MarkSilent(address);
    } else if (end.heard) {
      rotation.MarkHeard(address);
    }
    // A stream that lived a while was healthy: start backing off afresh.
    if (clock_.Now() - started > absl::Minutes(1)) backoff.Reset();
    const absl::Duration wait = backoff.Next();
    if (absl::IsPermissionDenied(ended)) {
      // Retrying is still right (a store restored from a backup may know
      // it again), but only a person can fix this.
      CF_LOG_ERROR(
          "coordinator %s: %s; this agent's identity is refused: enroll it "
          "again with a new token (certfleet-agent enroll); retrying in %s",
          address, ended.ToString(), absl::FormatDuration(wait));
    } else {
      CF_LOG_WARN("coordinator %s: %s; reconnecting in %s", address,
                  ended.ToString(), absl::FormatDuration(wait));
    }
    if (observer_) observer_->OnDisconnected(address, ended.ToString());
    (void)clock_.SleepFor(wait, ctx);
  }
}

AgentSession::StreamEnd AgentSession::ServeOnce(const std::string& address,
                                                const Identity& identity,
                                                const Context& ctx) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = identity.ca_pem;
  ssl.pem_private_key = identity.key_pem;
  ssl.pem_cert_chain = identity.cert_pem;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options_.keepalive)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  auto channel =
      grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
  auto stub = v1::AgentService::NewStub(channel);
  grpc::ClientContext context;
  // Declared after `context`: stopped before the context goes. From the
  // start: a hung coordinator accepts the TCP connection and never finishes
  // the handshake, so opening the stream and the hello would wait for ever.
  SilenceWatch watch(options_.welcome_timeout,
                     [&context] { context.TryCancel(); });
  std::unique_ptr<Stream> stream = stub->Connect(&context);
  // The agent shutting down ends the stream's blocking Read: run by the
  // thread that cancels `ctx` (at once if it already is). Declared after
  // `context`: unregistered, a run in progress waited for, before it goes.
  const Cancellation::Callback stop =
      ctx.OnCancel([&context] { context.TryCancel(); });
  {
    absl::MutexLock lock(&write_mu_);
    writer_ = stream.get();
  }
  {
    absl::MutexLock lock(&mu_);
    context_ = &context;
    connected_ = true;
    identity_ = identity;
  }

  v1::AgentMessage hello;
  hello.mutable_hello()->set_agent_version(options_.agent_version);
  hello.mutable_hello()->set_hostname(options_.hostname);
  Send(hello);
  SendInventory();

  v1::CoordinatorMessage in;
  bool heard = false;
  while (stream->Read(&in)) {
    heard = true;
    watch.Heard();
    switch (in.message_case()) {
      case v1::CoordinatorMessage::kWelcome: {
        const int32_t every = in.welcome().heartbeat_interval_ms();
        // An older coordinator sends no heartbeats: keepalive alone then.
        watch.SetLimit(every > 0 ? 3 * absl::Milliseconds(every)
                                 : absl::InfiniteDuration());
        CF_LOG_INFO("connected to coordinator %s as %s", address,
                    in.welcome().agent_id());
        if (observer_) observer_->OnConnected(address);
        break;
      }
      case v1::CoordinatorMessage::kHeartbeat:
        break;
      case v1::CoordinatorMessage::kBundle: {
        const v1::DesiredBundle& b = in.bundle();
        Job job{{.target = b.target(),
                 .version_id = b.version_id(),
                 .certificate = b.certificate(),
                 .leaf_pem = b.leaf_pem(),
                 .chain_pem = b.chain_pem(),
                 .key_pem = b.key_pem(),
                 .not_after = TimeFromProto(b.not_after())},
                b.nonce()};
        absl::MutexLock lock(&mu_);
        // A newer bundle for a target replaces one still waiting.
        std::erase_if(jobs_, [&](const Job& j) {
          return j.bundle.target == job.bundle.target;
        });
        jobs_.push_back(std::move(job));
        break;
      }
      case v1::CoordinatorMessage::kIdentity:
        HandleIdentity(address, in.identity().certificate_pem(),
                       in.identity().ca_pem());
        break;
      default:
        break;
    }
  }
  {
    absl::MutexLock lock(&mu_);
    context_ = nullptr;
    connected_ = false;
    // Bundles not started yet wait for the coordinator: nothing on the host
    // changes while it is unreachable (it sends them again on reconnect).
    jobs_.clear();
  }
  {
    absl::MutexLock lock(&write_mu_);
    writer_ = nullptr;
  }
  grpc::Status status = stream->Finish();
  if (watch.fired() && !ctx.IsCancelled()) {
    return {.why = absl::DeadlineExceededError(absl::StrCat(
                "heard nothing for ", absl::FormatDuration(watch.limit()),
                heard ? "" : " (not even a welcome)",
                ": the coordinator is hung or cut off; trying another")),
            .heard = heard,
            .silent = true};
  }
  if (status.ok()) {
    return {.why = absl::UnavailableError("the coordinator ended the stream"),
            .heard = heard};
  }
  return {
      .why = absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message()),
      .heard = heard};
}

void AgentSession::Worker() {
  while (true) {
    std::optional<Job> job;
    {
      absl::MutexLock lock(&mu_);
      // Wake for a job, for shutdown, or when the identity is due for
      // renewal — nothing else runs periodically. That time moves when a
      // stream opens or a renewal is asked for or answered: wake then too.
      const absl::Time check = NextIdentityCheck();
      auto ready = [this, check]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !jobs_.empty() || NextIdentityCheck() != check;
      };
      // `check` is on clock_'s time line; the wait is in real time.
      const absl::Time deadline = check == absl::InfiniteFuture()
                                      ? check
                                      : absl::Now() + (check - clock_.Now());
      mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
      if (stopping_) return;
      if (!jobs_.empty()) {
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
    }
    if (!job) {
      MaybeRenewIdentity();
      continue;
    }
    InstallOutcome outcome = targets_.Install(job->bundle, run_ctx_);
    v1::AgentMessage msg;
    v1::DeliveryResult* r = msg.mutable_result();
    r->set_target(job->bundle.target);
    r->set_version_id(job->bundle.version_id);
    r->set_nonce(job->nonce);
    r->set_ok(outcome.ok);
    if (outcome.failed_step.has_value()) {
      r->set_failed_step(std::string(DeliveryStepName(*outcome.failed_step)));
    }
    r->set_error(outcome.error);
    r->set_rolled_back(outcome.rolled_back);
    Send(msg);
    SendInventory();
  }
}

}  // namespace certfleet::agent
