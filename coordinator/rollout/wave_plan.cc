#include "coordinator/rollout/wave_plan.h"

#include <algorithm>
#include <tuple>

namespace certfleet::rollout {

EffectivePolicy EffectiveFor(const RolloutPolicy& policy, bool expedite) {
  EffectivePolicy p;
  p.health_timeout = policy.health_timeout;
  p.failure_threshold = policy.failure_threshold;
  if (expedite) {
    p.waves = {Quantity::Percent(100)};
    p.bake_time = absl::ZeroDuration();
    p.max_unavailable = std::nullopt;
    p.honour_windows = false;
    return p;
  }
  p.waves = policy.waves;
  if (p.waves.empty()) p.waves = {Quantity::Percent(100)};
  p.bake_time = policy.bake_time;
  p.max_unavailable = policy.max_unavailable;
  p.honour_windows = true;
  return p;
}

int PlannedTotal(const RolloutState& state) {
  return static_cast<int>(std::count_if(
      state.hosts.begin(), state.hosts.end(),
      [](const HostRecord& h) { return h.state != HostState::kUnchanged; }));
}

int ChosenCount(const RolloutState& state) {
  return static_cast<int>(
      std::count_if(state.hosts.begin(), state.hosts.end(),
                    [](const HostRecord& h) { return h.wave >= 0; }));
}

bool IsLastWave(const EffectivePolicy& policy, int wave) {
  return wave >= static_cast<int>(policy.waves.size()) - 1;
}

int CumulativeTarget(const EffectivePolicy& policy, int wave, int total) {
  if (IsLastWave(policy, wave)) return total;
  return ResolveQuantity(policy.waves[wave], total);
}

int FailureThreshold(const EffectivePolicy& policy, int total) {
  return std::max(1, ResolveQuantity(policy.failure_threshold, total));
}

std::vector<size_t> ChooseHosts(const RolloutState& state, int count) {
  if (count <= 0) return {};
  std::map<std::string, int> chosen_in_pool;
  for (const HostRecord& h : state.hosts) {
    if (h.wave >= 0) ++chosen_in_pool[h.pool];
  }
  // Candidates of each pool in agent/target order, online ones first; a
  // candidate's rank is how many of its pool would have been chosen before
  // it, so taking the lowest ranks first balances the pools.
  std::map<std::string, std::vector<size_t>> by_pool;
  for (size_t i = 0; i < state.hosts.size(); ++i) {
    if (state.hosts[i].state == HostState::kQueued) {
      by_pool[state.hosts[i].pool].push_back(i);
    }
  }
  // (offline, rank, pool, agent, target) → index.
  using Key = std::tuple<bool, int, std::string, std::string, std::string>;
  std::vector<std::pair<Key, size_t>> ranked;
  for (auto& [pool, indices] : by_pool) {
    std::stable_sort(indices.begin(), indices.end(), [&](size_t a, size_t b) {
      const HostRecord& x = state.hosts[a];
      const HostRecord& y = state.hosts[b];
      return std::tie(y.online, x.agent_id, x.target) <
             std::tie(x.online, y.agent_id, y.target);
    });
    int rank = chosen_in_pool[pool];
    for (size_t i : indices) {
      const HostRecord& h = state.hosts[i];
      ranked.push_back(
          {Key{!h.online, rank++, h.pool, h.agent_id, h.target}, i});
    }
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<size_t> out;
  for (const auto& [key, index] : ranked) {
    if (static_cast<int>(out.size()) == count) break;
    out.push_back(index);
  }
  return out;
}

std::map<std::string, int> PoolLimits(const RolloutState& state,
                                      const Quantity& max_unavailable) {
  std::map<std::string, int> size;
  for (const HostRecord& h : state.hosts) ++size[h.pool];
  std::map<std::string, int> limits;
  for (const auto& [pool, n] : size) {
    limits[pool] = std::max(1, ResolveQuantity(max_unavailable, n));
  }
  return limits;
}

std::map<std::string, int> ChangingPerPool(const RolloutState& state) {
  std::map<std::string, int> changing;
  for (const HostRecord& h : state.hosts) {
    if (h.state == HostState::kChanging) ++changing[h.pool];
  }
  return changing;
}

}  // namespace certfleet::rollout
