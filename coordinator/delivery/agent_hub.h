// The coordinator's view of its connected agents: which stream belongs to
// which agent, what each agent serves, and what it should serve. It sends
// every target the bundle of its desired version, when the agent connects
// and whenever that changes, and records what agents report.
//
// A target's desired version: the newest version of the certificate
// assigned to it — unless the certificate is held (under rollout control,
// HoldCertificate): then it is the version set for that target with
// SetDesired (persisted as TargetStateRecord::desired_version_id, so it
// survives restarts), else the hold's fallback version ("" = nothing is
// sent: the target keeps what it serves). The rollout runner holds every
// certificate it has delivered once, for good.
//
// What an agent reports counts only where it concerns what is its own: an
// inventory's targets only when a certificate is assigned to them on that
// agent (others are not recorded); a DeliveryResult only when it answers
// the delivery pending on the agent's stream for that target, with its
// nonce (128 random bits) and version; a HealthReport only for a target the
// agent listed in its inventory on this stream and that is assigned to it.
// Anything else is dropped, counted (HubObserver::OnReportDropped) and
// logged once per agent, reason and stream. A version an agent reports as
// rolled back by its crash recovery (TargetState.last_failure) is recorded
// as that target's failure of the version and not sent to it again while
// the agent reports it, unless a rollout re-sends it (SetDesired with
// resend) or a newer version is desired.
//
// All state is owned by one hub thread: stream callbacks and the scheduler
// only post work to it, so no gRPC callback ever blocks on the store or on
// crypto, and the hub needs no locking of its own state. Agent messages
// wait in a bounded queue (Submit). A private key is decrypted only while
// the task that sends it runs (a fan-out opens it once) and wiped when the
// task ends and after each message carrying it is written; the version
// cache keeps keys sealed.
//
// The hub's store writes — agents' reports, last-seen times, desired
// versions — leave its thread: a HubWriter batches them and writes them
// behind (hub_writer.h), so a slow store delays records, never streams. A
// desired version is still stored before its bundle is sent: the bundle
// goes when the writer says the store took it (refused — not the leader —
// nothing is sent), and meanwhile the hub serves everyone else. Reads
// (an attaching agent's record and target states, versions) stay on the
// hub thread; an attach overlays the reports still waiting to be written.
// When more than limits.max_pending_store_writes writes wait, agents'
// streams are held back (see Submit).
//
// Identities are revocable (agent_hub_identity.cc): a stream is admitted
// only for an active agent presenting its current identity serial; any
// other (an old certificate after a renewal, a thief's copy, a disabled or
// removed agent) is closed with PERMISSION_DENIED and logged. A change of
// the agent's record (AgentChanged, OnAgentStored: disabled, removed,
// re-enrolled, relabelled) applies to its open stream at once.
//
//   AgentHub hub(store, kek, assignments, enrollment, ca_pem, clock);
//   hub.Attach(agent_id, serial, channel);    // from the stream reactor
//   hub.Submit(agent_id, channel, message, read_next);  // each message read
//   hub.NotifyVersion("wildcard-example");    // after a version is stored
//   hub.HoldCertificate("web", "");           // a rollout decides now
//   hub.SetDesired("agt-0a1b2c3d4e5f", "www", "web/3", /*resend=*/false);
#ifndef CERTFLEET_COORDINATOR_DELIVERY_AGENT_HUB_H_
#define CERTFLEET_COORDINATOR_DELIVERY_AGENT_HUB_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "certfleet/v1/agent.pb.h"
#include "common/clock.h"
#include "common/crypto/kek.h"
#include "coordinator/delivery/agent_hub_observer.h"
#include "coordinator/delivery/agent_limits.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/delivery/hub_writer.h"
#include "coordinator/delivery/rate_limits.h"
#include "coordinator/identity/enrollment.h"
#include "coordinator/store/store.h"

namespace certfleet::delivery {

// One agent's open stream, as the hub sees it. Implementations must accept
// Send from any thread and ignore it once the stream is closing.
class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  virtual void Send(const v1::CoordinatorMessage& message) = 0;
  // Ends the stream with `why` as its status: OK for a normal end, else
  // the code and message the agent sees (e.g. ABORTED when replaced by a
  // newer stream of the same agent, PERMISSION_DENIED when not enrolled).
  virtual void Close(const absl::Status& why) = 0;
  // True once the stream has ended or is ending (the agent went away, or it
  // was closed). The hub skips an attach whose stream is already gone: after
  // a restart the attaches queued behind a busy hub are largely of streams
  // whose agents stopped waiting for their Welcome and dialled again, and
  // serving those (store reads, a welcome nobody reads) only made the queue
  // longer. Any thread.
  virtual bool Ended() const { return false; }
};

