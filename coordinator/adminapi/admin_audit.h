// Which admin calls are audited, and what their audit records say.
//
// Every request type of AdminService has an AuditOf overload: nullopt for a
// read-only call, the action otherwise. The server's dispatch
// (admin_server.cc) calls AuditOf for every request, so a new RPC does not
// compile until its author has decided whether it changes something; a
// mutating call is then audited whether it succeeds or fails (the record
// is written after the call, with its result). Details never carry secrets.
//
//   std::optional<AuditAction> audit = AuditOf(request);  // before the call
//   if (audit && result.ok()) AddOutcome(*result, *audit);
//   backend.RecordAudit(caller, *audit, result.status());
#ifndef CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_AUDIT_H_
#define CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_AUDIT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "certfleet/v1/admin.pb.h"

namespace certfleet::adminapi {

// What an audited call records besides who, when and the result.
struct AuditAction {
  std::string action;       // "token.create", "certificate.renew", ...
  std::string certificate;  // "" when the call concerns none
  std::string detail;       // the arguments in words
};

// The actor of a call by admin identity `name`: "admin:<name>".
std::string AdminActor(const std::string& name);
// "ok", or the status as text ("INVALID_ARGUMENT: ...").
std::string AuditResult(const absl::Status& status);

// Read-only calls: not audited.
std::optional<AuditAction> AuditOf(const v1::GetStatusRequest&);
std::optional<AuditAction> AuditOf(const v1::ListCertificatesRequest&);
std::optional<AuditAction> AuditOf(const v1::GetCertificateRequest&);
std::optional<AuditAction> AuditOf(const v1::ListAgentsRequest&);
std::optional<AuditAction> AuditOf(const v1::GetAgentRequest&);
std::optional<AuditAction> AuditOf(const v1::ListAuditRequest&);
std::optional<AuditAction> AuditOf(const v1::GetRolloutRequest&);

// "token.create": labels (or the agent it re-enrolls), ttl and description
// (the token itself is a secret and never appears).
std::optional<AuditAction> AuditOf(const v1::CreateTokenRequest& request);
// "certificate.renew" of the named certificate.
std::optional<AuditAction> AuditOf(const v1::RenewCertificateRequest& request);
// "rollout.pause", "rollout.resume", "rollout.abort" of the certificate's
// active rollout.
std::optional<AuditAction> AuditOf(const v1::PauseRolloutRequest& request);
std::optional<AuditAction> AuditOf(const v1::ResumeRolloutRequest& request);
std::optional<AuditAction> AuditOf(const v1::AbortRolloutRequest& request);
// "rollout.rollback": the target version (or "the previous version") and
// whether expedited.
std::optional<AuditAction> AuditOf(const v1::RollbackRequest& request);
// "rollout.skip": the agent the certificate's active rollout stops waiting
// for.
std::optional<AuditAction> AuditOf(const v1::SkipRolloutHostRequest& request);
// "agent.disable", "agent.enable", "agent.remove" (with the reason given),
// "agent.relabel" (with the new labels).
std::optional<AuditAction> AuditOf(const v1::DisableAgentRequest& request);
std::optional<AuditAction> AuditOf(const v1::EnableAgentRequest& request);
std::optional<AuditAction> AuditOf(const v1::RemoveAgentRequest& request);
std::optional<AuditAction> AuditOf(const v1::RelabelAgentRequest& request);

// Adds to `action` what only a successful answer knows: the token's id
// (safe to log), the version being replaced. Nothing for other answers.
void AddOutcome(const v1::CreateTokenResponse& response, AuditAction& action);
void AddOutcome(const v1::RenewCertificateResponse& response,
                AuditAction& action);
// The rollout acted on: its id, versions and phase after the action.
void AddOutcome(const v1::GetRolloutResponse& response, AuditAction& action);
// The agent's status (and labels, when they changed) before and after.
void AddOutcome(const v1::AgentActionResponse& response, AuditAction& action);
template <typename Response>
void AddOutcome(const Response&, AuditAction&) {}

}  // namespace certfleet::adminapi

#endif  // CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_AUDIT_H_
