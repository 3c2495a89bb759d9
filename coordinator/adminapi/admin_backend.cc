#include "coordinator/adminapi/admin_backend.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "coordinator/adminapi/admin_views.h"

namespace certfleet::adminapi {

AdminBackend::AdminBackend(store::Store& store,
                           identity::BootstrapTokens& tokens, Clock& clock,
                           AdminBackendOptions options)
    : store_(store),
      tokens_(tokens),
      clock_(clock),
      options_(std::move(options)),
      assignments_(options_.certificates) {}

std::set<std::string> AdminBackend::PresentNow(
    const std::map<std::string, absl::Time>& connected) const {
  if (options_.present_agents) return options_.present_agents();
  std::set<std::string> out;
  for (const auto& [id, since] : connected) out.insert(id);
  return out;
}

void AdminBackend::SetConnection(
    const store::AgentRecord& agent,
    const std::map<std::string, absl::Time>& connected,
    const std::set<std::string>& present, v1::AgentInfo* info) const {
  auto it = connected.find(agent.id);
  info->set_connected(it != connected.end());
  if (it != connected.end()) {
    TimeToProto(it->second, info->mutable_connected_since());
  }
  const bool anywhere = it != connected.end() || present.count(agent.id) > 0;
  const bool stale = options_.staleness != nullptr &&
                     options_.staleness->IsStale(agent, anywhere, clock_.Now());
  info->set_state(AgentStateName(agent.status, anywhere, stale));
}

const config::CertificateConfig* AdminBackend::FindConfigured(
    const std::string& name) const {
  for (const config::CertificateConfig& c : options_.certificates) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

absl::StatusOr<v1::CertificateSummary> AdminBackend::Summarize(
    const std::string& name, const config::CertificateConfig* configured) {
  v1::CertificateSummary summary;
  summary.set_name(name);
  summary.set_configured(configured != nullptr);
  if (configured == nullptr) summary.set_not_configured_on(options_.replica);
  if (configured != nullptr) {
    summary.set_issuer(configured->issuer);
    for (const std::string& n : configured->names) summary.add_names(n);
  }
  ASSIGN_OR_RETURN(std::optional<store::VersionRecord> latest,
                   store_.LatestVersion(name));
  ASSIGN_OR_RETURN(std::optional<store::CertificateState> state,
                   store_.GetCertificateState(name));
  ASSIGN_OR_RETURN(std::optional<store::OrderRecord> order,
                   store_.GetOrder(name));
  FillSummary(latest, state, order.has_value(), &summary);
  return summary;
}

absl::StatusOr<v1::GetStatusResponse> AdminBackend::GetStatus(
    const std::string& caller) {
  ASSIGN_OR_RETURN(v1::ListCertificatesResponse certs, ListCertificates());
  ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, store_.ListAgents());
  const absl::Time now = clock_.Now();
  v1::GetStatusResponse out;
  out.set_version(options_.version);
  out.set_caller(caller);
  TimeToProto(now, out.mutable_now());
  for (const v1::CertificateSummary& c : certs.certificates()) {
    if (!c.configured()) continue;
    out.set_certificates(out.certificates() + 1);
    if (c.latest_version() > 0) {
      out.set_certificates_issued(out.certificates_issued() + 1);
      if (TimeFromProtoOrPast(c.not_after()) <= now) {
        out.set_certificates_expired(out.certificates_expired() + 1);
      }
    }
    if (c.consecutive_failures() > 0) {
      out.set_certificates_failing(out.certificates_failing() + 1);
    }
  }
  out.set_agents(static_cast<int32_t>(agents.size()));
  out.set_replica(options_.replica);
  if (options_.leader) out.set_leader(options_.leader());
  out.set_config_digest(options_.config_digest);
  if (options_.replicas) {
    for (const AdminBackendOptions::Replica& r : options_.replicas()) {
      v1::ReplicaStatus* status = out.add_replicas();
      status->set_name(r.name);
      status->set_version(r.version);
      status->set_config_digest(r.config_digest);
    }
  }
  if (options_.connected_agents) {
    out.set_agent_service(true);
    out.set_agents_connected(
        static_cast<int32_t>(options_.connected_agents().size()));
  }
  return out;
}

std::map<std::string, absl::Time> AdminBackend::ConnectedNow() const {
  if (options_.connected_agents) return options_.connected_agents();
  return std::map<std::string, absl::Time>();
}

absl::StatusOr<v1::ListCertificatesResponse> AdminBackend::ListCertificates() {
  std::map<std::string, const config::CertificateConfig*> names;
  for (const config::CertificateConfig& c : options_.certificates) {
    names[c.name] = &c;
  }
  // Certificates removed from the configuration keep their versions.
  ASSIGN_OR_RETURN(std::vector<store::CertificateState> states,
                   store_.ListCertificateStates());
  for (const store::CertificateState& s : states)
    names.emplace(s.name, nullptr);
  v1::ListCertificatesResponse out;
  for (const auto& [name, configured] : names) {
    ASSIGN_OR_RETURN(v1::CertificateSummary summary,
                     Summarize(name, configured));
    if (configured == nullptr && summary.latest_version() == 0) continue;
    *out.add_certificates() = std::move(summary);
  }
  return out;
}

absl::StatusOr<v1::GetCertificateResponse> AdminBackend::GetCertificate(
    const v1::GetCertificateRequest& request) {
  if (request.name().empty()) {
    return absl::InvalidArgumentError("GetCertificate: name is empty");
  }
  const config::CertificateConfig* configured = FindConfigured(request.name());
  ASSIGN_OR_RETURN(std::vector<store::VersionRecord> versions,
                   store_.ListVersions(request.name()));
  if (configured == nullptr && versions.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no certificate ", request.name(),
                     " (not in the configuration, and no versions stored)"));
  }
  v1::GetCertificateResponse out;
  ASSIGN_OR_RETURN(*out.mutable_certificate(),
                   Summarize(request.name(), configured));
  // The store lists them newest first already; do not depend on it.
  std::sort(versions.begin(), versions.end(),
            [](const store::VersionRecord& a, const store::VersionRecord& b) {
              return a.version > b.version;
            });
  for (const store::VersionRecord& v : versions) {
    *out.add_versions() = VersionToProto(v);
  }
  return out;
}

