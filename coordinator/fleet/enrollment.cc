#include "coordinator/fleet/enrollment.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/crypto/encoding.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/config/labels.h"

namespace certfleet::fleet {
namespace {

constexpr size_t kMaxHostname = 253;

std::string UtcTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
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

}  // namespace

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
  for (const auto& [key, value] : claimed_labels) {
    auto it = granted.labels.find(key);
    if (it == granted.labels.end() || it->second != value) {
      return absl::PermissionDeniedError(absl::StrCat(
          "label ", key, "=", value, " is not granted by bootstrap token ",
          granted.id, " (it grants: ",
          granted.labels.empty() ? "no labels"
                                 : config::FormatLabels(granted.labels),
          ")"));
    }
  }
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
              agent_id, hostname, config::FormatLabels(used.labels), used.id);
  return EnrollResult{.agent_id = agent_id,
                      .certificate_pem = std::move(cert_pem),
                      .ca_pem = ca_.ca_pem(),
                      .labels = used.labels};
}

absl::StatusOr<std::string> EnrollmentService::RenewIdentity(
    const std::string& agent_id, absl::string_view csr_der) {
  ASSIGN_OR_RETURN(std::optional<store::AgentRecord> agent,
                   store_.GetAgent(agent_id));
  if (!agent.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("agent ", agent_id, " is not enrolled"));
  }
  ASSIGN_OR_RETURN(
      std::string cert_pem,
      ca_.SignAgentCsr(csr_der, agent_id, options_.identity_lifetime));
  ASSIGN_OR_RETURN(crypto::Certificate cert,
                   crypto::Certificate::FromPem(cert_pem));
  agent->identity_serial = cert.SerialHex();
  agent->identity_not_after = cert.NotAfter();
  agent->last_seen_at = clock_.Now();
  RETURN_IF_ERROR(store_.PutAgent(*agent));
  CF_LOG_INFO("agent %s: identity renewed (serial %s, expires %s)", agent_id,
              agent->identity_serial, UtcTime(agent->identity_not_after));
  return cert_pem;
}

bool EnrollmentService::NeedsRenewal(absl::Time not_before,
                                     absl::Time not_after, absl::Time now) {
  const absl::Duration lifetime = not_after - not_before;
  return not_after - now < lifetime / 3;
}

}  // namespace certfleet::fleet
