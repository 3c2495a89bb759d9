// The coordinator's view of its connected agents: which stream belongs to
// which agent, what each agent serves, and what it should serve. It sends
// every target the bundle of the newest version of the certificate assigned
// to it, when the agent connects and whenever a new version is stored, and
// records what agents report.
//
// All state is owned by one hub thread: stream callbacks and the scheduler
// only post work to it, so no gRPC callback ever blocks on the store or on
// crypto, and the hub needs no locking of its own state.
//
//   AgentHub hub(store, kek, assignments, enrollment, clock);
//   hub.Attach(agent_id, channel);            // from the stream reactor
//   hub.OnMessage(agent_id, message);         // each message read
//   hub.NotifyVersion("wildcard-example");    // after a version is stored
#ifndef CERTFLEET_COORDINATOR_AGENTAPI_AGENT_HUB_H_
#define CERTFLEET_COORDINATOR_AGENTAPI_AGENT_HUB_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
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
};

class AgentHub {
 public:
  // `ca_pem` is the internal CA, sent with renewed identities.
  AgentHub(store::Store& store, const crypto::Kek& kek,
           const fleet::Assignments& assignments,
           fleet::EnrollmentService& enrollment, std::string ca_pem,
           Clock& clock, HubObserver* observer = nullptr);
  ~AgentHub();

  // A verified stream of `agent_id` opened. An unknown agent (not enrolled)
  // has its stream closed. A second stream of the same agent replaces the
  // first, which is closed.
  void Attach(const std::string& agent_id,
              std::shared_ptr<AgentChannel> channel);
  // The stream ended; `channel` identifies which (a replaced stream's late
  // Detach must not drop its successor).
  void Detach(const std::string& agent_id, const AgentChannel* channel);
  void OnMessage(const std::string& agent_id, v1::AgentMessage message);
  // A new version of `certificate` was stored: deliver it to every
  // connected agent with a target assigned to it.
  void NotifyVersion(const std::string& certificate);

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
  // The newest version of `certificate`, decrypted once per version.
  const BundleContent* Latest(const std::string& certificate);
  void HandleInventory(const std::string& agent_id, Agent& agent,
                       const v1::Inventory& inventory);
  void HandleResult(const std::string& agent_id, Agent& agent,
                    const v1::DeliveryResult& result);
  void HandleRenewal(const std::string& agent_id, Agent& agent,
                     const v1::IdentityRenewal& renewal);
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
  std::map<std::string, BundleContent> latest_;  // certificate → newest
  uint64_t next_nonce_ = 1;

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  size_t connected_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// "<certificate>/<version>": the version id agents see.
std::string VersionId(const std::string& certificate, int64_t version);

}  // namespace certfleet::agentapi

#endif  // CERTFLEET_COORDINATOR_AGENTAPI_AGENT_HUB_H_
