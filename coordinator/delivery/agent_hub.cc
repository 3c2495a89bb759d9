#include "coordinator/delivery/agent_hub.h"

#include <openssl/crypto.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "common/crypto/encoding.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "coordinator/delivery/agent_input.h"
#include "coordinator/issuance/issuer.h"

namespace certfleet::delivery {
namespace {

// Agents renewing at once that the renewal limit tracks; idle ones are
// forgotten first (rate_limits.h).
constexpr size_t kMaxRenewingAgents = 100000;

}  // namespace

void WipeKey(v1::CoordinatorMessage& message) {
  if (!message.has_bundle()) return;
  std::string* key = message.mutable_bundle()->mutable_key_pem();
  OPENSSL_cleanse(key->data(), key->size());
}

AgentHub::AgentHub(store::Store& store, const crypto::Kek& kek,
                   const delivery::Assignments& assignments,
                   identity::EnrollmentService& enrollment, std::string ca_pem,
                   Clock& clock, HubObserver* observer,
                   const AgentLimits& limits)
    : store_(store),
      kek_(kek),
      assignments_(assignments),
      enrollment_(enrollment),
      ca_pem_(std::move(ca_pem)),
      clock_(clock),
      observer_(observer),
      limits_(limits),
      renewals_(limits.renewals_per_agent, kMaxRenewingAgents, clock),
      writer_(std::make_unique<HubWriter>(
          store,
          [this](std::function<void()> reply) { PostReply(std::move(reply)); },
          observer)),
      thread_([this] { Run(); }) {}

AgentHub::~AgentHub() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
  // Writes what the last tasks queued (the detaches' last-seen times); its
  // replies stay in the queue unrun.
  writer_.reset();
}

void AgentHub::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

void AgentHub::PostReply(std::function<void()> reply) {
  absl::MutexLock lock(&mu_);
  replies_.push_back(std::move(reply));
}

void AgentHub::Run() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      const bool woken = mu_.AwaitWithDeadline(
          absl::Condition(
              +[](AgentHub* h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(h->mu_) {
                return h->stopping_ || !h->tasks_.empty() ||
                       !h->replies_.empty();
              },
              this),
          retry_at_);
      if (!woken) {
        // Time to retry the reconciles that could not read a version.
        retry_at_ = absl::InfiniteFuture();
        task = [this] {
          std::set<std::string> agents;
          agents.swap(retry_);
          for (const std::string& id : agents) {
            auto it = agents_.find(id);
            if (it != agents_.end()) Reconcile(id, it->second);
          }
        };
      } else if (!replies_.empty()) {
        task = std::move(replies_.front());
        replies_.pop_front();
      } else {
        if (tasks_.empty()) return;  // stopping
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
    }
    task();
    ForgetOpenedKeys();
    ReleaseHeldBack();
  }
}

void AgentHub::Flush() {
  // The barrier task comes after everything posted before this call; the
  // writer's barrier after every write those tasks queued; its reply after
  // the replies to those writes (which run before later tasks).
  absl::Notification done;
  Post([this, &done] { writer_->Barrier([&done] { done.Notify(); }); });
  done.WaitForNotification();
}

void AgentHub::Acknowledge(std::function<void()> processed) {
  const size_t pending = writer_->pending();
  if (held_back_.empty() && pending < limits_.max_pending_store_writes) {
    processed();
    return;
  }
  if (held_back_.empty()) {
    CF_LOG_WARN(
        "%d store writes are waiting (limit %d): agents' streams read no "
        "more messages until half of them are written (the store is slow "
        "or unreachable)",
        pending, limits_.max_pending_store_writes);
  }
  held_back_.push_back(std::move(processed));
  if (observer_) observer_->OnMessageHeldBack();
}

void AgentHub::ReleaseHeldBack() {
  if (held_back_.empty()) return;
  const size_t pending = writer_->pending();
  if (pending > limits_.max_pending_store_writes / 2) return;
  std::vector<std::function<void()>> held;
  held.swap(held_back_);
  CF_LOG_INFO(
      "store writes waiting down to %d: %d held-back agent message(s) "
      "acknowledged, streams read again",
      pending, held.size());
  for (const std::function<void()>& processed : held) processed();
}

