#include "coordinator/delivery/staleness.h"

#include <algorithm>

namespace certfleet::delivery {

void Staleness::Observe(const std::set<std::string>& connected,
                        absl::Time now) {
  absl::MutexLock lock(&mu_);
  for (const std::string& id : connected) {
    absl::Time& seen = seen_[id];
    seen = std::max(seen, now);
  }
}

absl::Time Staleness::LastSeen(const store::AgentRecord& agent) const {
  absl::Time seen = std::max(agent.last_seen_at, watching_since_);
  absl::MutexLock lock(&mu_);
  auto it = seen_.find(agent.id);
  if (it != seen_.end()) seen = std::max(seen, it->second);
  return seen;
}

bool Staleness::IsStale(const store::AgentRecord& agent, bool connected,
                        absl::Time now) const {
  if (connected || stale_after_ == absl::InfiniteDuration()) return false;
  return now - LastSeen(agent) >= stale_after_;
}

}  // namespace certfleet::delivery