absl::StatusOr<v1::AgentInfo> AdminBackend::DescribeAgent(
    const store::AgentRecord& agent) {
  ASSIGN_OR_RETURN(std::vector<store::TargetStateRecord> targets,
                   store_.ListTargetStates(agent.id));
  return AgentToProto(agent, targets);
}

absl::StatusOr<v1::ListAgentsResponse> AdminBackend::ListAgents() {
  ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, store_.ListAgents());
  // One read of every target state rather than one per agent.
  ASSIGN_OR_RETURN(std::vector<store::TargetStateRecord> all,
                   store_.ListAllTargetStates());
  std::map<std::string, std::vector<store::TargetStateRecord>> by_agent;
  for (store::TargetStateRecord& t : all) {
    by_agent[t.agent_id].push_back(std::move(t));
  }
  const std::map<std::string, absl::Time> connected = ConnectedNow();
  const std::set<std::string> present = PresentNow(connected);
  if (options_.staleness != nullptr) {
    options_.staleness->Observe(present, clock_.Now());
  }
  v1::ListAgentsResponse out;
  for (const store::AgentRecord& agent : agents) {
    v1::AgentInfo* info = out.add_agents();
    *info = AgentToProto(agent, by_agent[agent.id]);
    SetConnection(agent, connected, present, info);
  }
  return out;
}

absl::StatusOr<v1::GetAgentResponse> AdminBackend::GetAgent(
    const v1::GetAgentRequest& request) {
  if (request.id().empty()) {
    return absl::InvalidArgumentError("GetAgent: id is empty");
  }
  ASSIGN_OR_RETURN(std::optional<store::AgentRecord> agent,
                   store_.GetAgent(request.id()));
  if (!agent.has_value()) {
    return absl::NotFoundError(absl::StrCat("no agent ", request.id()));
  }
  v1::GetAgentResponse out;
  ASSIGN_OR_RETURN(*out.mutable_agent(), DescribeAgent(*agent));
  const std::map<std::string, absl::Time> connected = ConnectedNow();
  SetConnection(*agent, connected, PresentNow(connected), out.mutable_agent());
  return out;
}

absl::StatusOr<v1::CreateTokenResponse> AdminBackend::CreateToken(
    const v1::CreateTokenRequest& request, const std::string& caller) {
  const bool reenroll = !request.for_agent().empty();
  if (reenroll && !request.labels().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CreateToken: labels cannot be given with for_agent (agent ",
        request.for_agent(), " keeps its own; relabel it with RelabelAgent)"));
  }
  // Required, as for `certfleet-coordinator token create`: a token granting
  // no labels is almost always a mistake.
  if (!reenroll && request.labels().empty()) {
    return absl::InvalidArgumentError(
        "CreateToken: labels are required (the labels the new agent will "
        "have)");
  }
  absl::Duration ttl = options_.default_token_ttl;
  if (request.has_ttl()) {
    ttl = DurationFromProto(request.ttl());
    if (ttl <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("CreateToken: ttl must be positive, got ",
                       absl::FormatDuration(ttl)));
    }
  }
  const std::map<std::string, std::string> labels(request.labels().begin(),
                                                  request.labels().end());
  ASSIGN_OR_RETURN(std::string token,
                   reenroll
                       ? tokens_.CreateForAgent(request.for_agent(), ttl,
                                                request.description())
                       : tokens_.Create(labels, ttl, request.description()));
  ASSIGN_OR_RETURN(identity::BootstrapTokens::Parsed parsed,
                   identity::BootstrapTokens::Parse(token));
  ASSIGN_OR_RETURN(std::optional<store::TokenRecord> record,
                   store_.GetToken(parsed.id));
  if (!record.has_value()) {
    return absl::InternalError(absl::StrCat(
        "bootstrap token ", parsed.id, " is missing right after it was made"));
  }
  if (reenroll) {
    CF_LOG_INFO(
        "admin %s created bootstrap token %s to re-enroll agent %s "
        "(expires %s)",
        caller, parsed.id, record->for_agent,
        absl::FormatTime(record->expires_at));
  } else {
    CF_LOG_INFO("admin %s created bootstrap token %s (labels %s, expires %s)",
                caller, parsed.id, labels::FormatLabels(labels),
                absl::FormatTime(record->expires_at));
  }
  v1::CreateTokenResponse out;
  out.set_token(token);
  out.set_id(parsed.id);
  TimeToProto(record->expires_at, out.mutable_expires_at());
  for (const auto& [key, value] : record->labels) {
    (*out.mutable_labels())[key] = value;
  }
  out.set_for_agent(record->for_agent);
  return out;
}