size_t AgentHub::connected() const {
  absl::MutexLock lock(&mu_);
  return connected_;
}

size_t AgentHub::queued_message_bytes() const {
  absl::MutexLock lock(&mu_);
  return queued_bytes_;
}

size_t AgentHub::cached_versions() const {
  absl::MutexLock lock(&mu_);
  return cached_versions_;
}

size_t AgentHub::keys_in_clear() const {
  absl::MutexLock lock(&mu_);
  return keys_in_clear_;
}

std::set<std::string> AgentHub::ConnectedAgents() const {
  absl::MutexLock lock(&mu_);
  std::set<std::string> out;
  for (const auto& [id, since] : connected_since_) out.insert(id);
  return out;
}

std::map<std::string, absl::Time> AgentHub::ConnectedSince() const {
  absl::MutexLock lock(&mu_);
  return connected_since_;
}

void AgentHub::UpdateConnected(const std::string& agent_id) {
  {
    absl::MutexLock lock(&mu_);
    connected_ = agents_.size();
    // Only the entry that changed: rebuilding the whole copy cost every
    // attach a map of the fleet's size (at 10,000 agents ~3 ms, under the
    // lock every stream's Submit takes), most of a restart's reconnection
    // time (docs/benchmarks.md, "Reconnect storm").
    auto it = agents_.find(agent_id);
    if (it == agents_.end()) {
      connected_since_.erase(agent_id);
    } else {
      connected_since_[agent_id] = it->second.attached_at;
    }
  }
  if (observer_) observer_->OnConnectedAgents(agents_.size());
}

void AgentHub::ReportArrived() {
  if (!report_listener_) return;
  if (report_barrier_waiting_) {
    reports_after_barrier_ = true;
    return;
  }
  report_barrier_waiting_ = true;
  // The barrier's callback is posted: it runs as a hub task.
  writer_->Barrier([this] { ReportsStored(); });
}

void AgentHub::ReportsStored() {
  report_barrier_waiting_ = false;
  if (report_listener_) report_listener_();
  if (reports_after_barrier_) {
    reports_after_barrier_ = false;
    ReportArrived();
  }
}

void AgentHub::SetReportListener(std::function<void()> listener) {
  Post([this, listener = std::move(listener)]() mutable {
    report_listener_ = std::move(listener);
  });
}

void AgentHub::Attach(const std::string& agent_id, const std::string& serial,
                      std::shared_ptr<AgentChannel> channel) {
  Post([this, agent_id, serial, channel = std::move(channel)]() mutable {
    if (channel->Ended()) {
      // Its agent gave up waiting (or the stream broke) while this waited
      // in the queue; its Detach follows and finds nothing to do.
      if (observer_) observer_->OnStreamAbandoned();
      if (abandoned_attaches_++ % 1000 == 0) {
        CF_LOG_WARN(
            "agent %s: its stream ended before the hub could attach it (%d "
            "so far): the hub is behind — agents stop waiting for a Welcome "
            "after 10 s and dial again",
            agent_id, abandoned_attaches_);
      }
      return;
    }
    absl::StatusOr<std::optional<store::AgentRecord>> record =
        store_.GetAgent(agent_id);
    if (!record.ok()) {
      CF_LOG_WARN("agent %s: stream refused: %s", agent_id,
                  record.status().ToString());
      // The agent retries with backoff; the store may answer then.
      channel->Close(absl::UnavailableError(
          "the coordinator cannot read its store; try again later"));
      return;
    }
    if (!record->has_value()) {
      // Not retryable: the agent must enroll again.
      Refuse(agent_id, "stream", "unknown_agent",
             absl::PermissionDeniedError(
                 absl::StrCat("agent ", agent_id, " is not enrolled")),
             *channel);
      return;
    }
    std::string reason;
    if (absl::Status admitted = Admit(**record, serial, "", &reason);
        !admitted.ok()) {
      Refuse(agent_id, "stream", reason, admitted, *channel);
      return;
    }
    auto it = agents_.find(agent_id);
    if (it != agents_.end()) {
      CF_LOG_INFO("agent %s: new stream replaces the previous one", agent_id);
      it->second.channel->Close(
          absl::AbortedError("replaced by a newer stream of the same agent"));
      agents_.erase(it);
    }
    Agent& agent = agents_[agent_id];
    agent.channel = std::move(channel);
    agent.serial = serial;
    agent.labels = (*record)->labels;
    // What its previous stream reported may still wait to be written: asked
    // before the read, so a write that lands in between is in one of them.
    std::vector<store::TargetStateRecord> unwritten =
        writer_->PendingReports(agent_id);
    absl::StatusOr<std::vector<store::TargetStateRecord>> states =
        store_.ListTargetStates(agent_id);
    if (states.ok()) {
      for (store::TargetStateRecord& s : *states) {
        agent.states[s.target] = std::move(s);
      }
    }
    for (store::TargetStateRecord& r : unwritten) {
      store::TargetStateRecord& s = agent.states[r.target];
      // A report carries no decision: the stored one stays.
      r.desired_version_id = s.desired_version_id;
      if (r.certificate.empty()) r.certificate = s.certificate;
      s = std::move(r);
    }
    agent.attached_at = clock_.Now();
    Touch(agent_id, agent.attached_at);
    v1::CoordinatorMessage welcome;
    welcome.mutable_welcome()->set_agent_id(agent_id);
    welcome.mutable_welcome()->set_heartbeat_interval_ms(static_cast<int32_t>(
        absl::ToInt64Milliseconds(limits_.heartbeat_interval)));
    agent.channel->Send(welcome);
    UpdateConnected(agent_id);
    CF_LOG_INFO("agent %s (%s): connected", agent_id, (*record)->hostname);
  });
}

