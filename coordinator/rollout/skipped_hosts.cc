#include "coordinator/rollout/skipped_hosts.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coordinator/rollout/host_tracker.h"

namespace certfleet::rollout {
namespace {

const HostSnapshot* Find(const FleetSnapshot& fleet, const HostRecord& h) {
  for (const HostSnapshot& s : fleet.hosts) {
    if (s.agent_id == h.agent_id && s.target == h.target) return &s;
  }
  return nullptr;
}

// The rollout waits for it: a host it may still deliver to, or whose
// revert it watches.
bool WaitedFor(Phase phase, const HostRecord& h) {
  if (h.state == HostState::kReverting) return true;
  return IsActive(phase) &&
         (h.state == HostState::kQueued || h.state == HostState::kWaiting ||
          h.state == HostState::kChanging);
}

void Skip(HostRecord& h, const char* reason, const std::string& by,
          absl::Time now) {
  h.state = HostState::kSkipped;
  h.skip_reason = reason;
  h.skipped_by = by;
  h.skipped_at = now;
}

std::string WhatItGets(const RolloutState& state) {
  return absl::StrCat("it is sent what the ", RolloutKindName(state.kind),
                      " of ", state.certificate, " reaches when it comes back");
}

}  // namespace

void SkipRemoved(const RolloutState& state, HostRecord& host, absl::Time now,
                 StepResult& out) {
  if (host.state == HostState::kHealthy || host.state == HostState::kFailed ||
      host.state == HostState::kReverted) {
    return;
  }
  if (host.state == HostState::kSkipped && host.skip_reason == kSkipRemoved) {
    return;
  }
  Skip(host, kSkipRemoved, "", now);
  out.events.push_back(
      {RolloutEvent::Kind::kHostSkipped, now, host.wave,
       absl::StrCat(HostName(host), ": its agent was removed; the ",
                    RolloutKindName(state.kind), " no longer waits for it")});
}

void SkipUnreachable(RolloutState& state, const FleetSnapshot& fleet,
                     absl::Time now, StepResult& out) {
  for (HostRecord& h : state.hosts) {
    const HostSnapshot* s = Find(fleet, h);
    if (s == nullptr || s->removed) continue;
    const char* reason = s->disabled ? kSkipDisabled
                         : s->stale  ? kSkipStale
                                     : nullptr;
    if (reason != nullptr) {
      if (!WaitedFor(state.phase, h)) continue;
      const std::string described = DescribeHost(h, fleet);
      Skip(h, reason, "", now);
      out.events.push_back(
          {RolloutEvent::Kind::kHostSkipped, now, h.wave,
           absl::StrCat(HostName(h), " is ", reason, " (", described, "): the ",
                        RolloutKindName(state.kind),
                        " no longer waits for it; ", WhatItGets(state))});
      continue;
    }
    const bool came_back =
        h.state == HostState::kSkipped &&
        (h.skip_reason == kSkipStale || h.skip_reason == kSkipDisabled);
    if (came_back && IsActive(state.phase)) {
      const std::string was = h.skip_reason;
      h.state = HostState::kQueued;
      h.wave = -1;
      h.skip_reason.clear();
      h.skipped_by.clear();
      h.skipped_at = absl::InfinitePast();
      out.events.push_back({RolloutEvent::Kind::kHostReturned, now, -1,
                            absl::StrCat(HostName(h), " is back (it was ", was,
                                         "): queued again")});
    }
  }
}

absl::StatusOr<int> SkipAgent(RolloutState& state, const std::string& agent_id,
                              const std::string& by, absl::Time now,
                              StepResult& out) {
  int found = 0;
  int skipped = 0;
  std::vector<std::string> others;
  for (HostRecord& h : state.hosts) {
    if (h.agent_id != agent_id) continue;
    ++found;
    const bool skipped_itself = h.state == HostState::kSkipped &&
                                h.skip_reason != kSkipOperator &&
                                h.skip_reason != kSkipRemoved;
    if (!WaitedFor(state.phase, h) && !skipped_itself) {
      others.push_back(absl::StrCat(h.target, " is ", HostStateName(h.state),
                                    h.skip_reason.empty() ? "" : " (",
                                    h.skip_reason,
                                    h.skip_reason.empty() ? "" : ")"));
      continue;
    }
    Skip(h, kSkipOperator, by, now);
    ++skipped;
    out.events.push_back(
        {RolloutEvent::Kind::kHostSkipped, now, h.wave,
         absl::StrCat(HostName(h), " was skipped", by.empty() ? "" : " by ", by,
                      ": the ", RolloutKindName(state.kind),
                      " no longer waits for it; ", WhatItGets(state))});
  }
  if (found == 0) {
    return absl::NotFoundError(
        absl::StrCat("agent ", agent_id, " has no target in the ",
                     RolloutKindName(state.kind), " of ", state.certificate,
                     " to ", state.to_version));
  }
  if (skipped == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "agent ", agent_id, ": the ", RolloutKindName(state.kind), " of ",
        state.certificate, " (", PhaseName(state.phase),
        ") waits for none of its targets: ", absl::StrJoin(others, ", ")));
  }
  return skipped;
}

void DeliverToSkipped(const RolloutState& state, StepResult& out) {
  for (const HostRecord& h : state.hosts) {
    if (h.state != HostState::kSkipped || h.skip_reason == kSkipRemoved) {
      continue;
    }
    out.deliveries.push_back(
        {h.agent_id, h.target, state.to_version, /*revert=*/false});
  }
}

void RevertSkipped(RolloutState& state, absl::Time now, StepResult& out) {
  if (state.from_version.empty()) return;
  for (HostRecord& h : state.hosts) {
    if (h.state != HostState::kSkipped || h.skip_reason == kSkipRemoved ||
        h.delivered_at == absl::InfinitePast()) {
      continue;
    }
    h.reverted_at = now;
    out.deliveries.push_back(
        {h.agent_id, h.target, state.from_version, /*revert=*/true});
  }
}

int SkippedCount(const RolloutState& state) {
  return static_cast<int>(std::count_if(
      state.hosts.begin(), state.hosts.end(),
      [](const HostRecord& h) { return h.state == HostState::kSkipped; }));
}

}  // namespace certfleet::rollout
