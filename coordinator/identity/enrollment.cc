#include "coordinator/identity/enrollment.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/crypto/encoding.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/rfc3339.h"
#include "common/status_macros.h"

namespace certfleet::identity {
namespace {

constexpr size_t kMaxHostname = 253;

}  // namespace

absl::Status CheckClaimedLabels(
    const std::map<std::string, std::string>& claimed,
    const std::map<std::string, std::string>& granted, const std::string& by) {
  for (const auto& [key, value] : claimed) {
    auto it = granted.find(key);
    if (it == granted.end() || it->second != value) {
      return absl::PermissionDeniedError(absl::StrCat(
          "label ", key, "=", value, " is not granted by ", by, " (it grants: ",
          granted.empty() ? "no labels" : labels::FormatLabels(granted), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckHostname(const std::string& hostname) {
  if (hostname.empty() || hostname.size() > kMaxHostname) {
    return absl::InvalidArgumentError(
        absl::StrCat("hostname must be 1-", kMaxHostname, " characters"));
  }
  for (char c : hostname) {
    // Shown to operators in tables and logs: printable ASCII only.
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "hostname must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

EnrollmentService::EnrollmentService(store::Store& store, InternalCa& ca,
                                     BootstrapTokens& tokens, Clock& clock,
                                     EnrollmentOptions options)
    : store_(store),
      ca_(ca),
      tokens_(tokens),
      clock_(clock),
      options_(options) {}

absl::StatusOr<EnrollmentService::EnrollResult> EnrollmentService::Enroll(
    absl::string_view token, absl::string_view csr_der,
    const std::string& hostname,
    const std::map<std::string, std::string>& claimed_labels) {
  ASSIGN_OR_RETURN(store::TokenRecord granted, tokens_.Check(token));
  if (!granted.for_agent.empty()) {
    return Reenroll(token, granted, csr_der, hostname, claimed_labels);
  }
  RETURN_IF_ERROR(
      CheckClaimedLabels(claimed_labels, granted.labels,
                         absl::StrCat("bootstrap token ", granted.id)));
  RETURN_IF_ERROR(CheckHostname(hostname));
  const std::string agent_id =
      absl::StrCat("agt-", crypto::HexEncode(crypto::RandomBytes(6)));
  // Signing verifies the CSR; only then is the token used up.
  ASSIGN_OR_RETURN(
      std::string cert_pem,
      ca_.SignAgentCsr(csr_der, agent_id, options_.identity_lifetime));
  ASSIGN_OR_RETURN(crypto::Certificate cert,
                   crypto::Certificate::FromPem(cert_pem));
  ASSIGN_OR_RETURN(store::TokenRecord used, tokens_.Redeem(token, agent_id));
  const absl::Time now = clock_.Now();
  const store::AgentRecord agent{.id = agent_id,
                                 .hostname = hostname,
                                 .labels = used.labels,
                                 .enrolled_at = now,
                                 .last_seen_at = now,
                                 .identity_serial = cert.SerialHex(),
                                 .identity_not_after = cert.NotAfter(),
                                 .token_id = used.id};
  // A failure here leaves the token used without an agent: the operator
  // needs a new token (the error says so), never a second agent per token.
  absl::Status stored = store_.PutAgent(agent);
  if (!stored.ok()) {
    return Annotate(
        stored, absl::StrCat("enroll agent ", agent_id, " (bootstrap token ",
                             used.id, " is used up; create a new one)"));
  }
  CF_LOG_INFO("agent %s enrolled: host %s, labels %s, bootstrap token %s",
              agent_id, hostname, labels::FormatLabels(used.labels), used.id);
  Audit(used.id, "agent.enroll",
        absl::StrCat(
            "agent ", agent_id, " enrolled from host ", hostname, ", labels ",
            used.labels.empty() ? "(none)" : labels::FormatLabels(used.labels),
            ", identity serial ", agent.identity_serial));
  return EnrollResult{.agent_id = agent_id,
                      .certificate_pem = std::move(cert_pem),
                      .ca_pem = ca_.ca_pem(),
                      .labels = used.labels,
                      .serial = agent.identity_serial};
}

absl::StatusOr<EnrollmentService::Renewed> EnrollmentService::RenewIdentity(
    const std::string& agent_id, const std::string& presented_serial,
    absl::string_view csr_der) {
  ASSIGN_OR_RETURN(std::optional<store::AgentRecord> agent,
                   store_.GetAgent(agent_id));
  if (!agent.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("agent ", agent_id, " is not enrolled"));
  }
  // Checked before signing (nothing is signed for a refused caller), and
  // again in the compare-and-set below (the record may change meanwhile).
  auto allowed = [&](const store::AgentRecord& a) -> absl::Status {
    if (a.status != store::AgentStatus::kActive) {
      return absl::PermissionDeniedError(absl::StrCat(
          "agent ", agent_id, " is ", store::AgentStatusName(a.status),
          ": its identity is not renewed"));
    }
    if (a.identity_serial != presented_serial) {
      // The current serial is not said: the caller may be a thief.
      return absl::PermissionDeniedError(absl::StrCat(
          "agent ", agent_id, ": identity certificate serial ",
          presented_serial,
          " is not the agent's current one (it was renewed or re-enrolled "
          "since): renewal refused"));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(allowed(*agent));
  ASSIGN_OR_RETURN(
      std::string cert_pem,
      ca_.SignAgentCsr(csr_der, agent_id, options_.identity_lifetime));
  ASSIGN_OR_RETURN(crypto::Certificate cert,
                   crypto::Certificate::FromPem(cert_pem));
  const absl::Time now = clock_.Now();
  const std::string serial = cert.SerialHex();
  const absl::Time not_after = cert.NotAfter();
  absl::StatusOr<store::AgentRecord> stored =
      store_.UpdateAgent(agent_id, [&](store::AgentRecord& a) -> absl::Status {
        RETURN_IF_ERROR(allowed(a));
        a.identity_serial = serial;
        a.identity_not_after = not_after;
        a.last_seen_at = now;
        return absl::OkStatus();
      });
  if (!stored.ok()) return stored.status();
  CF_LOG_INFO("agent %s: identity renewed (serial %s replaces %s, expires %s)",
              agent_id, serial, presented_serial, FormatRfc3339(not_after));
  return Renewed{.certificate_pem = std::move(cert_pem),
                 .serial = serial,
                 .not_after = not_after};
}

void EnrollmentService::Audit(const std::string& token_id,
                              const std::string& action,
                              const std::string& detail) {
  const store::AuditRecord record{
      .at = clock_.Now(),
      .actor = absl::StrCat("bootstrap-token:", token_id),
      .action = action,
      .detail = detail,
      .result = "ok"};
  absl::StatusOr<int64_t> id = store_.AppendAudit(record);
  if (!id.ok()) {
    CF_LOG_ERROR("audit log: cannot record %s by %s (%s): %s", record.action,
                 record.actor, record.detail, id.status().ToString());
  }
}

bool EnrollmentService::NeedsRenewal(absl::Time not_before,
                                     absl::Time not_after, absl::Time now) {
  const absl::Duration lifetime = not_after - not_before;
  return not_after - now < lifetime / 3;
}

}  // namespace certfleet::identity