class AgentHub {
 public:
  // `ca_pem` is the internal CA, sent with renewed identities. `limits`:
  // max_hub_queue_bytes, max_text_bytes and renewals_per_agent apply here.
  AgentHub(store::Store& store, const crypto::Kek& kek,
           const delivery::Assignments& assignments,
           identity::EnrollmentService& enrollment, std::string ca_pem,
           Clock& clock, HubObserver* observer = nullptr,
           const AgentLimits& limits = AgentLimits());
  ~AgentHub();

  // A verified stream of `agent_id` opened, its client certificate's serial
  // `serial` (lower-case hex). It is closed with PERMISSION_DENIED (and the
  // refusal logged and counted) when the agent is not enrolled, is disabled
  // or removed, or `serial` is not its current identity serial. A second
  // stream of the same agent replaces the first, which is closed. The
  // agent's last_seen_at is recorded. A stream that has ended by the time
  // the hub gets to it (AgentChannel::Ended) is not served: nothing is read
  // or recorded, and it is counted (HubObserver::OnStreamAbandoned).
  void Attach(const std::string& agent_id, const std::string& serial,
              std::shared_ptr<AgentChannel> channel);
  // The stream ended; `channel` identifies which (a replaced stream's late
  // Detach must not drop its successor). Records the agent's last_seen_at,
  // so how long it has been away is known (agents.stale_after).
  void Detach(const std::string& agent_id, const AgentChannel* channel);
  // Agent `agent_id`'s record changed in the store (an admin action, a
  // re-enrollment): when it holds a stream here, the stream is closed with
  // PERMISSION_DENIED unless the agent is still active with the serial the
  // stream presented (or was issued on it); new labels take effect at once
  // (targets no longer selected by their certificate forget their desired
  // version, and the agent is sent what it now lacks). Reads the record.
  void AgentChanged(const std::string& agent_id);
  // The same with the record as stored (another replica wrote it: the
  // store's watch of agents).
  void OnAgentStored(const store::AgentRecord& record);
  // A message read from `channel`, the stream of `agent_id`, already checked
  // (CheckAgentMessage). `processed` runs on the hub thread once the hub
  // has handled it (the stream counts its messages waiting here and reads no
  // more while limits.max_messages_in_hub_per_stream wait); it must not
  // block. While more than limits.max_pending_store_writes store writes
  // wait, `processed` is held until they are down to half: the message is
  // handled and its writes queued, nothing is lost, but its stream reads
  // nothing more meanwhile, so HTTP/2 flow control slows the agent down
  // (HubObserver::OnMessageHeldBack). Holding back rather than refusing
  // (RESOURCE_EXHAUSTED) because a refused stream reconnects, and each
  // attach costs the store reads and a write more. A message of a stream
  // that is no longer the agent's current one is ignored.
  // kResourceExhausted, and the message is not taken, when the messages
  // waiting would then hold more than limits.max_hub_queue_bytes.
  absl::Status Submit(const std::string& agent_id,
                      std::shared_ptr<AgentChannel> channel,
                      v1::AgentMessage message,
                      std::function<void()> processed);
  // A message from the agent's current stream, not counted against the
  // queue's bound (tests, benchmarks).
  void OnMessage(const std::string& agent_id, v1::AgentMessage message);
  // A new version of `certificate` was stored: deliver it to every
  // connected agent with a target assigned to it (unless the certificate is
  // held).
  void NotifyVersion(const std::string& certificate);

  // Puts `certificate` under rollout control: its targets receive only what
  // SetDesired chose for them; a target without such a choice receives
  // `fallback_version_id` ("" = nothing: it keeps what it serves). Replaces
  // an earlier hold's fallback.
  void HoldCertificate(const std::string& certificate,
                       const std::string& fallback_version_id);
  // While the certificate of `version_id` ("<certificate>/<n>") is held,
  // `target` of `agent_id` should serve it: recorded as the target's
  // desired_version_id and sent now when the agent is connected, when it
  // reconnects otherwise. `resend` sends it even when the hub believes the
  // target already serves it (a revert after a failure, when what the
  // target serves is in doubt; agents treat a re-sent version as a no-op).
  void SetDesired(const std::string& agent_id, const std::string& target,
                  const std::string& version_id, bool resend = false);
  // Called (on the hub thread; it must not block) after an agent reported
  // a delivery result, its health or its inventory and the store write of
  // that report was tried — to wake a rollout, which reads reports from the
  // store. Several reports may share one call. Set before agents attach.
  void SetReportListener(std::function<void()> listener);
  // The agents holding a stream now. Thread-safe.
  std::set<std::string> ConnectedAgents() const;
  // The same agents, each with when its current stream was attached (the
  // hub's clock; also stored as the agent's last_seen_at). Thread-safe; a
  // copy taken under the hub's lock (admin queries).
  std::map<std::string, absl::Time> ConnectedSince() const;

