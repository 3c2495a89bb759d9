// When an agent counts as stale: it is not connected now, and it has not
// been seen for agents.stale_after. Rollouts stop waiting for stale hosts,
// and `certfleetctl agents list` shows them as stale.
//
// "Seen" is the latest of: the agent record's last_seen_at (written when a
// stream opens or ends, and at renewals), the last time this process saw
// the agent connected (Observe: the rollout runner and the admin API look
// at every step, so an agent served by another replica that dies with it
// is judged from when it was last seen there, not from when its stream
// opened days ago), and when this process started watching — after a
// coordinator restart (whose streams never recorded their end) or a new
// leader, no agent is stale before stale_after has passed. Thread-safe.
//
//   Staleness staleness(absl::Hours(1), clock.Now());
//   staleness.Observe(hub.ConnectedAgents(), clock.Now());
//   if (staleness.IsStale(record, /*connected=*/false, clock.Now())) ...
#ifndef CERTFLEET_COORDINATOR_DELIVERY_STALENESS_H_
#define CERTFLEET_COORDINATOR_DELIVERY_STALENESS_H_

#include <map>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "coordinator/store/store.h"

namespace certfleet::delivery {

class Staleness {
 public:
  // `stale_after`: agents.stale_after (InfiniteDuration: never stale);
  // `watching_since`: when this process began to watch agents.
  Staleness(absl::Duration stale_after, absl::Time watching_since)
      : stale_after_(stale_after), watching_since_(watching_since) {}

  absl::Duration stale_after() const { return stale_after_; }

  // The agents in `connected` were connected at `now`.
  void Observe(const std::set<std::string>& connected, absl::Time now);

  // When `agent` was last seen, as far as this process knows.
  absl::Time LastSeen(const store::AgentRecord& agent) const;

  // Not `connected`, and last seen stale_after or longer before `now`.
  bool IsStale(const store::AgentRecord& agent, bool connected,
               absl::Time now) const;

 private:
  const absl::Duration stale_after_;
  const absl::Time watching_since_;
  mutable absl::Mutex mu_;
  // Agent → the last time Observe saw it connected.
  std::map<std::string, absl::Time> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::delivery

#endif  // CERTFLEET_COORDINATOR_DELIVERY_STALENESS_H_