void AgentHub::Detach(const std::string& agent_id,
                      const AgentChannel* channel) {
  Post([this, agent_id, channel] {
    auto it = agents_.find(agent_id);
    if (it == agents_.end() || it->second.channel.get() != channel) return;
    agents_.erase(it);
    Touch(agent_id, clock_.Now());
    UpdateConnected(agent_id);
    CF_LOG_INFO("agent %s: disconnected", agent_id);
  });
}

absl::Status AgentHub::Submit(const std::string& agent_id,
                              std::shared_ptr<AgentChannel> channel,
                              v1::AgentMessage message,
                              std::function<void()> processed) {
  const size_t bytes = message.ByteSizeLong();
  bool log_full = false;
  size_t queued = 0;
  {
    absl::MutexLock lock(&mu_);
    queued = queued_bytes_;
    if (queued_bytes_ + bytes > limits_.max_hub_queue_bytes) {
      log_full = !queue_full_logged_;
      queue_full_logged_ = true;
    } else {
      queued_bytes_ += bytes;
      tasks_.push_back([this, agent_id, channel = std::move(channel),
                        message = std::move(message), bytes,
                        processed = std::move(processed)] {
        HandleMessage(agent_id, channel.get(), message);
        {
          absl::MutexLock lock(&mu_);
          queued_bytes_ -= bytes;
          if (queued_bytes_ <= limits_.max_hub_queue_bytes / 2) {
            queue_full_logged_ = false;
          }
        }
        if (processed) Acknowledge(processed);
      });
      return absl::OkStatus();
    }
  }
  if (observer_) observer_->OnRefused("hub_queue_full");
  if (log_full) {
    CF_LOG_WARN(
        "agent messages waiting for the hub reached %d bytes (limit %d): "
        "streams sending more are ended (RESOURCE_EXHAUSTED) until it "
        "drains; first: agent %s",
        queued, limits_.max_hub_queue_bytes, agent_id);
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "coordinator busy: ", queued,
      " bytes of agent messages are waiting to be handled; reconnect later"));
}

void AgentHub::OnMessage(const std::string& agent_id,
                         v1::AgentMessage message) {
  Post([this, agent_id, message = std::move(message)] {
    HandleMessage(agent_id, nullptr, message);
  });
}

