// What the agent hub tells about itself, for metrics and tests: agents
// connected, bundles sent, results, refusals, and its store writes
// (AgentHub, HubWriter).
//
//   class Metrics : public HubObserver { ... };
//   AgentHub hub(store, kek, assignments, enrollment, ca_pem, clock, &metrics);
#ifndef CERTFLEET_COORDINATOR_DELIVERY_AGENT_HUB_OBSERVER_H_
#define CERTFLEET_COORDINATOR_DELIVERY_AGENT_HUB_OBSERVER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "certfleet/v1/agent.pb.h"

namespace certfleet::delivery {

// Called on the hub thread unless said otherwise.
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
  // A report that did not count (see AgentHub), by reason:
  // "result_not_pending" (a DeliveryResult answering no delivery pending
  // for that agent, target, nonce and version — a late answer to a delivery
  // the hub replaced on the same stream is expected, and only logged),
  // "health_not_assigned" (a
  // HealthReport for a target the agent did not list or that is not
  // assigned to it).
  virtual void OnReportDropped(absl::string_view reason) { (void)reason; }
  // Something an agent (or a would-be agent) did was refused by a limit
  // (agent_limits.h): "invalid_message", "too_many_targets",
  // "hub_queue_full", "renewal_rate", "enrollment_rate_address",
  // "enrollment_rate_overall", "invalid_hostname". May be called on gRPC
  // threads.
  virtual void OnRefused(absl::string_view limit) { (void)limit; }
  // An agent reported a problem of its own, once per change: "local_failure"
  // (an install its crash recovery rolled back), "state_problem".
  virtual void OnAgentProblem(absl::string_view kind) { (void)kind; }
  // An agent's message was handled but its stream reads no more until the
  // store's writes drain (AgentLimits::max_pending_store_writes): counted
  // per message held back.
  virtual void OnMessageHeldBack() {}
  // A stream ended before the hub attached it (its agent stopped waiting
  // for a Welcome, typically while many agents reconnect at once): skipped.
  virtual void OnStreamAbandoned() {}
  // `count` store writes of `kind` failed ("report", "desired",
  // "last_seen"); retryable reports and last-seen times are written again.
  // Called on the hub writer's thread.
  virtual void OnStoreWriteFailed(absl::string_view kind, size_t count) {
    (void)kind;
    (void)count;
  }
  // Store writes waiting after a batch was written. Called on the hub
  // writer's thread.
  virtual void OnStoreWritesPending(size_t count) { (void)count; }
};

}  // namespace certfleet::delivery

#endif  // CERTFLEET_COORDINATOR_DELIVERY_AGENT_HUB_OBSERVER_H_
