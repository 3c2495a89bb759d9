#include "coordinator/rollout/runner/fleet_view.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/store/version_id.h"

namespace certfleet::rollout {

rollout::VersionInfo VersionInfoOf(const store::VersionRecord& v) {
  return {.id = store::VersionId(v.cert_name, v.version),
          .not_before = v.not_before,
          .not_after = v.not_after,
          .revoked_at = v.revoked_at,
          .revocation_reason = v.revocation_reason};
}

absl::StatusOr<rollout::FleetSnapshot> BuildFleetSnapshot(
    store::Store& store, const delivery::Assignments& assignments,
    const std::string& certificate, const rollout::RolloutPolicy& policy,
    const AgentPresence& presence) {
  absl::StatusOr<std::vector<store::AgentRecord>> agents = store.ListAgents();
  if (!agents.ok()) {
    return Annotate(agents.status(),
                    absl::StrCat("fleet of ", certificate, ": agents"));
  }
  std::map<std::string, const store::AgentRecord*> by_id;
  for (const store::AgentRecord& a : *agents) by_id[a.id] = &a;
  absl::StatusOr<std::vector<store::TargetStateRecord>> states =
      store.ListAllTargetStates();
  if (!states.ok()) {
    return Annotate(states.status(),
                    absl::StrCat("fleet of ", certificate, ": target states"));
  }

  rollout::FleetSnapshot fleet;
  std::set<std::string> served;
  for (const store::TargetStateRecord& s : *states) {
    auto agent = by_id.find(s.agent_id);
    if (agent == by_id.end()) continue;  // no longer enrolled
    const std::map<std::string, std::string>& labels = agent->second->labels;
    if (!assignments.Selects(certificate, labels, s.target)) continue;
    rollout::HostSnapshot h;
    h.agent_id = s.agent_id;
    h.target = s.target;
    if (!policy.pool_label.empty()) {
      auto pool = labels.find(policy.pool_label);
      if (pool != labels.end()) h.pool = pool->second;
    }
    const store::AgentRecord& record = *agent->second;
    h.online = presence.connected.count(s.agent_id) > 0;
    h.removed = record.status == store::AgentStatus::kRemoved;
    h.disabled = record.status == store::AgentStatus::kDisabled;
    h.stale = presence.staleness != nullptr &&
              presence.staleness->IsStale(record, h.online, presence.now);
    h.installed_version_id = s.installed_version_id;
    h.desired_version_id = s.desired_version_id;
    h.healthy = s.healthy;
    h.last_error = s.last_error;
    h.last_error_version_id = s.last_error_version_id;
    h.last_report_at = s.updated_at;
    if (!s.installed_version_id.empty() && !h.removed) {
      served.insert(s.installed_version_id);
    }
    fleet.hosts.push_back(std::move(h));
  }
  for (const std::string& id : served) {
    absl::StatusOr<std::pair<std::string, int64_t>> parsed =
        store::ParseVersionId(id);
    if (!parsed.ok() || parsed->first != certificate) continue;
    absl::StatusOr<std::optional<store::VersionRecord>> v =
        store.GetVersion(certificate, parsed->second);
    if (!v.ok()) {
      return Annotate(v.status(),
                      absl::StrCat("fleet of ", certificate, ": version ", id));
    }
    if (v->has_value()) {
      fleet.earliest_served_not_after =
          std::min(fleet.earliest_served_not_after, (*v)->not_after);
    }
  }
  return fleet;
}

std::string MostServedVersion(const rollout::FleetSnapshot& fleet,
                              const std::string& certificate, int64_t below) {
  // Versions confirmed installed count; only when none is, versions on
  // their way (a first version still being delivered) do, so that a
  // version stored meanwhile is rolled out rather than sent to everyone.
  for (const bool in_flight : {false, true}) {
    std::map<int64_t, int> hosts_by_version;
    for (const rollout::HostSnapshot& h : fleet.hosts) {
      if (h.removed) continue;
      absl::StatusOr<std::pair<std::string, int64_t>> parsed =
          store::ParseVersionId(in_flight ? h.desired_version_id
                                          : h.installed_version_id);
      if (!parsed.ok() || parsed->first != certificate) continue;
      if (parsed->second >= below) continue;
      ++hosts_by_version[parsed->second];
    }
    int64_t best = 0;
    int best_hosts = 0;
    for (const auto& [version, hosts] : hosts_by_version) {
      if (hosts >= best_hosts) {  // ascending: a tie goes to the newer
        best = version;
        best_hosts = hosts;
      }
    }
    if (best_hosts > 0) return store::VersionId(certificate, best);
  }
  return "";
}

}  // namespace certfleet::rollout
