#include "coordinator/rollout/called_for.h"

namespace certfleet::rollout {

std::vector<DeliverAction> CalledFor(const RolloutState& state) {
  std::vector<DeliverAction> out;
  const auto to_new = [&](const HostRecord& h) {
    out.push_back({h.agent_id, h.target, state.to_version, /*revert=*/false});
  };
  const auto back = [&](const HostRecord& h) {
    if (state.from_version.empty()) return;  // nothing to go back to
    out.push_back({h.agent_id, h.target, state.from_version, /*revert=*/true});
  };
  for (const HostRecord& h : state.hosts) {
    switch (h.state) {
      case HostState::kChanging:
      case HostState::kHealthy:
        to_new(h);
        break;
      case HostState::kReverting:
      case HostState::kReverted:
        back(h);
        break;
      case HostState::kSkipped:
        if (h.skip_reason == kSkipRemoved) break;
        // As DeliverToSkipped and RevertSkipped left them (skipped_hosts.h).
        if (state.phase == Phase::kComplete) {
          to_new(h);
        } else if (h.reverted_at != absl::InfinitePast()) {
          back(h);
        }
        break;
      case HostState::kQueued:
      case HostState::kWaiting:
      case HostState::kUnchanged:
      case HostState::kFailed:
        break;
    }
  }
  return out;
}

}  // namespace certfleet::rollout
