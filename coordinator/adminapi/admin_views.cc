#include "coordinator/adminapi/admin_views.h"

namespace certfleet::adminapi {

v1::CertificateVersion VersionToProto(const store::VersionRecord& v) {
  v1::CertificateVersion out;
  out.set_version(v.version);
  out.set_serial(v.serial_hex);
  TimeToProto(v.not_before, out.mutable_not_before());
  TimeToProto(v.not_after, out.mutable_not_after());
  const bool revoked = v.revoked_at != absl::InfinitePast();
  out.set_revoked(revoked);
  if (revoked) {
    TimeToProto(v.revoked_at, out.mutable_revoked_at());
    out.set_revocation_reason(v.revocation_reason);
  }
  out.set_key_type(v.key_type);
  for (const std::string& name : v.names) out.add_names(name);
  out.set_issuer(v.issuer);
  TimeToProto(v.created_at, out.mutable_created_at());
  return out;
}

void FillSummary(const std::optional<store::VersionRecord>& latest,
                 const std::optional<store::CertificateState>& state,
                 bool order_in_flight, v1::CertificateSummary* summary) {
  if (latest.has_value()) {
    summary->set_latest_version(latest->version);
    summary->set_serial(latest->serial_hex);
    summary->set_key_type(latest->key_type);
    TimeToProto(latest->not_after, summary->mutable_not_after());
    summary->clear_names();
    for (const std::string& name : latest->names) summary->add_names(name);
    if (summary->issuer().empty()) summary->set_issuer(latest->issuer);
  }
  if (state.has_value()) {
    TimeToProto(state->renew_at, summary->mutable_renew_at());
    // AdminBackend::RenewCertificate's mark, kept until a new version.
    summary->set_renewal_requested(state->renew_at == absl::InfinitePast());
    TimeToProto(state->next_attempt_at, summary->mutable_next_attempt_at());
    summary->set_consecutive_failures(state->consecutive_failures);
    summary->set_last_error(state->last_error);
  }
  summary->set_order_in_flight(order_in_flight);
}

v1::AgentInfo AgentToProto(
    const store::AgentRecord& agent,
    const std::vector<store::TargetStateRecord>& targets) {
  v1::AgentInfo out;
  out.set_id(agent.id);
  out.set_hostname(agent.hostname);
  for (const auto& [key, value] : agent.labels) {
    (*out.mutable_labels())[key] = value;
  }
  TimeToProto(agent.enrolled_at, out.mutable_enrolled_at());
  TimeToProto(agent.last_seen_at, out.mutable_last_seen());
  out.set_identity_serial(agent.identity_serial);
  TimeToProto(agent.identity_not_after, out.mutable_identity_not_after());
  out.set_status(std::string(store::AgentStatusName(agent.status)));
  TimeToProto(agent.status_changed_at, out.mutable_status_changed_at());
  out.set_status_changed_by(agent.status_changed_by);
  for (const store::TargetStateRecord& t : targets) {
    v1::AgentTarget* target = out.add_targets();
    target->set_target(t.target);
    target->set_certificate(t.certificate);
    target->set_desired_version(t.desired_version_id);
    target->set_installed_version(t.installed_version_id);
    target->set_serial(t.serial);
    TimeToProto(t.not_after, target->mutable_not_after());
    target->set_healthy(t.healthy);
    target->set_health_detail(t.detail);
    target->set_last_error(t.last_error);
    TimeToProto(t.updated_at, target->mutable_updated_at());
  }
  return out;
}

std::string AgentStateName(store::AgentStatus status, bool connected,
                           bool stale) {
  if (status == store::AgentStatus::kRemoved) return "removed";
  if (status == store::AgentStatus::kDisabled) return "disabled";
  if (connected) return "connected";
  return stale ? "stale" : "disconnected";
}

}  // namespace certfleet::adminapi
