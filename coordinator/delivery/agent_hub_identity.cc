// AgentHub: which identities may hold a stream — only an active agent's
// current identity certificate — and what a change of an agent's record
// (disabled, removed, re-enrolled, relabelled) does to its open stream.
// Split from agent_hub.cc; same class, same hub thread.
#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "coordinator/delivery/agent_hub.h"

namespace certfleet::delivery {
namespace {

// " (by admin:alice at 2030-01-01T00:00:00Z)", or "" when never said.
std::string ChangedBy(const store::AgentRecord& record) {
  if (record.status_changed_by.empty()) return "";
  return absl::StrCat(" (by ", record.status_changed_by, " at ",
                      FormatRfc3339(record.status_changed_at), ")");
}

}  // namespace

absl::Status AgentHub::Admit(const store::AgentRecord& record,
                             const std::string& serial,
                             const std::string& issued_serial,
                             std::string* reason) {
  switch (record.status) {
    case store::AgentStatus::kRemoved:
      *reason = "removed";
      return absl::PermissionDeniedError(
          absl::StrCat("agent ", record.id, " was removed", ChangedBy(record),
                       "; its identity is refused for good"));
    case store::AgentStatus::kDisabled:
      *reason = "disabled";
      return absl::PermissionDeniedError(
          absl::StrCat("agent ", record.id, " is disabled", ChangedBy(record),
                       "; `certfleetctl agents enable ", record.id,
                       "` lets it connect again"));
    case store::AgentStatus::kActive:
      break;
  }
  if (record.identity_serial != serial &&
      (issued_serial.empty() || record.identity_serial != issued_serial)) {
    *reason = "stale_serial";
    return absl::PermissionDeniedError(absl::StrCat(
        "agent ", record.id, ": identity certificate serial ", serial,
        " is not the agent's current one (it was renewed or re-enrolled "
        "since); this certificate is refused"));
  }
  return absl::OkStatus();
}

void AgentHub::Refuse(const std::string& agent_id, const std::string& call,
                      const std::string& reason, const absl::Status& why,
                      AgentChannel& channel) {
  CF_LOG_WARN("agent %s: %s refused (%s): %s", agent_id, call, reason,
              why.message());
  if (observer_) observer_->OnIdentityRefused(call, reason);
  channel.Close(why);
}

void AgentHub::Touch(const std::string& agent_id, absl::Time at) {
  // Written behind, never backwards (another replica may have seen it
  // later); failures logged by the writer.
  writer_->RecordLastSeen(agent_id, at);
}

void AgentHub::Drop(const std::string& agent_id) {
  if (agents_.erase(agent_id) == 0) return;
  Touch(agent_id, clock_.Now());
  UpdateConnected(agent_id);
}

void AgentHub::AgentChanged(const std::string& agent_id) {
  Post([this, agent_id] {
    if (agents_.count(agent_id) == 0) return;  // not served here
    absl::StatusOr<std::optional<store::AgentRecord>> record =
        store_.GetAgent(agent_id);
    if (!record.ok()) {
      CF_LOG_WARN("agent %s: its record changed but cannot be read: %s",
                  agent_id, record.status().ToString());
      return;
    }
    if (record->has_value()) ApplyAgentRecord(**record);
  });
}

void AgentHub::OnAgentStored(const store::AgentRecord& record) {
  Post([this, record] { ApplyAgentRecord(record); });
}

void AgentHub::ApplyAgentRecord(const store::AgentRecord& record) {
  auto it = agents_.find(record.id);
  if (it == agents_.end()) return;
  Agent& agent = it->second;
  std::string reason;
  if (absl::Status admitted =
          Admit(record, agent.serial, agent.issued_serial, &reason);
      !admitted.ok()) {
    // Disabled, removed, or re-enrolled with another identity: the stream
    // ends now, and nothing more is sent or renewed on it.
    Refuse(record.id, "stream", reason, admitted, *agent.channel);
    Drop(record.id);
    return;
  }
  if (record.labels == agent.labels) return;
  // A target its certificate no longer selects forgets the version it was
  // to serve: should a certificate select it again, it gets what that
  // certificate's fleet serves then, not what it was left with.
  std::vector<std::string> deselected;
  for (const auto& [target, state] : agent.states) {
    if (state.certificate.empty() || state.desired_version_id.empty()) continue;
    if (!assignments_.Selects(state.certificate, record.labels, target)) {
      deselected.push_back(target);
    }
  }
  for (const std::string& target : deselected) {
    StoreDesired(record.id, target, "", "", /*resend=*/false);
  }
  CF_LOG_INFO("agent %s: labels now %s (were %s)", record.id,
              labels::FormatLabels(record.labels),
              labels::FormatLabels(agent.labels));
  agent.labels = record.labels;
  Reconcile(record.id, agent);
}

}  // namespace certfleet::delivery
