#include "coordinator/adminapi/admin_audit.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/labels.h"

namespace certfleet::adminapi {

std::string AdminActor(const std::string& name) {
  return absl::StrCat("admin:", name);
}

std::string AuditResult(const absl::Status& status) {
  return status.ok() ? "ok" : status.ToString();
}

std::optional<AuditAction> AuditOf(const v1::GetStatusRequest&) {
  return std::nullopt;
}
std::optional<AuditAction> AuditOf(const v1::ListCertificatesRequest&) {
  return std::nullopt;
}
std::optional<AuditAction> AuditOf(const v1::GetCertificateRequest&) {
  return std::nullopt;
}
std::optional<AuditAction> AuditOf(const v1::ListAgentsRequest&) {
  return std::nullopt;
}
std::optional<AuditAction> AuditOf(const v1::GetAgentRequest&) {
  return std::nullopt;
}
std::optional<AuditAction> AuditOf(const v1::ListAuditRequest&) {
  return std::nullopt;
}

std::optional<AuditAction> AuditOf(const v1::CreateTokenRequest& request) {
  const std::map<std::string, std::string> labels(request.labels().begin(),
                                                  request.labels().end());
  std::string detail =
      request.for_agent().empty()
          ? absl::StrCat("labels ", labels.empty()
                                        ? "(none)"
                                        : labels::FormatLabels(labels))
          : absl::StrCat("re-enroll agent ", request.for_agent());
  if (request.has_ttl()) {
    absl::StrAppend(
        &detail, ", ttl ",
        absl::FormatDuration(absl::Seconds(request.ttl().seconds()) +
                             absl::Nanoseconds(request.ttl().nanos())));
  } else {
    absl::StrAppend(&detail, ", default ttl");
  }
  if (!request.description().empty()) {
    absl::StrAppend(&detail, ", description \"", request.description(), "\"");
  }
  return AuditAction{.action = "token.create", .detail = std::move(detail)};
}

std::optional<AuditAction> AuditOf(const v1::RenewCertificateRequest& request) {
  return AuditAction{.action = "certificate.renew",
                     .certificate = request.name(),
                     .detail = "renew now"};
}

std::optional<AuditAction> AuditOf(const v1::GetRolloutRequest&) {
  return std::nullopt;
}

std::optional<AuditAction> AuditOf(const v1::PauseRolloutRequest& request) {
  return AuditAction{.action = "rollout.pause",
                     .certificate = request.certificate(),
                     .detail = "pause the active rollout"};
}

std::optional<AuditAction> AuditOf(const v1::ResumeRolloutRequest& request) {
  return AuditAction{.action = "rollout.resume",
                     .certificate = request.certificate(),
                     .detail = "resume the active rollout"};
}

std::optional<AuditAction> AuditOf(const v1::AbortRolloutRequest& request) {
  return AuditAction{.action = "rollout.abort",
                     .certificate = request.certificate(),
                     .detail = "abort the active rollout"};
}

std::optional<AuditAction> AuditOf(const v1::RollbackRequest& request) {
  std::string detail =
      request.to_version() > 0
          ? absl::StrCat("roll back to ", request.certificate(), "/",
                         request.to_version())
          : std::string("roll back to the previous version");
  if (request.expedite()) absl::StrAppend(&detail, ", expedited");
  return AuditAction{.action = "rollout.rollback",
                     .certificate = request.certificate(),
                     .detail = std::move(detail)};
}

std::optional<AuditAction> AuditOf(const v1::SkipRolloutHostRequest& request) {
  return AuditAction{
      .action = "rollout.skip",
      .certificate = request.certificate(),
      .detail = absl::StrCat("stop waiting for agent ", request.agent_id())};
}

namespace {

std::string WithReason(std::string detail, const std::string& reason) {
  if (!reason.empty()) absl::StrAppend(&detail, " (reason: \"", reason, "\")");
  return detail;
}

}  // namespace

std::optional<AuditAction> AuditOf(const v1::DisableAgentRequest& request) {
  return AuditAction{
      .action = "agent.disable",
      .detail = WithReason(absl::StrCat("disable agent ", request.id()),
                           request.reason())};
}

std::optional<AuditAction> AuditOf(const v1::EnableAgentRequest& request) {
  return AuditAction{.action = "agent.enable",
                     .detail = absl::StrCat("enable agent ", request.id())};
}

std::optional<AuditAction> AuditOf(const v1::RemoveAgentRequest& request) {
  return AuditAction{
      .action = "agent.remove",
      .detail = WithReason(absl::StrCat("remove agent ", request.id()),
                           request.reason())};
}

std::optional<AuditAction> AuditOf(const v1::RelabelAgentRequest& request) {
  const std::map<std::string, std::string> labels(request.labels().begin(),
                                                  request.labels().end());
  return AuditAction{
      .action = "agent.relabel",
      .detail = absl::StrCat(
          "relabel agent ", request.id(), " to ",
          labels.empty() ? "(none)" : labels::FormatLabels(labels))};
}

void AddOutcome(const v1::AgentActionResponse& response, AuditAction& action) {
  const v1::AgentInfo& a = response.agent();
  absl::StrAppend(&action.detail, ": was ", response.previous_status(),
                  ", now ", a.status());
  const std::map<std::string, std::string> before(
      response.previous_labels().begin(), response.previous_labels().end());
  const std::map<std::string, std::string> after(a.labels().begin(),
                                                 a.labels().end());
  if (before != after) {
    absl::StrAppend(&action.detail, "; labels were ",
                    before.empty() ? "(none)" : labels::FormatLabels(before));
  }
}

void AddOutcome(const v1::GetRolloutResponse& response, AuditAction& action) {
  const v1::RolloutInfo& r = response.rollout();
  absl::StrAppend(&action.detail, ": rollout ", r.id(), " (", r.from_version(),
                  " -> ", r.to_version(), ") now ", r.phase());
}

void AddOutcome(const v1::CreateTokenResponse& response, AuditAction& action) {
  absl::StrAppend(&action.detail, ", token id ", response.id());
  if (!response.for_agent().empty()) {
    absl::StrAppend(&action.detail, ", labels ",
                    labels::FormatLabels(std::map<std::string, std::string>(
                        response.labels().begin(), response.labels().end())));
  }
}

void AddOutcome(const v1::RenewCertificateResponse& response,
                AuditAction& action) {
  if (response.order_in_flight()) {
    absl::StrAppend(&action.detail, ", an order was already in flight");
  } else if (response.current_version() > 0) {
    absl::StrAppend(&action.detail, ", replacing version ",
                    response.current_version());
  } else {
    absl::StrAppend(&action.detail, ", no version issued yet");
  }
}

}  // namespace certfleet::adminapi
