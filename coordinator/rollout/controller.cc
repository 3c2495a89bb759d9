#include "coordinator/rollout/controller.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rfc3339.h"
#include "coordinator/rollout/host_tracker.h"
#include "coordinator/rollout/skipped_hosts.h"

namespace certfleet::rollout {
namespace {

std::string Hosts(int n) {
  return absl::StrCat(n, n == 1 ? " host" : " hosts");
}

int CountIf(const RolloutState& s, bool (*pred)(const HostRecord&)) {
  return static_cast<int>(std::count_if(s.hosts.begin(), s.hosts.end(), pred));
}

int Failures(const RolloutState& s) {
  return CountIf(s, [](const HostRecord& h) { return !h.failure.empty(); });
}

std::string Subject(const RolloutState& s) {
  return absl::StrCat(RolloutKindName(s.kind), " of ", s.certificate, " to ",
                      s.to_version);
}

}  // namespace

StepResult RolloutController::Step(const RolloutPolicy& policy,
                                   const FleetSnapshot& fleet, absl::Time now) {
  StepResult out;
  if (IsFinished(state_.phase)) return out;
  const RolloutState before = state_;
  const EffectivePolicy effective = EffectiveFor(policy, state_.expedite);

  SyncHosts(state_, fleet, now, out);
  SkipUnreachable(state_, fleet, now, out);

  const bool urgent =
      fleet.earliest_served_not_after != absl::InfiniteFuture() &&
      fleet.earliest_served_not_after - now <= policy.urgent_within;
  if (urgent != state_.urgent) {
    state_.urgent = urgent;
    if (urgent && effective.honour_windows && !policy.windows.empty()) {
      out.events.push_back(
          {RolloutEvent::Kind::kUrgent, now, state_.wave,
           absl::StrCat("urgent: a served version of ", state_.certificate,
                        " expires at ",
                        FormatRfc3339(fleet.earliest_served_not_after),
                        " (within ", absl::FormatDuration(policy.urgent_within),
                        "); maintenance windows are ignored")});
    }
  }
  const bool may_move = !effective.honour_windows || urgent ||
                        InMaintenanceWindow(policy.windows, now);

  const int threshold = FailureThreshold(effective, PlannedTotal(state_));
  const int new_failures =
      ObserveOutcomes(state_, fleet, effective, threshold, now, out);
  const int failures = Failures(state_);

  if (state_.phase == Phase::kHalted) {
    const bool reverting = CountIf(state_, [](const HostRecord& h) {
                             return h.state == HostState::kReverting;
                           }) > 0;
    if (!state_.from_version.empty() && !reverting) {
      state_.phase = Phase::kRolledBack;
      state_.finished_at = now;
      out.events.push_back(
          {RolloutEvent::Kind::kRolledBack, now, state_.wave,
           absl::StrCat("rolled back: every host the ", Subject(state_),
                        " moved serves ", state_.from_version, " again")});
    }
  } else if (failures >= threshold) {
    Halt(failures, threshold, now, out);
  } else if (state_.phase != Phase::kPaused) {
    if (new_failures > 0 && state_.phase == Phase::kBaking &&
        state_.bake_started_at != absl::InfinitePast() &&
        effective.bake_time > absl::ZeroDuration()) {
      state_.bake_started_at = now;
      out.events.push_back(
          {RolloutEvent::Kind::kBakeRestarted, now, state_.wave,
           absl::StrCat("a host failed while ",
                        WaveLabel(effective, state_.wave),
                        " baked: the bake starts over, until ",
                        FormatRfc3339(now + effective.bake_time))});
    }
    bool wants_to_move = false;
    Advance(effective, may_move, now, out);
    UpdateOfflineWaiting(fleet, now, out);
    // Advance leaves something to move that only a window can release when
    // it stopped for the window: pending, a bake that is over, or online
    // hosts waiting in the current wave.
    if (!may_move) {
      if (state_.phase == Phase::kPending) wants_to_move = true;
      if (state_.phase == Phase::kBaking &&
          now >= state_.bake_started_at + effective.bake_time) {
        wants_to_move = true;
      }
      for (const HostRecord& h : state_.hosts) {
        if (state_.phase == Phase::kDelivering && h.wave == state_.wave &&
            h.state == HostState::kWaiting && h.online) {
          wants_to_move = true;
        }
      }
    }
    UpdateWindow(policy, wants_to_move, may_move, now, out);
  }
  if (state_.phase == Phase::kHalted || IsFinished(state_.phase)) {
    state_.waiting_for_window = false;
    state_.window_opens_at = absl::InfinitePast();
    state_.offline_waiting.clear();
  }

  out.state_changed = !(state_ == before);
  if (out.state_changed) state_.updated_at = now;
  return out;
}

void RolloutController::Advance(const EffectivePolicy& policy, bool may_move,
                                absl::Time now, StepResult& out) {
  // Each pass moves at most one wave forward; the bound only guards against
  // a loop that could not otherwise end.
  for (size_t pass = 0; pass < policy.waves.size() + 3; ++pass) {
    switch (state_.phase) {
      case Phase::kPending: {
        if (!may_move) return;
        const int unchanged = CountIf(state_, [](const HostRecord& h) {
          return h.state == HostState::kUnchanged;
        });
        std::set<std::string> pools;
        for (const HostRecord& h : state_.hosts) pools.insert(h.pool);
        std::vector<std::string> waves;
        for (const Quantity& q : policy.waves) {
          waves.push_back(FormatQuantity(q));
        }
        out.events.push_back(
            {RolloutEvent::Kind::kStarted, now, 0,
             absl::StrCat(
                 Subject(state_), " from ",
                 state_.from_version.empty() ? "(none)" : state_.from_version,
                 " started", state_.requested_by.empty() ? "" : " by ",
                 state_.requested_by, ": ", Hosts(state_.hosts.size()), " in ",
                 pools.size(), pools.size() == 1 ? " pool" : " pools", " (",
                 unchanged, " already serve ", state_.to_version, "); waves ",
                 absl::StrJoin(waves, ", "),
                 state_.expedite ? " (expedited: all at once, no bake)" : "")});
        StartWave(0, policy, now, out);
        break;
      }
      case Phase::kDelivering: {
        const int need =
            CumulativeTarget(policy, state_.wave, PlannedTotal(state_)) -
            ChosenCount(state_);
        for (size_t i : ChooseHosts(state_, need)) {
          state_.hosts[i].state = HostState::kWaiting;
          state_.hosts[i].wave = state_.wave;
        }
        if (may_move) DeliverWaiting(policy, now, out);
        for (const HostRecord& h : state_.hosts) {
          if (h.wave == state_.wave && (h.state == HostState::kWaiting ||
                                        h.state == HostState::kChanging)) {
            return;
          }
        }
        FinishWave(policy, now, out);
        break;
      }
      case Phase::kBaking:
        if (now < state_.bake_started_at + policy.bake_time) return;
        if (!may_move) return;
        if (IsLastWave(policy, state_.wave)) {
          FinishWave(policy, now, out);  // the policy lost waves meanwhile
        } else {
          StartWave(state_.wave + 1, policy, now, out);
        }
        break;
      default:
        return;
    }
  }
}

void RolloutController::StartWave(int wave, const EffectivePolicy& policy,
                                  absl::Time now, StepResult& out) {
  state_.phase = Phase::kDelivering;
  state_.wave = wave;
  state_.wave_started_at = now;
  state_.bake_started_at = absl::InfinitePast();
  state_.offline_waiting.clear();
  const int total = PlannedTotal(state_);
  const int by_end = CumulativeTarget(policy, wave, total);
  std::vector<std::string> names;
  int offline = 0;
  for (size_t i : ChooseHosts(state_, by_end - ChosenCount(state_))) {
    HostRecord& h = state_.hosts[i];
    h.state = HostState::kWaiting;
    h.wave = wave;
    names.push_back(absl::StrCat(HostName(h), " [", h.pool, "]"));
    if (!h.online) ++offline;
  }
  std::string message = absl::StrCat(WaveLabel(policy, wave), " started: ");
  if (names.empty()) {
    absl::StrAppend(&message, "no new hosts (its share, ", by_end, " of ",
                    total, ", is already covered)");
  } else {
    absl::StrAppend(&message, Hosts(names.size()), " (",
                    absl::StrJoin(names, ", "), "); ", by_end, " of ", total,
                    " by its end");
    if (offline > 0) absl::StrAppend(&message, "; ", offline, " offline");
  }
  out.events.push_back({RolloutEvent::Kind::kWaveStarted, now, wave, message});
}

void RolloutController::DeliverWaiting(const EffectivePolicy& policy,
                                       absl::Time now, StepResult& out) {
  std::map<std::string, int> limits;
  if (policy.max_unavailable) {
    limits = PoolLimits(state_, *policy.max_unavailable);
  }
  std::map<std::string, int> changing = ChangingPerPool(state_);
  for (HostRecord& h : state_.hosts) {
    if (h.wave != state_.wave || h.state != HostState::kWaiting || !h.online) {
      continue;
    }
    if (policy.max_unavailable && changing[h.pool] >= limits[h.pool]) continue;
    h.state = HostState::kChanging;
    h.delivered_at = now;
    ++changing[h.pool];
    out.deliveries.push_back(
        {h.agent_id, h.target, state_.to_version, /*revert=*/false});
  }
}

void RolloutController::FinishWave(const EffectivePolicy& policy,
                                   absl::Time now, StepResult& out) {
  int healthy = 0;
  int failed = 0;
  for (const HostRecord& h : state_.hosts) {
    if (h.wave != state_.wave) continue;
    if (!h.failure.empty()) {
      ++failed;
    } else if (h.state == HostState::kHealthy) {
      ++healthy;
    }
  }
  int skipped = 0;
  for (const HostRecord& h : state_.hosts) {
    if (h.wave == state_.wave && h.state == HostState::kSkipped) ++skipped;
  }
  std::string summary =
      absl::StrCat(WaveLabel(policy, state_.wave), " healthy: ", Hosts(healthy),
                   " on ", state_.to_version);
  if (failed > 0) absl::StrAppend(&summary, ", ", failed, " failed");
  if (skipped > 0) absl::StrAppend(&summary, ", ", skipped, " skipped");
  out.events.push_back(
      {RolloutEvent::Kind::kWaveHealthy, now, state_.wave, summary});
  if (IsLastWave(policy, state_.wave)) {
    const auto on_new = [](const HostRecord& h) {
      return h.state == HostState::kHealthy;
    };
    const auto unchanged = [](const HostRecord& h) {
      return h.state == HostState::kUnchanged;
    };
    state_.phase = Phase::kComplete;
    state_.finished_at = now;
    // Skipped hosts get the version now, applied when they reconnect.
    DeliverToSkipped(state_, out);
    const int all_skipped = SkippedCount(state_);
    out.events.push_back(
        {RolloutEvent::Kind::kComplete, now, state_.wave,
         absl::StrCat(Subject(state_),
                      " complete: ", Hosts(CountIf(state_, on_new)), " moved, ",
                      CountIf(state_, unchanged), " already served it, ",
                      Failures(state_), " failed",
                      all_skipped == 0
                          ? std::string()
                          : absl::StrCat(", ", all_skipped, " skipped (sent ",
                                         state_.to_version,
                                         " for when they come back)"))});
    return;
  }
  state_.phase = Phase::kBaking;
  const bool had_hosts = healthy + failed > 0;
  if (!had_hosts || policy.bake_time <= absl::ZeroDuration()) {
    state_.bake_started_at = absl::InfinitePast();  // nothing to bake
    return;
  }
  state_.bake_started_at = now;
  out.events.push_back(
      {RolloutEvent::Kind::kBakeStarted, now, state_.wave,
       absl::StrCat("baking ", WaveLabel(policy, state_.wave), " for ",
                    absl::FormatDuration(policy.bake_time), ", until ",
                    FormatRfc3339(now + policy.bake_time))});
}

void RolloutController::Halt(int failures, int threshold, absl::Time now,
                             StepResult& out) {
  std::vector<std::string> failed;
  for (const HostRecord& h : state_.hosts) {
    if (!h.failure.empty()) {
      failed.push_back(absl::StrCat(HostName(h), " (", h.failure, ")"));
    }
  }
  int stay = 0;
  for (HostRecord& h : state_.hosts) {
    if (h.state == HostState::kChanging || h.state == HostState::kHealthy) {
      ++stay;
      RevertHost(state_, h, now, out);
    } else if (h.state == HostState::kWaiting) {
      h.state = HostState::kQueued;  // never delivered to
      h.wave = -1;
    }
  }
  // A skipped host the new version reached goes back too, when it can.
  RevertSkipped(state_, now, out);
  // Failed hosts were sent back when they failed; name them all.
  std::vector<std::string> reverting;
  for (const HostRecord& h : state_.hosts) {
    if (h.state == HostState::kReverting) reverting.push_back(HostName(h));
  }
  state_.phase = Phase::kHalted;
  state_.halt_reason =
      absl::StrCat(failures, failures == 1 ? " host" : " hosts",
                   " failed, reaching the failure threshold of ", threshold,
                   ": ", absl::StrJoin(failed, "; "));
  std::string message =
      absl::StrCat(Subject(state_), " halted: ", state_.halt_reason, ". ");
  if (state_.from_version.empty()) {
    absl::StrAppend(&message, "There is no previous version to revert to; ",
                    Hosts(stay), " stay on ", state_.to_version);
  } else {
    absl::StrAppend(&message, "Reverting ", Hosts(reverting.size()), " to ",
                    state_.from_version, ": ", absl::StrJoin(reverting, ", "));
  }
  out.events.push_back(
      {RolloutEvent::Kind::kHalted, now, state_.wave, message});
}

void RolloutController::UpdateWindow(const RolloutPolicy& policy,
                                     bool wants_to_move, bool may_move,
                                     absl::Time now, StepResult& out) {
  if (wants_to_move) {
    const absl::Time opens = NextWindowOpening(policy.windows, now);
    if (!state_.waiting_for_window || opens != state_.window_opens_at) {
      state_.waiting_for_window = true;
      state_.window_opens_at = opens;
      out.events.push_back(
          {RolloutEvent::Kind::kWaitingForWindow, now, state_.wave,
           opens == absl::InfiniteFuture()
               ? absl::StrCat("outside the maintenance windows, and none "
                              "ever opens: the ",
                              Subject(state_),
                              " waits (fix the windows or abort)")
               : absl::StrCat("outside the maintenance windows: the ",
                              Subject(state_), " waits until ",
                              FormatRfc3339(opens))});
    }
    return;
  }
  if (state_.waiting_for_window) {
    state_.waiting_for_window = false;
    state_.window_opens_at = absl::InfinitePast();
    if (may_move) {
      out.events.push_back({RolloutEvent::Kind::kWindowOpen, now, state_.wave,
                            absl::StrCat("maintenance window open: the ",
                                         Subject(state_), " moves again")});
    }
  }
}

void RolloutController::UpdateOfflineWaiting(const FleetSnapshot& fleet,
                                             absl::Time now, StepResult& out) {
  std::vector<std::string> names;
  std::vector<std::string> described;
  for (const HostRecord& h : state_.hosts) {
    if (state_.phase == Phase::kDelivering && h.wave == state_.wave &&
        h.state == HostState::kWaiting && !h.online) {
      names.push_back(HostName(h));
      described.push_back(
          absl::StrCat(HostName(h), " (", DescribeHost(h, fleet), ")"));
    }
  }
  if (names == state_.offline_waiting) return;
  state_.offline_waiting = names;
  if (names.empty()) return;
  out.events.push_back(
      {RolloutEvent::Kind::kOfflineHosts, now, state_.wave,
       absl::StrCat("wave ", state_.wave + 1, " waits for ", names.size(),
                    " offline ", names.size() == 1 ? "host: " : "hosts: ",
                    absl::StrJoin(described, ", "))});
}

std::string RolloutController::WaveLabel(const EffectivePolicy& policy,
                                         int wave) const {
  return absl::StrCat("wave ", wave + 1, "/",
                      std::max<int>(policy.waves.size(), wave + 1));
}

}  // namespace certfleet::rollout