void AgentHub::HandleMessage(const std::string& agent_id,
                             const AgentChannel* from,
                             const v1::AgentMessage& message) {
  auto it = agents_.find(agent_id);
  if (it == agents_.end()) return;
  Agent& agent = it->second;
  // Left over from a stream a newer one replaced.
  if (from != nullptr && agent.channel.get() != from) return;
  switch (message.message_case()) {
    case v1::AgentMessage::kHello:
      CF_LOG_DEBUG("agent %s: hello from %s (agent %s)", agent_id,
                   message.hello().hostname(),
                   AgentText(message.hello().agent_version(), 64));
      break;
    case v1::AgentMessage::kInventory:
      HandleInventory(agent_id, agent, message.inventory());
      ReportArrived();
      break;
    case v1::AgentMessage::kResult:
      HandleResult(agent_id, agent, message.result());
      ReportArrived();
      break;
    case v1::AgentMessage::kHealth:
      HandleHealth(agent_id, agent, message.health());
      ReportArrived();
      break;
    case v1::AgentMessage::kRenewIdentity:
      if (RenewalAllowed(agent_id, agent)) {
        HandleRenewal(agent_id, agent, message.renew_identity());
      }
      break;
    default:
      break;
  }
}

void AgentHub::NotifyVersion(const std::string& certificate) {
  Post([this, certificate] {
    newest_.erase(certificate);
    for (auto& [id, agent] : agents_) Reconcile(id, agent);
  });
}

void AgentHub::RetryLater(const std::string& agent_id) {
  retry_.insert(agent_id);
  absl::MutexLock lock(&mu_);
  if (retry_at_ == absl::InfiniteFuture()) {
    retry_at_ = absl::Now() + kRetryAfter;
  }
}

void AgentHub::Reconcile(const std::string& agent_id, Agent& agent) {
  const std::vector<std::string> targets(agent.targets.begin(),
                                         agent.targets.end());
  for (const delivery::Assignments::Assignment& a :
       assignments_.For(agent.labels, targets)) {
    const std::string version =
        DesiredVersion(agent_id, agent, a.target, a.certificate);
    if (version.empty()) continue;  // not issued yet, or held where it is
    // Being stored: sent once the store took it (DesiredStored). Another
    // version is decided now, replacing it.
    auto deciding = deciding_.find({agent_id, a.target});
    if (deciding != deciding_.end() && deciding->second.version_id == version) {
      continue;
    }
    const bool resend = resend_.erase({agent_id, a.target}) > 0;
    auto installed = agent.installed.find(a.target);
    if (!resend && installed != agent.installed.end() &&
        installed->second == version) {
      continue;
    }
    auto pending = agent.pending.find(a.target);
    if (pending != agent.pending.end() &&
        pending->second.version_id == version) {
      continue;
    }
    // A rejected version goes again only when a rollout re-sends it.
    auto rejected = agent.rejected.find(a.target);
    if (!resend && rejected != agent.rejected.end() &&
        rejected->second.count(version) > 0) {
      continue;
    }
    bool transient = false;
    const BundleContent* content = Content(version, &transient);
    if (content == nullptr) {  // logged by Content
      if (transient) RetryLater(agent_id);
      continue;
    }
    // Stored before it is sent (a decision this hub made: the newest
    // version, or the hold's fallback): sent once the store took it
    // (DesiredStored), never if it refused.
    const auto state = agent.states.find(a.target);
    if (state == agent.states.end() ||
        state->second.desired_version_id != version ||
        state->second.certificate != a.certificate) {
      StoreDesired(agent_id, a.target, a.certificate, version, resend);
      continue;
    }
    v1::CoordinatorMessage msg;
    v1::DesiredBundle* b = msg.mutable_bundle();
    if (!BuildBundle(*content, a.target, a.certificate, b)) continue;
    if (pending != agent.pending.end()) {
      agent.superseded.emplace_back(a.target, std::move(pending->second));
      if (agent.superseded.size() > kSupersededKept) {
        agent.superseded.pop_front();
      }
    }
    agent.pending[a.target] = {version, b->nonce()};
    agent.channel->Send(msg);
    WipeKey(msg);
    if (observer_) observer_->OnBundleSent(a.target);
    CF_LOG_INFO("agent %s: sent %s to target %s", agent_id, version, a.target);
  }
}