  // Another replica (the leader) stored what `target` of `agent_id` should
  // serve: when that agent is attached here, its record takes the new
  // desired version and it is sent at once if it lacks it. Ignored for
  // agents not attached here and when nothing changed (this hub's own
  // writes come back this way too).
  void OnDesiredStored(const std::string& agent_id, const std::string& target,
                       const std::string& certificate,
                       const std::string& desired_version_id);

  // A barrier: returns once every task posted before the call ran, the
  // store writes they queued were tried, and what waited for those writes
  // happened (a bundle sent once its desired version was stored). Work
  // posted after the call is not waited for, so steady agent traffic does
  // not hold it up. Not on the hub thread (its callbacks, the report
  // listener): it waits for that thread.
  void Flush();
  size_t connected() const;
  // Bytes of agent messages Submitted and not yet handled.
  size_t queued_message_bytes() const;
  // Versions whose bundle (certificate, chain, sealed key) is cached: at
  // most kCachedVersions.
  size_t cached_versions() const;
  static constexpr size_t kCachedVersions = 8;
  static constexpr size_t kSupersededKept = 16;
  // Private keys held decrypted now: only while a task that sends bundles
  // runs, 0 between tasks (after Flush).
  size_t keys_in_clear() const;

 private:
  struct Pending {
    std::string version_id;
    std::string nonce;
  };
  struct Agent {
    std::shared_ptr<AgentChannel> channel;
    // The identity serial the stream's client certificate carries, and the
    // one a renewal on this stream issued since ("" = none): the agent may
    // renew again on this stream while it reconnects with the new one.
    std::string serial;
    std::string issued_serial;
    absl::Time attached_at;
    std::map<std::string, std::string> labels;
    // Reported in the last inventory and assigned to this agent.
    std::set<std::string> targets;
    std::map<std::string, std::string> installed;  // target → version id
    std::map<std::string, Pending> pending;        // sent, not answered
    // Deliveries replaced before they were answered (the desired version
    // moved on: a newer version, a rollback), newest last, at most
    // kSupersededKept: their late answers are expected, not suspicious.
    std::deque<std::pair<std::string, Pending>> superseded;
    // Versions this agent rejected, or reported rolled back by its crash
    // recovery: not sent again on this stream (target → version ids).
    std::map<std::string, std::set<std::string>> rejected;
    std::map<std::string, store::TargetStateRecord> states;  // as stored
    // What was logged on this stream ("dropped:<reason>", "unassigned").
    std::set<std::string> warned;
  };
  // A version as stored, its private key still sealed: the key is opened
  // by the task that sends it and wiped when that task ends.
  struct BundleContent {
    std::string version_id;
    std::string certificate;
    std::string leaf_pem, chain_pem, key_sealed;
    absl::Time not_after;
    uint64_t last_used = 0;
  };

