// EnrollmentService's re-enrollment: a bootstrap token made for an existing
// agent (BootstrapTokens::CreateForAgent) gives that agent a new identity —
// a host whose identity expired while it was off comes back as itself, not
// as a new agent beside a ghost. Split from enrollment.cc; same class.
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/identity/enrollment.h"

namespace certfleet::identity {
namespace {

absl::Status Removed(const store::AgentRecord& agent) {
  return absl::PermissionDeniedError(absl::StrCat(
      "agent ", agent.id, " was removed",
      agent.status_changed_by.empty()
          ? std::string()
          : absl::StrCat(" by ", agent.status_changed_by),
      "; a removed agent is never re-enrolled (enroll the host as a new "
      "agent)"));
}

}  // namespace

absl::StatusOr<EnrollmentService::EnrollResult> EnrollmentService::Reenroll(
    absl::string_view token, const store::TokenRecord& granted,
    absl::string_view csr_der, const std::string& hostname,
    const std::map<std::string, std::string>& claimed_labels) {
  const std::string& agent_id = granted.for_agent;
  ASSIGN_OR_RETURN(std::optional<store::AgentRecord> agent,
                   store_.GetAgent(agent_id));
  if (!agent.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("bootstrap token ", granted.id, " re-enrolls agent ",
                     agent_id, ", which does not exist"));
  }
  if (agent->status == store::AgentStatus::kRemoved) return Removed(*agent);
  // The agent's labels now are the grant (an operator may have relabelled
  // it since the token was made).
  RETURN_IF_ERROR(CheckClaimedLabels(claimed_labels, agent->labels,
                                     absl::StrCat("agent ", agent_id)));
  RETURN_IF_ERROR(CheckHostname(hostname));
  ASSIGN_OR_RETURN(
      std::string cert_pem,
      ca_.SignAgentCsr(csr_der, agent_id, options_.identity_lifetime));
  ASSIGN_OR_RETURN(crypto::Certificate cert,
                   crypto::Certificate::FromPem(cert_pem));
  ASSIGN_OR_RETURN(store::TokenRecord used, tokens_.Redeem(token, agent_id));
  const absl::Time now = clock_.Now();
  const std::string serial = cert.SerialHex();
  std::string previous;
  absl::StatusOr<store::AgentRecord> stored =
      store_.UpdateAgent(agent_id, [&](store::AgentRecord& a) -> absl::Status {
        if (a.status == store::AgentStatus::kRemoved) return Removed(a);
        previous = a.identity_serial;
        a.identity_serial = serial;
        a.identity_not_after = cert.NotAfter();
        a.hostname = hostname;
        a.token_id = used.id;
        a.last_seen_at = now;
        return absl::OkStatus();
      });
  if (!stored.ok()) {
    return Annotate(
        stored.status(),
        absl::StrCat("re-enroll agent ", agent_id, " (bootstrap token ",
                     used.id, " is used up; create a new one)"));
  }
  CF_LOG_WARN(
      "agent %s re-enrolled from host %s with bootstrap token %s: identity "
      "serial %s replaces %s, which is refused from now on",
      agent_id, hostname, used.id, serial, previous);
  Audit(
      used.id, "agent.reenroll",
      absl::StrCat("agent ", agent_id, " re-enrolled from host ", hostname,
                   ": identity serial ", serial, " replaces ",
                   previous.empty() ? "(none)" : previous,
                   stored->status == store::AgentStatus::kActive
                       ? std::string()
                       : absl::StrCat("; the agent stays ",
                                      store::AgentStatusName(stored->status))));
  return EnrollResult{.agent_id = agent_id,
                      .certificate_pem = std::move(cert_pem),
                      .ca_pem = ca_.ca_pem(),
                      .labels = stored->labels,
                      .reenrolled = true,
                      .serial = serial};
}

}  // namespace certfleet::identity