bool AgentHub::BuildBundle(const BundleContent& content,
                           const std::string& target,
                           const std::string& certificate,
                           v1::DesiredBundle* out) {
  auto opened = opened_keys_.find(content.version_id);
  if (opened == opened_keys_.end()) {
    absl::StatusOr<std::string> key = kek_.Open(
        content.key_sealed, issuance::CertificateKeyAad(content.certificate));
    if (!key.ok()) {
      CF_LOG_ERROR("version %s: cannot open its key: %s", content.version_id,
                   key.status().ToString());
      return false;
    }
    opened = opened_keys_.emplace(content.version_id, *std::move(key)).first;
    absl::MutexLock lock(&mu_);
    keys_in_clear_ = opened_keys_.size();
  }
  out->set_target(target);
  out->set_version_id(content.version_id);
  out->set_certificate(certificate);
  out->set_leaf_pem(content.leaf_pem);
  out->set_chain_pem(content.chain_pem);
  out->set_key_pem(opened->second);
  TimeToProto(content.not_after, out->mutable_not_after());
  out->set_nonce(NewNonce());
  return true;
}

void AgentHub::ForgetOpenedKeys() {
  if (opened_keys_.empty()) return;
  for (auto& [version, key] : opened_keys_) {
    OPENSSL_cleanse(key.data(), key.size());
  }
  opened_keys_.clear();
  absl::MutexLock lock(&mu_);
  keys_in_clear_ = 0;
}

std::string AgentHub::NewNonce() {
  constexpr size_t kNonceBytes = 16;
  if (nonce_pos_ + kNonceBytes > nonce_bytes_.size()) {
    nonce_bytes_ = crypto::RandomBytes(256 * kNonceBytes);
    nonce_pos_ = 0;
  }
  const std::string nonce = crypto::HexEncode(
      absl::string_view(nonce_bytes_).substr(nonce_pos_, kNonceBytes));
  nonce_pos_ += kNonceBytes;
  return nonce;
}

void AgentHub::HandleInventory(const std::string& agent_id, Agent& agent,
                               const v1::Inventory& inventory) {
  std::vector<std::string> names;
  for (const v1::TargetState& t : inventory.targets())
    names.push_back(t.name());
  std::set<std::string> assigned;
  for (const delivery::Assignments::Assignment& a :
       assignments_.For(agent.labels, names)) {
    assigned.insert(a.target);
  }
  agent.targets.clear();
  std::vector<std::string> unassigned;
  for (const v1::TargetState& t : inventory.targets()) {
    // Only what a certificate is assigned to is recorded: a record is what
    // a rollout's fleet view reads.
    if (assigned.count(t.name()) == 0) {
      unassigned.push_back(t.name());
      continue;
    }
    agent.targets.insert(t.name());
    if (t.version_id().empty()) {
      agent.installed.erase(t.name());
    } else {
      agent.installed[t.name()] = t.version_id();
    }
    SaveTargetState(
        agent_id, agent, t.name(), [&](store::TargetStateRecord& s) {
          s.installed_version_id = t.version_id();
          s.serial = t.serial();
          s.not_after = t.has_not_after() ? TimeFromProto(t.not_after())
                                          : absl::InfinitePast();
          s.healthy = t.healthy();
          RecordLocalProblems(agent_id, agent, t, s);
        });
  }
  if (!unassigned.empty() && agent.warned.insert("unassigned").second) {
    CF_LOG_INFO(
        "agent %s: no certificate is assigned to its target(s) %s: not "
        "recorded (logged once per stream)",
        agent_id, absl::StrJoin(unassigned, ", "));
  }
  Reconcile(agent_id, agent);
}

bool AgentHub::Answers(const Pending& delivery,
                       const v1::DeliveryResult& result) {
  // Constant time: the nonce is the proof the agent received the bundle.
  return delivery.version_id == result.version_id() &&
         delivery.nonce.size() == result.nonce().size() &&
         CRYPTO_memcmp(delivery.nonce.data(), result.nonce().data(),
                       delivery.nonce.size()) == 0;
}

bool AgentHub::TakeSuperseded(Agent& agent, const v1::DeliveryResult& result) {
  for (auto it = agent.superseded.begin(); it != agent.superseded.end(); ++it) {
    if (it->first == result.target() && Answers(it->second, result)) {
      agent.superseded.erase(it);  // answered once: a replay is not expected
      return true;
    }
  }
  return false;
}

