// AdminBackend's agent actions: disable, enable, remove and relabel an
// agent. Each is one Store::UpdateAgent (so it cannot undo a renewal or
// another action made at the same time), then the agent's open stream is
// told (options.agent_changed: closed for a disabled or removed agent, new
// labels applied) and the rollouts woken (options.poke_rollouts).
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "common/status_macros.h"
#include "coordinator/adminapi/admin_audit.h"
#include "coordinator/adminapi/admin_backend.h"
#include "coordinator/adminapi/admin_views.h"

namespace certfleet::adminapi {
namespace {

absl::Status StaysRemoved(const store::AgentRecord& a, const char* what) {
  return absl::FailedPreconditionError(absl::StrCat(
      "agent ", a.id, " was removed",
      a.status_changed_by.empty() ? ""
                                  : absl::StrCat(" by ", a.status_changed_by),
      " at ", FormatRfc3339(a.status_changed_at),
      "; a removed agent cannot be ", what,
      " (enroll the host as a new agent)"));
}

void SetStatus(store::AgentRecord& a, store::AgentStatus status, absl::Time now,
               const std::string& actor) {
  if (a.status == status) return;  // repeated: nothing changes
  a.status = status;
  a.status_changed_at = now;
  a.status_changed_by = actor;
}

}  // namespace

absl::StatusOr<v1::AgentActionResponse> AdminBackend::ChangeAgent(
    const std::string& id, const char* what, const std::string& caller,
    const std::function<absl::Status(store::AgentRecord&)>& change) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": id is empty"));
  }
  store::AgentRecord before;
  absl::StatusOr<store::AgentRecord> after =
      store_.UpdateAgent(id, [&](store::AgentRecord& a) {
        before = a;  // the read the final attempt decided on
        return change(a);
      });
  if (absl::IsNotFound(after.status())) {
    return absl::NotFoundError(absl::StrCat("no agent ", id));
  }
  if (!after.ok()) return after.status();
  if (options_.agent_changed) options_.agent_changed(id);
  if (options_.poke_rollouts) options_.poke_rollouts();
  CF_LOG_INFO("admin %s: %s agent %s: status %s -> %s, labels %s -> %s", caller,
              what, id, store::AgentStatusName(before.status),
              store::AgentStatusName(after->status),
              labels::FormatLabels(before.labels),
              labels::FormatLabels(after->labels));
  v1::AgentActionResponse out;
  ASSIGN_OR_RETURN(*out.mutable_agent(), DescribeAgent(*after));
  const std::map<std::string, absl::Time> connected = ConnectedNow();
  // The stream of a disabled or removed agent is being closed right now.
  std::map<std::string, absl::Time> still = connected;
  if (after->status != store::AgentStatus::kActive) still.erase(id);
  SetConnection(*after, still, PresentNow(still), out.mutable_agent());
  out.set_previous_status(std::string(store::AgentStatusName(before.status)));
  for (const auto& [key, value] : before.labels) {
    (*out.mutable_previous_labels())[key] = value;
  }
  return out;
}

absl::StatusOr<v1::AgentActionResponse> AdminBackend::DisableAgent(
    const v1::DisableAgentRequest& request, const std::string& caller) {
  const absl::Time now = clock_.Now();
  const std::string actor = AdminActor(caller);
  return ChangeAgent(request.id(), "DisableAgent", caller,
                     [&](store::AgentRecord& a) -> absl::Status {
                       if (a.status == store::AgentStatus::kRemoved) {
                         return StaysRemoved(a, "disabled");
                       }
                       SetStatus(a, store::AgentStatus::kDisabled, now, actor);
                       return absl::OkStatus();
                     });
}

absl::StatusOr<v1::AgentActionResponse> AdminBackend::EnableAgent(
    const v1::EnableAgentRequest& request, const std::string& caller) {
  const absl::Time now = clock_.Now();
  const std::string actor = AdminActor(caller);
  return ChangeAgent(request.id(), "EnableAgent", caller,
                     [&](store::AgentRecord& a) -> absl::Status {
                       if (a.status == store::AgentStatus::kRemoved) {
                         return StaysRemoved(a, "enabled");
                       }
                       SetStatus(a, store::AgentStatus::kActive, now, actor);
                       return absl::OkStatus();
                     });
}

absl::StatusOr<v1::AgentActionResponse> AdminBackend::RemoveAgent(
    const v1::RemoveAgentRequest& request, const std::string& caller) {
  const absl::Time now = clock_.Now();
  const std::string actor = AdminActor(caller);
  return ChangeAgent(request.id(), "RemoveAgent", caller,
                     [&](store::AgentRecord& a) {
                       SetStatus(a, store::AgentStatus::kRemoved, now, actor);
                       return absl::OkStatus();
                     });
}

absl::StatusOr<v1::AgentActionResponse> AdminBackend::RelabelAgent(
    const v1::RelabelAgentRequest& request, const std::string& caller) {
  if (request.labels().empty()) {
    return absl::InvalidArgumentError(
        "RelabelAgent: labels are required (the agent's new labels, "
        "replacing all of its current ones)");
  }
  const std::map<std::string, std::string> labels(request.labels().begin(),
                                                  request.labels().end());
  for (const auto& [key, value] : labels) {
    RETURN_IF_ERROR(Annotate(labels::CheckLabel(key, value), "RelabelAgent"));
  }
  // Targets their certificate no longer selects forget the version they were
  // to serve, before the labels change (AgentHub does the same for a stream
  // it holds): should a certificate select them again, they get what its
  // fleet serves then, not what they were left with.
  if (!request.id().empty()) {
    ASSIGN_OR_RETURN(std::vector<store::TargetStateRecord> targets,
                     store_.ListTargetStates(request.id()));
    for (store::TargetStateRecord& t : targets) {
      if (t.certificate.empty() || t.desired_version_id.empty() ||
          assignments_.Selects(t.certificate, labels, t.target)) {
        continue;
      }
      RETURN_IF_ERROR(
          store_.PutDesiredVersion(t.agent_id, t.target, t.certificate, ""));
    }
  }
  return ChangeAgent(request.id(), "RelabelAgent", caller,
                     [&](store::AgentRecord& a) -> absl::Status {
                       if (a.status == store::AgentStatus::kRemoved) {
                         return StaysRemoved(a, "relabelled");
                       }
                       a.labels = labels;
                       return absl::OkStatus();
                     });
}

}  // namespace certfleet::adminapi
