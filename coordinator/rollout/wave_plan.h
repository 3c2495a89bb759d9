// The arithmetic of waves for the rollout controller: how the policy applies
// to one rollout, how many hosts each wave covers, which hosts go next, and
// how many hosts of each pool may change at once. Pure functions over a
// RolloutState; the controller decides when to use them.
//
//   EffectivePolicy p = EffectiveFor(policy, state.expedite);
//   int by_end = CumulativeTarget(p, /*wave=*/1, PlannedTotal(state));
//   for (size_t i : ChooseHosts(state, by_end - ChosenCount(state))) ...
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_WAVE_PLAN_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_WAVE_PLAN_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "coordinator/rollout/policy.h"
#include "coordinator/rollout/rollout_state.h"

namespace certfleet::rollout {

// The policy as it applies to one rollout.
struct EffectivePolicy {
  std::vector<Quantity> waves;  // never empty
  absl::Duration bake_time;
  std::optional<Quantity> max_unavailable;  // nullopt: no per-pool limit
  bool honour_windows = true;
  absl::Duration health_timeout;
  Quantity failure_threshold;
};

// `policy` itself, except that an expedited rollout is one wave of 100%
// with no bake, no per-pool limit and no maintenance windows (an operator
// expediting a rollback wants it now). A policy with no waves is one wave.
EffectivePolicy EffectiveFor(const RolloutPolicy& policy, bool expedite);

// Hosts the waves are shares of: every host except those that already
// served the new version when they joined (kUnchanged).
int PlannedTotal(const RolloutState& state);
// Hosts chosen for some wave so far (wave ≥ 0).
int ChosenCount(const RolloutState& state);

// True when `wave` is the last one (or past it, after the policy shrank).
bool IsLastWave(const EffectivePolicy& policy, int wave);
// How many hosts waves 0..`wave` cover together. The last wave always
// covers everyone, whatever it says, so a rollout can always complete.
int CumulativeTarget(const EffectivePolicy& policy, int wave, int total);
// Failed hosts that halt the rollout; at least 1.
int FailureThreshold(const EffectivePolicy& policy, int total);

// Up to `count` queued hosts for the next wave, as indices into
// state.hosts, in the order chosen: online hosts first; then spread over
// the pools (the pool with the fewest hosts chosen so far goes first, ties
// by pool name); within a pool by agent id, then target. Deterministic.
std::vector<size_t> ChooseHosts(const RolloutState& state, int count);

// For each pool, how many of its hosts may be changing at once:
// `max_unavailable` of the pool's size, at least 1 (or a rollout could
// never move a host).
std::map<std::string, int> PoolLimits(const RolloutState& state,
                                      const Quantity& max_unavailable);
// For each pool, how many hosts are changing (delivered, not yet healthy).
std::map<std::string, int> ChangingPerPool(const RolloutState& state);

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_WAVE_PLAN_H_
