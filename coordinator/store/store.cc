// The Store's batch writes as one call per item, for backends without
// transactions worth using (store.h).
#include "coordinator/store/store.h"

namespace certfleet::store {

std::vector<absl::Status> Store::PutTargetStates(
    const std::vector<TargetStateRecord>& states) {
  std::vector<absl::Status> out;
  out.reserve(states.size());
  for (const TargetStateRecord& s : states) out.push_back(PutTargetState(s));
  return out;
}

std::vector<absl::Status> Store::PutDesiredVersions(
    const std::vector<TargetStateRecord>& desired) {
  std::vector<absl::Status> out;
  out.reserve(desired.size());
  for (const TargetStateRecord& d : desired) {
    out.push_back(PutDesiredVersion(d.agent_id, d.target, d.certificate,
                                    d.desired_version_id));
  }
  return out;
}

std::vector<absl::Status> Store::RecordLastSeen(
    const std::vector<LastSeen>& seen) {
  std::vector<absl::Status> out;
  out.reserve(seen.size());
  for (const LastSeen& s : seen) {
    out.push_back(UpdateAgent(s.agent_id, [at = s.at](AgentRecord& a) {
                    // Never backwards: another replica may have seen it
                    // later.
                    if (a.last_seen_at < at) a.last_seen_at = at;
                    return absl::OkStatus();
                  }).status());
  }
  return out;
}

}  // namespace certfleet::store