absl::StatusOr<v1::RenewCertificateResponse> AdminBackend::RenewCertificate(
    const v1::RenewCertificateRequest& request, const std::string& caller) {
  const std::string& name = request.name();
  if (name.empty()) {
    return absl::InvalidArgumentError("RenewCertificate: name is empty");
  }
  ASSIGN_OR_RETURN(std::optional<store::VersionRecord> latest,
                   store_.LatestVersion(name));
  if (FindConfigured(name) == nullptr) {
    if (!latest.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("no certificate ", name, " (not in the configuration)"));
    }
    // The scheduler only looks at configured certificates.
    return absl::FailedPreconditionError(
        absl::StrCat("certificate ", name,
                     " is no longer in the configuration; only configured "
                     "certificates are renewed"));
  }
  // A follower's write would be refused by the store's fence, with a
  // message about the store rather than about what to do.
  if (options_.leading && !options_.leading()) {
    return absl::FailedPreconditionError(
        "this coordinator does not lead: renewals are ordered by the leader; "
        "send the command to it (certfleetctl status names it)");
  }
  ASSIGN_OR_RETURN(std::optional<store::CertificateState> stored,
                   store_.GetCertificateState(name));
  ASSIGN_OR_RETURN(std::optional<store::OrderRecord> order,
                   store_.GetOrder(name));
  const absl::Time now = clock_.Now();
  store::CertificateState state =
      stored.value_or(store::CertificateState{.name = name});
  v1::RenewCertificateResponse out;
  out.set_certificate(name);
  out.set_current_version(latest.has_value() ? latest->version : 0);
  TimeToProto(now, out.mutable_requested_at());
  out.set_order_in_flight(order.has_value());
  TimeToProto(state.renew_at, out.mutable_previous_renew_at());
  // An operator's request overrides the failure backoff (a CA that still
  // rate-limits says so again, and the backoff resumes where it was:
  // consecutive_failures is kept).
  state.renew_at = absl::InfinitePast();
  state.next_attempt_at = absl::InfinitePast();
  state.updated_at = now;
  RETURN_IF_ERROR(store_.PutCertificateState(state));
  CF_LOG_INFO("admin %s requested renewal of certificate %s", caller, name);
  if (options_.wake_scheduler) options_.wake_scheduler();
  return out;
}

absl::StatusOr<v1::ListAuditResponse> AdminBackend::ListAudit(
    const v1::ListAuditRequest& request) {
  if (request.limit() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ListAudit: limit must not be negative, got ", request.limit()));
  }
  const int limit = request.limit() == 0 ? kDefaultAuditLimit : request.limit();
  store::AuditFilter filter{.certificate = request.certificate(),
                            // One more tells whether there are more.
                            .limit = limit + 1};
  if (request.has_since()) filter.since = TimeFromProtoOrPast(request.since());
  ASSIGN_OR_RETURN(std::vector<store::AuditRecord> records,
                   store_.ListAudit(filter));
  v1::ListAuditResponse out;
  out.set_truncated(records.size() > static_cast<size_t>(limit));
  if (out.truncated()) records.resize(limit);
  for (const store::AuditRecord& r : records) {
    v1::AuditEvent* e = out.add_events();
    e->set_id(r.id);
    TimeToProto(r.at, e->mutable_at());
    e->set_actor(r.actor);
    e->set_action(r.action);
    e->set_certificate(r.certificate);
    e->set_detail(r.detail);
    e->set_result(r.result);
  }
  return out;
}

absl::Status AdminBackend::RecordAudit(const std::string& caller,
                                       const AuditAction& action,
                                       const absl::Status& result) {
  store::AuditRecord record{.at = clock_.Now(),
                            .actor = AdminActor(caller),
                            .action = action.action,
                            .certificate = action.certificate,
                            .detail = action.detail,
                            .result = AuditResult(result)};
  absl::StatusOr<int64_t> id = store_.AppendAudit(record);
  if (!id.ok()) {
    CF_LOG_ERROR(
        "audit log: cannot record %s by %s (certificate \"%s\", %s, result "
        "%s): %s",
        record.action, record.actor, record.certificate, record.detail,
        record.result, id.status().ToString());
    return id.status();
  }
  return absl::OkStatus();
}

}  // namespace certfleet::adminapi