void AgentHub::HandleResult(const std::string& agent_id, Agent& agent,
                            const v1::DeliveryResult& result) {
  auto pending = agent.pending.find(result.target());
  if (pending == agent.pending.end() || !Answers(pending->second, result)) {
    if (TakeSuperseded(agent, result)) {
      // The agent finished a delivery the hub had already replaced: its
      // answer is about a version no longer wanted there, and the pending
      // one follows. Expected (a rollback during an install), not a forgery.
      CF_LOG_INFO(
          "agent %s: target %s answered the superseded delivery of %s (%s); "
          "ignored, the newer one is pending",
          agent_id, result.target(), result.version_id(),
          result.ok() ? "ok" : "failed");
      return;
    }
    DropReport(agent_id, agent, "result_not_pending",
               absl::StrCat("a delivery result (",
                            result.ok() ? "ok" : "failed", ") for target ",
                            result.target(), " version ", result.version_id(),
                            " that answers no delivery pending on its stream"));
    return;
  }
  agent.pending.erase(pending);
  const std::string step = ReportedStep(result.failed_step());
  const std::string error = AgentText(result.error(), limits_.max_text_bytes);
  if (result.ok()) {
    agent.installed[result.target()] = result.version_id();
    agent.rejected.erase(result.target());
    CF_LOG_INFO("agent %s: target %s serves %s", agent_id, result.target(),
                result.version_id());
  } else {
    agent.rejected[result.target()].insert(result.version_id());
    CF_LOG_WARN("agent %s: target %s rejected %s at %s: %s%s", agent_id,
                result.target(), result.version_id(), step, error,
                result.rolled_back() ? " (rolled back)" : "");
  }
  SaveTargetState(
      agent_id, agent, result.target(), [&](store::TargetStateRecord& s) {
        s.last_error_version_id = result.ok() ? "" : result.version_id();
        if (result.ok()) {
          s.installed_version_id = result.version_id();
          s.healthy = true;
          s.last_error.clear();
        } else {
          s.last_error = absl::StrCat(step, ": ", error);
        }
      });
  if (observer_) observer_->OnDeliveryResult(result);
}

void AgentHub::HandleRenewal(const std::string& agent_id, Agent& agent,
                             const v1::IdentityRenewal& renewal) {
  // Only the agent's current certificate renews: the one this stream
  // presented, or the one an earlier renewal on it issued (its answer may
  // have been lost; the agent asks again on the same stream).
  const std::string& presented =
      agent.issued_serial.empty() ? agent.serial : agent.issued_serial;
  absl::StatusOr<identity::EnrollmentService::Renewed> renewed =
      enrollment_.RenewIdentity(agent_id, presented, renewal.csr_der());
  if (!renewed.ok()) {
    if (absl::IsPermissionDenied(renewed.status())) {
      // Disabled, removed, or not the current certificate: this stream
      // should not exist either. The record says which, for the metric.
      std::string reason = "stale_serial";
      absl::StatusOr<std::optional<store::AgentRecord>> record =
          store_.GetAgent(agent_id);
      if (record.ok() && record->has_value()) {
        (void)Admit(**record, presented, "", &reason);
      }
      Refuse(agent_id, "renewal", reason, renewed.status(), *agent.channel);
      Drop(agent_id);
      return;
    }
    CF_LOG_WARN("agent %s: identity renewal refused: %s", agent_id,
                renewed.status().ToString());
    return;
  }
  agent.issued_serial = renewed->serial;
  v1::CoordinatorMessage msg;
  msg.mutable_identity()->set_certificate_pem(renewed->certificate_pem);
  msg.mutable_identity()->set_ca_pem(ca_pem_);
  agent.channel->Send(msg);
  CF_LOG_INFO("agent %s: identity renewed", agent_id);
}

void AgentHub::SaveTargetState(
    const std::string& agent_id, Agent& agent, const std::string& target,
    const std::function<void(store::TargetStateRecord&)>& update) {
  store::TargetStateRecord& s = agent.states[target];
  s.agent_id = agent_id;
  s.target = target;
  update(s);
  s.updated_at = clock_.Now();
  writer_->PutTargetState(s);  // failures logged by the writer
}

}  // namespace certfleet::delivery