  void Post(std::function<void()> task);
  // Posts the writer's callbacks, which run before the tasks waiting: what
  // was posted before a Flush, and the replies to its writes, come before
  // what was posted after it.
  void PostReply(std::function<void()> reply);
  void Run();
  // Runs `processed` of a handled message, unless too many store writes
  // wait (or others are held already): then it is held.
  void Acknowledge(std::function<void()> processed);
  // Runs the held ones, in order, once the writes waiting are down to half
  // the bound (after each task: the writer posts one after each batch).
  void ReleaseHeldBack();
  // Sends every bundle `agent_id` lacks (hub thread).
  void Reconcile(const std::string& agent_id, Agent& agent);
  // What `target` of `agent_id` should serve ("" = nothing to send): the
  // newest version, or under a hold a decision being stored, the stored
  // one, the fallback.
  std::string DesiredVersion(const std::string& agent_id, const Agent& agent,
                             const std::string& target,
                             const std::string& certificate);
  // The newest version id of `certificate`; "" when none.
  std::string Newest(const std::string& certificate);
  // The stored parts of `version_id` (cached, the least recently used of
  // more than kCachedVersions dropped); nullptr when it does not exist or
  // cannot be read — then `*transient` says whether reading it again later
  // may succeed (the store failed, rather than said "no such version").
  const BundleContent* Content(const std::string& version_id, bool* transient);
  // Reconciles `agent_id` again after kRetryAfter: a version it should get
  // could not be read (etcd unreachable for a moment), and nothing else
  // would bring it up again.
  void RetryLater(const std::string& agent_id);
  static constexpr absl::Duration kRetryAfter = absl::Seconds(2);
  // A bundle of `content` for `target` with a fresh nonce and the key
  // opened; false (logged) when the key does not open. The caller wipes
  // the key (WipeKey) once the message is sent.
  bool BuildBundle(const BundleContent& content, const std::string& target,
                   const std::string& certificate, v1::DesiredBundle* out);
  // Wipes and forgets the keys opened for the task that just ran.
  void ForgetOpenedKeys();
  // The task that handles a message of `agent_id` from `from` (nullptr:
  // whichever stream is current).
  void HandleMessage(const std::string& agent_id, const AgentChannel* from,
                     const v1::AgentMessage& message);
  // A report was handled and its write queued: the listener is told once
  // that write was tried (a writer barrier), so a rollout woken by it reads
  // the report from the store. At most one such barrier waits; reports
  // arriving meanwhile are told by the next one.
  void ReportArrived();
  void ReportsStored();
  // After `agent_id` attached or left agents_: the counts and the copy
  // other threads read (connected_, connected_since_) follow.
  void UpdateConnected(const std::string& agent_id);
  void HandleInventory(const std::string& agent_id, Agent& agent,
                       const v1::Inventory& inventory);
  // Whether `result` answers `delivery`: its version, with its nonce.
  static bool Answers(const Pending& delivery,
                      const v1::DeliveryResult& result);
  // Whether `result` answers a delivery of `agent` that a newer one
  // replaced; if so, forgets it.
  static bool TakeSuperseded(Agent& agent, const v1::DeliveryResult& result);
  void HandleResult(const std::string& agent_id, Agent& agent,
                    const v1::DeliveryResult& result);
  void HandleRenewal(const std::string& agent_id, Agent& agent,
                     const v1::IdentityRenewal& renewal);
  // agent_hub_identity.cc: OK when `record` admits a stream that presented
  // `serial` (or was issued `issued_serial`); else PERMISSION_DENIED saying
  // why, with `reason` set to the metric's reason.
  static absl::Status Admit(const store::AgentRecord& record,
                            const std::string& serial,
                            const std::string& issued_serial,
                            std::string* reason);
  // Closes `agent_id`'s stream (refused by Admit), logging and counting it.
  void Refuse(const std::string& agent_id, const std::string& call,
              const std::string& reason, const absl::Status& why,
              AgentChannel& channel);
  // OnAgentStored's work on the hub thread.
  void ApplyAgentRecord(const store::AgentRecord& record);
  // Records `agent_id`'s last_seen_at = `at` (a failure is logged).
  void Touch(const std::string& agent_id, absl::Time at);
  // Forgets the stream of `agent_id` (closed by Refuse) at once, so nothing
  // more is sent to it, and records when it was last seen. Invalidates
  // references into agents_ for it.
  void Drop(const std::string& agent_id);
  // agent_hub_reports.cc: what of an agent's reports counts.
  void HandleHealth(const std::string& agent_id, Agent& agent,
                    const v1::HealthReport& health);
  // Records a TargetState's last_failure and state_problem (assigned
  // target `t`, into `s`).
  void RecordLocalProblems(const std::string& agent_id, Agent& agent,
                           const v1::TargetState& t,
                           store::TargetStateRecord& s);
  // Whether renewals_per_agent lets `agent_id` renew now; when not, its
  // stream is ended.
  bool RenewalAllowed(const std::string& agent_id, Agent& agent);
  // Counts a report that does not count, logs it once per stream.
  void DropReport(const std::string& agent_id, Agent& agent,
                  absl::string_view reason, const std::string& what);
  // `detail` with the target's state problem, if any, after it.
  std::string WithStateProblem(const std::string& agent_id,
                               const std::string& target,
                               const std::string& detail) const;
  // A new delivery nonce: 128 random bits, hex.
  std::string NewNonce();
  // Applies `update` to the agent's record of `target` and queues what the
  // agent reported for the store (PutTargetState keeps the desired
  // version).
  void SaveTargetState(
      const std::string& agent_id, Agent& agent, const std::string& target,
      const std::function<void(store::TargetStateRecord&)>& update);
  // Queues the decision that `target` of `agent_id` should serve
  // `version_id` ("": nothing chosen) for the store, replacing one still
  // waiting. Until the writer answers, Reconcile sends the target nothing
  // (it may only decide otherwise); then DesiredStored records it and sends
  // what the target lacks — or, refused (with several coordinators: this
  // one does not lead), logs it and sends nothing. `resend`: SetDesired's.
  void StoreDesired(const std::string& agent_id, const std::string& target,
                    const std::string& certificate,
                    const std::string& version_id, bool resend);
  // The writer's answer to StoreDesired's write `ticket`.
  void DesiredStored(const std::string& agent_id, const std::string& target,
                     const std::string& certificate,
                     const std::string& version_id, uint64_t ticket,
                     const absl::Status& stored);

