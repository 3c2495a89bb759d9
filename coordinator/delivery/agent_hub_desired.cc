// AgentHub: what each target should serve — the newest version, or under
// rollout control (HoldCertificate) what SetDesired chose —, how that
// decision is stored before its bundle goes (StoreDesired, DesiredStored),
// and the stored parts of the few versions in play (their keys still
// sealed). Split from agent_hub.cc.
#include "absl/strings/str_cat.h"
#include "common/backoff.h"
#include "common/log.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/issuance/issuer.h"
#include "coordinator/store/version_id.h"

namespace certfleet::delivery {

void AgentHub::HoldCertificate(const std::string& certificate,
                               const std::string& fallback_version_id) {
  Post([this, certificate, fallback_version_id] {
    held_[certificate] = fallback_version_id;
    // A fallback may now be due somewhere; nothing else changes.
    for (auto& [id, agent] : agents_) Reconcile(id, agent);
  });
}

void AgentHub::SetDesired(const std::string& agent_id,
                          const std::string& target,
                          const std::string& version_id, bool resend) {
  Post([this, agent_id, target, version_id, resend] {
    absl::StatusOr<std::pair<std::string, int64_t>> parsed =
        store::ParseVersionId(version_id);
    if (!parsed.ok()) {
      CF_LOG_ERROR("agent %s target %s: desired version not set: %s", agent_id,
                   target, parsed.status().ToString());
      return;
    }
    // Stored first: the decision is the leader's only while the store takes
    // it (fenced with several coordinators); refused, nothing is sent.
    // Offline, it is sent when the agent reconnects (Attach loads it).
    StoreDesired(agent_id, target, parsed->first, version_id, resend);
  });
}

void AgentHub::OnDesiredStored(const std::string& agent_id,
                               const std::string& target,
                               const std::string& certificate,
                               const std::string& desired_version_id) {
  Post([this, agent_id, target, certificate, desired_version_id] {
    auto it = agents_.find(agent_id);
    if (it == agents_.end() || desired_version_id.empty()) return;
    store::TargetStateRecord& s = it->second.states[target];
    if (s.desired_version_id == desired_version_id &&
        s.certificate == certificate) {
      return;
    }
    s.agent_id = agent_id;
    s.target = target;
    s.certificate = certificate;
    s.desired_version_id = desired_version_id;
    Reconcile(agent_id, it->second);
  });
}

void AgentHub::StoreDesired(const std::string& agent_id,
                            const std::string& target,
                            const std::string& certificate,
                            const std::string& version_id, bool resend) {
  const uint64_t ticket = ++next_ticket_;
  deciding_[{agent_id, target}] = {.ticket = ticket,
                                   .certificate = certificate,
                                   .version_id = version_id,
                                   .resend = resend};
  // Which certificate the target takes is known now: reports queued from
  // here on name it, so none written after this decision clears it.
  auto it = agents_.find(agent_id);
  if (it != agents_.end() && !certificate.empty()) {
    store::TargetStateRecord& s = it->second.states[target];
    s.agent_id = agent_id;
    s.target = target;
    s.certificate = certificate;
  }
  writer_->PutDesiredVersion({.agent_id = agent_id,
                              .target = target,
                              .certificate = certificate,
                              .desired_version_id = version_id},
                             [this, agent_id, target, certificate, version_id,
                              ticket](const absl::Status& stored) {
                               DesiredStored(agent_id, target, certificate,
                                             version_id, ticket, stored);
                             });
}

void AgentHub::DesiredStored(const std::string& agent_id,
                             const std::string& target,
                             const std::string& certificate,
                             const std::string& version_id, uint64_t ticket,
                             const absl::Status& stored) {
  auto deciding = deciding_.find({agent_id, target});
  // A later decision for the target replaced this one: its answer counts.
  if (deciding == deciding_.end() || deciding->second.ticket != ticket) return;
  const bool resend = deciding->second.resend;
  deciding_.erase(deciding);
  auto it = agents_.find(agent_id);
  if (!stored.ok()) {
    CF_LOG_WARN("agent %s target %s: %s not recorded as desired, not sent: %s",
                agent_id, target, version_id.empty() ? "nothing" : version_id,
                stored.ToString());
    // The store was away for a moment: decide again shortly (a rollout's
    // choice comes again with its next step).
    if (it != agents_.end() && IsRetryable(stored)) RetryLater(agent_id);
    return;
  }
  // Offline: sent when it reconnects (Attach reads it).
  if (it == agents_.end()) return;
  store::TargetStateRecord& s = it->second.states[target];
  s.agent_id = agent_id;
  s.target = target;
  if (!certificate.empty()) s.certificate = certificate;
  s.desired_version_id = version_id;
  if (resend) resend_.insert({agent_id, target});
  Reconcile(agent_id, it->second);
}

std::string AgentHub::Newest(const std::string& certificate) {
  auto it = newest_.find(certificate);
  if (it != newest_.end()) return it->second;
  absl::StatusOr<std::optional<store::VersionRecord>> v =
      store_.LatestVersion(certificate);
  if (!v.ok() || !v->has_value()) return "";
  return newest_[certificate] = store::VersionId(certificate, (*v)->version);
}

const AgentHub::BundleContent* AgentHub::Content(const std::string& version_id,
                                                 bool* transient) {
  *transient = false;
  auto it = content_.find(version_id);
  if (it != content_.end()) {
    it->second.last_used = ++content_clock_;
    return &it->second;
  }
  absl::StatusOr<std::pair<std::string, int64_t>> parsed =
      store::ParseVersionId(version_id);
  if (!parsed.ok()) return nullptr;
  const auto& [certificate, number] = *parsed;
  absl::StatusOr<std::optional<store::VersionRecord>> v =
      store_.GetVersion(certificate, number);
  if (!v.ok() || !v->has_value()) {
    *transient = !v.ok();
    CF_LOG_ERROR("version %s: cannot be read: %s%s", version_id,
                 v.ok() ? "no such version" : v.status().ToString(),
                 *transient ? " (tried again shortly)" : "");
    return nullptr;
  }
  // A fleet moves between a few versions at a time (the one served, the one
  // rolled out, perhaps one rolled back to): a small cache saves a store
  // read per bundle without keeping every version ever sent.
  if (content_.size() >= kCachedVersions) {
    auto oldest = content_.begin();
    for (auto c = content_.begin(); c != content_.end(); ++c) {
      if (c->second.last_used < oldest->second.last_used) oldest = c;
    }
    content_.erase(oldest);
  }
  BundleContent content{.version_id = version_id,
                        .certificate = certificate,
                        .leaf_pem = (*v)->leaf_pem,
                        .chain_pem = (*v)->chain_pem,
                        .key_sealed = (*v)->key_sealed,
                        .not_after = (*v)->not_after,
                        .last_used = ++content_clock_};
  const BundleContent* out =
      &content_.emplace(version_id, std::move(content)).first->second;
  absl::MutexLock lock(&mu_);
  cached_versions_ = content_.size();
  return out;
}

std::string AgentHub::DesiredVersion(const std::string& agent_id,
                                     const Agent& agent,
                                     const std::string& target,
                                     const std::string& certificate) {
  auto held = held_.find(certificate);
  if (held == held_.end()) return Newest(certificate);
  // A rollout's choice still being stored is what the target is to serve;
  // never what was stored before it.
  auto deciding = deciding_.find({agent_id, target});
  if (deciding != deciding_.end() &&
      deciding->second.certificate == certificate &&
      !deciding->second.version_id.empty()) {
    return deciding->second.version_id;
  }
  auto state = agent.states.find(target);
  if (state != agent.states.end() && state->second.certificate == certificate &&
      !state->second.desired_version_id.empty()) {
    return state->second.desired_version_id;
  }
  return held->second;
}

}  // namespace certfleet::delivery
