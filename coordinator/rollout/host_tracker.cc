#include "coordinator/rollout/host_tracker.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/rfc3339.h"
#include "coordinator/rollout/skipped_hosts.h"

namespace certfleet::rollout {
namespace {

using HostKey = std::pair<std::string, std::string>;  // agent id, target

std::map<HostKey, const HostSnapshot*> Index(const FleetSnapshot& fleet) {
  std::map<HostKey, const HostSnapshot*> index;
  for (const HostSnapshot& s : fleet.hosts) {
    index.emplace(HostKey{s.agent_id, s.target}, &s);
  }
  return index;
}

const HostSnapshot* Find(const std::map<HostKey, const HostSnapshot*>& index,
                         const HostRecord& h) {
  auto it = index.find(HostKey{h.agent_id, h.target});
  return it == index.end() ? nullptr : it->second;
}

// The agent reported a failed delivery of `version` at or after `since`
// (an older error may be from an earlier attempt at the same version).
bool Rejected(const HostSnapshot& s, const std::string& version,
              absl::Time since) {
  return !s.last_error.empty() && s.last_error_version_id == version &&
         s.last_report_at >= since;
}

bool ServesHealthy(const HostSnapshot* s, const std::string& version) {
  return s != nullptr && s->installed_version_id == version && s->healthy;
}

void Fail(RolloutState& state, HostRecord& h, std::string why, int failures,
          int threshold, absl::Time now, StepResult& out) {
  h.failure = std::move(why);
  h.failed_at = now;
  std::string then =
      state.from_version.empty()
          ? std::string("there is no previous version to send it back to")
          : absl::StrCat("sending it back to ", state.from_version);
  out.events.push_back(
      {RolloutEvent::Kind::kHostFailed, now, h.wave,
       absl::StrCat(HostName(h), " failed: ", h.failure, "; ", then,
                    " (failure ", failures, ", the rollout halts at ",
                    threshold, ")")});
  RevertHost(state, h, now, out);
}

}  // namespace

std::string DescribeHost(const HostRecord& host, const FleetSnapshot& fleet) {
  const auto index = Index(fleet);
  const HostSnapshot* s = Find(index, host);
  if (s == nullptr) return "no longer in the fleet snapshot";
  std::string text = s->installed_version_id.empty()
                         ? std::string("serves nothing")
                         : absl::StrCat("serves ", s->installed_version_id);
  absl::StrAppend(&text, s->healthy ? ", healthy" : ", unhealthy");
  if (s->removed) absl::StrAppend(&text, ", removed");
  if (s->disabled) absl::StrAppend(&text, ", disabled");
  if (s->stale) absl::StrAppend(&text, ", stale");
  if (!s->online) {
    absl::StrAppend(
        &text, ", offline",
        s->last_report_at == absl::InfinitePast()
            ? std::string(", never reported")
            : absl::StrCat(" since ", FormatRfc3339(s->last_report_at)));
  }
  return text;
}

void SyncHosts(RolloutState& state, const FleetSnapshot& fleet, absl::Time now,
               StepResult& out) {
  const auto index = Index(fleet);
  const bool active = IsActive(state.phase);
  const bool started = state.wave >= 0;
  std::map<HostKey, bool> known;
  std::vector<HostRecord> kept;
  for (HostRecord& h : state.hosts) {
    known[HostKey{h.agent_id, h.target}] = true;
    const HostSnapshot* s = Find(index, h);
    // A removed agent leaves at once, whatever was delivered to it.
    const bool removed = s != nullptr && s->removed;
    if (s == nullptr || removed) {
      const bool untouched = h.state == HostState::kQueued ||
                             h.state == HostState::kWaiting ||
                             h.state == HostState::kUnchanged;
      if (active && untouched) {
        if (started || removed) {
          out.events.push_back(
              {RolloutEvent::Kind::kHostLeft, now, h.wave,
               removed ? absl::StrCat(HostName(h),
                                      ": its agent was removed; it leaves the "
                                      "rollout")
                       : absl::StrCat(HostName(h), " is no longer a target of ",
                                      state.certificate,
                                      "; it leaves the rollout (nothing was "
                                      "delivered to it)")});
        }
        continue;
      }
      h.online = false;  // delivered to, then gone: watched as offline
      if (removed) {
        h.stale = false;
        SkipRemoved(state, h, now, out);
      }
    } else {
      h.online = s->online;
      h.stale = s->stale;
      h.pool = s->pool;
    }
    kept.push_back(std::move(h));
  }
  state.hosts = std::move(kept);

  if (active) {
    for (const HostSnapshot& s : fleet.hosts) {
      if (s.removed) continue;
      if (known.count(HostKey{s.agent_id, s.target})) continue;
      known[HostKey{s.agent_id, s.target}] = true;
      HostRecord h;
      h.agent_id = s.agent_id;
      h.target = s.target;
      h.pool = s.pool;
      h.online = s.online;
      h.stale = s.stale;
      h.state = s.installed_version_id == state.to_version
                    ? HostState::kUnchanged
                    : HostState::kQueued;
      if (started) {
        out.events.push_back(
            {RolloutEvent::Kind::kHostJoined, now, -1,
             absl::StrCat(
                 HostName(h), " (pool \"", h.pool, "\") joined the rollout: ",
                 h.state == HostState::kUnchanged
                     ? absl::StrCat("already serves ", state.to_version)
                     : std::string("queued for the next wave"))});
      }
      state.hosts.push_back(std::move(h));
    }
  }
  std::sort(state.hosts.begin(), state.hosts.end(),
            [](const HostRecord& a, const HostRecord& b) {
              return std::tie(a.pool, a.agent_id, a.target) <
                     std::tie(b.pool, b.agent_id, b.target);
            });
}

int ObserveOutcomes(RolloutState& state, const FleetSnapshot& fleet,
                    const EffectivePolicy& policy, int threshold,
                    absl::Time now, StepResult& out) {
  const auto index = Index(fleet);
  int failures = static_cast<int>(
      std::count_if(state.hosts.begin(), state.hosts.end(),
                    [](const HostRecord& h) { return !h.failure.empty(); }));
  int new_failures = 0;
  const bool watch_healthy = IsActive(state.phase);
  for (HostRecord& h : state.hosts) {
    const HostSnapshot* s = Find(index, h);
    switch (h.state) {
      case HostState::kChanging:
        if (ServesHealthy(s, state.to_version)) {
          h.state = HostState::kHealthy;
          h.healthy_at = now;
        } else if (s != nullptr &&
                   Rejected(*s, state.to_version, h.delivered_at)) {
          ++new_failures;
          Fail(state, h,
               absl::StrCat("delivery of ", state.to_version,
                            " rejected: ", s->last_error),
               ++failures, threshold, now, out);
        } else if (now - h.delivered_at >= policy.health_timeout) {
          ++new_failures;
          Fail(state, h,
               absl::StrCat("not healthy on ", state.to_version, " within ",
                            absl::FormatDuration(policy.health_timeout),
                            " of its delivery (", DescribeHost(h, fleet), ")"),
               ++failures, threshold, now, out);
        }
        break;
      case HostState::kHealthy:
        if (watch_healthy && s != nullptr && s->online &&
            !ServesHealthy(s, state.to_version)) {
          ++new_failures;
          Fail(state, h,
               absl::StrCat("no longer healthy on ", state.to_version,
                            " (healthy since ", FormatRfc3339(h.healthy_at),
                            "; now ", DescribeHost(h, fleet), ")"),
               ++failures, threshold, now, out);
        }
        break;
      case HostState::kReverting:
        if (s != nullptr && s->installed_version_id == state.from_version) {
          h.state = HostState::kReverted;
        } else if (s != nullptr && h.revert_error.empty() &&
                   Rejected(*s, state.from_version, h.reverted_at)) {
          h.revert_error = s->last_error;
          out.events.push_back(
              {RolloutEvent::Kind::kRevertRejected, now, h.wave,
               absl::StrCat(HostName(h), " rejected the revert to ",
                            state.from_version, ": ", s->last_error, " (it ",
                            DescribeHost(h, fleet), ")")});
        }
        break;
      default:
        break;
    }
  }
  return new_failures;
}

void RevertHost(const RolloutState& state, HostRecord& host, absl::Time now,
                StepResult& out) {
  if (state.from_version.empty()) {
    if (!host.failure.empty()) host.state = HostState::kFailed;
    return;
  }
  host.state = HostState::kReverting;
  host.reverted_at = now;
  host.revert_error.clear();
  out.deliveries.push_back(
      {host.agent_id, host.target, state.from_version, /*revert=*/true});
}

}  // namespace certfleet::rollout
