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
// All state is owned by one hub thread: stream callbacks and the scheduler
// only post work to it, so no gRPC callback ever blocks on the store or on
// crypto, and the hub needs no locking of its own state.
//
// Identities are revocable (agent_hub_identity.cc): a stream is admitted
// only for an active agent presenting its current identity serial; any
// other (an old certificate after a renewal, a thief's copy, a disabled or
// removed agent) is closed with PERMISSION_DENIED and logged. A change of
// the agent's record (AgentChanged, OnAgentStored: disabled, removed,
// re-enrolled, relabelled) applies to its open stream at once.
//
//   AgentHub hub(store, kek, assignments, enrollment, clock);
//   hub.Attach(agent_id, serial, channel);    // from the stream reactor
//   hub.OnMessage(agent_id, message);         // each message read
//   hub.NotifyVersion("wildcard-example");    // after a version is stored
//   hub.HoldCertificate("web", "");           // a rollout decides now
//   hub.SetDesired("agt-0a1b2c3d4e5f", "www", "web/3", /*resend=*/false);
#ifndef CERTFLEET_COORDINATOR_AGENTAPI_AGENT_HUB_H_
#define CERTFLEET_COORDINATOR_AGENTAPI_AGENT_HUB_H_

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
#include "coordinator/fleet/assignments.h"
#include "coordinator/fleet/enrollment.h"
#include "coordinator/store/store.h"

namespace certfleet::agentapi {

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
};

// Told what the hub does, for metrics and tests. Called on the hub thread.
class HubObserver {
 public:
  virtual ~HubObserver() = default;
  virtual void OnConnectedAgents(size_t count) = 0;
  virtual void OnBundleSent(const std::string& target) = 0;
  // ok: installed and healthy; otherwise rejected (and rolled back).
  virtual void OnDeliveryResult(const v1::DeliveryResult& result) = 0;
  // An agent identity was refused: `call` is "stream" or "renewal";
  // `reason` "unknown_agent", "disabled", "removed" or "stale_serial" (not
  // the agent's current certificate).
  virtual void OnIdentityRefused(absl::string_view call,
                                 absl::string_view reason) {
    (void)call;
    (void)reason;
  }
};

class AgentHub {
 public:
  // `ca_pem` is the internal CA, sent with renewed identities.
  AgentHub(store::Store& store, const crypto::Kek& kek,
           const fleet::Assignments& assignments,
           fleet::EnrollmentService& enrollment, std::string ca_pem,
           Clock& clock, HubObserver* observer = nullptr);
  ~AgentHub();

  // A verified stream of `agent_id` opened, its client certificate's serial
  // `serial` (lower-case hex). It is closed with PERMISSION_DENIED (and the
  // refusal logged and counted) when the agent is not enrolled, is disabled
  // or removed, or `serial` is not its current identity serial. A second
  // stream of the same agent replaces the first, which is closed. The
  // agent's last_seen_at is recorded.
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
  // a delivery result, its health or its inventory — to wake a rollout.
  // Set before agents attach.
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

  // Waits until every posted task ran (tests, benchmarks).
  void Flush();
  size_t connected() const;

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
    std::set<std::string> targets;                 // reported
    std::map<std::string, std::string> installed;  // target → version id
    std::map<std::string, Pending> pending;        // sent, not answered
    // A version this agent rejected is not sent again on this stream.
    std::map<std::string, std::string> rejected;  // target → version id
    std::map<std::string, store::TargetStateRecord> states;  // as stored
  };
  struct BundleContent {
    std::string version_id;
    std::string leaf_pem, chain_pem, key_pem;
    absl::Time not_after;
  };

  void Post(std::function<void()> task);
  void Run();
  // Sends every bundle `agent_id` lacks (hub thread).
  void Reconcile(const std::string& agent_id, Agent& agent);
  // What `target` of `agent` should serve ("" = nothing to send).
  std::string DesiredVersion(const Agent& agent, const std::string& target,
                             const std::string& certificate);
  // The newest version id of `certificate`; "" when none.
  std::string Newest(const std::string& certificate);
  // The bundle of `version_id`, decrypted once per version; nullptr when it
  // does not exist or its key does not open.
  const BundleContent* Content(const std::string& version_id);
  void ReportArrived();
  void UpdateConnected();
  void HandleInventory(const std::string& agent_id, Agent& agent,
                       const v1::Inventory& inventory);
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
  // Applies `update` to the agent's record of `target` and stores it.
  void SaveTargetState(
      const std::string& agent_id, Agent& agent, const std::string& target,
      const std::function<void(store::TargetStateRecord&)>& update);

  store::Store& store_;
  const crypto::Kek& kek_;
  const fleet::Assignments& assignments_;
  fleet::EnrollmentService& enrollment_;
  const std::string ca_pem_;
  Clock& clock_;
  HubObserver* const observer_;

  // Owned by the hub thread.
  std::map<std::string, Agent> agents_;
  std::map<std::string, std::string> newest_;     // certificate → version id
  std::map<std::string, BundleContent> content_;  // version id → bundle
  // Held certificate → fallback version id ("" = send nothing).
  std::map<std::string, std::string> held_;
  // (agent, target) to send its desired version even if installed.
  std::set<std::pair<std::string, std::string>> resend_;
  std::function<void()> report_listener_;
  uint64_t next_nonce_ = 1;

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  size_t connected_ ABSL_GUARDED_BY(mu_) = 0;
  // Connected agent → when its stream was attached.
  std::map<std::string, absl::Time> connected_since_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// "<certificate>/<version>": the version id agents see.
std::string VersionId(const std::string& certificate, int64_t version);
// The parts of a version id; kInvalidArgument when it is not
// "<certificate>/<n>" with n ≥ 1.
absl::StatusOr<std::pair<std::string, int64_t>> ParseVersionId(
    absl::string_view version_id);

}  // namespace certfleet::agentapi

#endif  // CERTFLEET_COORDINATOR_AGENTAPI_AGENT_HUB_H_