  store::Store& store_;
  const crypto::Kek& kek_;
  const delivery::Assignments& assignments_;
  identity::EnrollmentService& enrollment_;
  const std::string ca_pem_;
  Clock& clock_;
  HubObserver* const observer_;
  const AgentLimits limits_;

  // Owned by the hub thread.
  std::map<std::string, Agent> agents_;
  std::map<std::string, std::string> newest_;     // certificate → version id
  std::map<std::string, BundleContent> content_;  // version id → bundle
  uint64_t content_clock_ = 0;                    // for least recently used
  // Keys opened by the running task (a new version's fan-out opens it once
  // for every agent), wiped when the task ends: version id → key PEM.
  std::map<std::string, std::string> opened_keys_;
  // Random bytes drawn in bulk for nonces (one RAND_bytes per 256 nonces).
  std::string nonce_bytes_;
  size_t nonce_pos_ = 0;
  // Held certificate → fallback version id ("" = send nothing).
  std::map<std::string, std::string> held_;
  // (agent, target) to send its desired version even if installed.
  std::set<std::pair<std::string, std::string>> resend_;
  // Decisions being stored (StoreDesired), by (agent, target): the latest
  // write's ticket and decision, and whether to send it even if installed.
  struct Deciding {
    uint64_t ticket = 0;
    std::string certificate;
    std::string version_id;
    bool resend = false;
  };
  std::map<std::pair<std::string, std::string>, Deciding> deciding_;
  uint64_t next_ticket_ = 0;
  // `processed` of handled messages held back while the store's writes
  // drain (Acknowledge), in order.
  std::vector<std::function<void()>> held_back_;
  std::function<void()> report_listener_;
  bool report_barrier_waiting_ = false;  // ReportArrived's
  bool reports_after_barrier_ = false;   // arrived while it waited
  // (agent, target) → the state problem it last reported (logged once per
  // change, across streams).
  std::map<std::pair<std::string, std::string>, std::string> state_problems_;
  KeyedRateLimiter renewals_;
  // Attaches skipped because their stream had ended (logged now and then).
  uint64_t abandoned_attaches_ = 0;

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  // The writer's callbacks (PostReply): run before tasks_.
  std::deque<std::function<void()>> replies_ ABSL_GUARDED_BY(mu_);
  size_t connected_ ABSL_GUARDED_BY(mu_) = 0;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Logged when the queue is full; again only after it drained to half.
  bool queue_full_logged_ ABSL_GUARDED_BY(mu_) = false;
  size_t cached_versions_ ABSL_GUARDED_BY(mu_) = 0;
  size_t keys_in_clear_ ABSL_GUARDED_BY(mu_) = 0;
  // Connected agent → when its stream was attached.
  std::map<std::string, absl::Time> connected_since_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // RetryLater: the agents (hub thread only), and when (real time, as the
  // queue's wait is) the hub thread reconciles them.
  std::set<std::string> retry_;
  absl::Time retry_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // Declared after the queues it posts to, destroyed before them.
  std::unique_ptr<HubWriter> writer_;
  std::thread thread_;
};

// Overwrites the private key of a bundle in `message` (OPENSSL_cleanse),
// before the message is freed.
void WipeKey(v1::CoordinatorMessage& message);

}  // namespace certfleet::delivery

#endif  // CERTFLEET_COORDINATOR_DELIVERY_AGENT_HUB_H_
