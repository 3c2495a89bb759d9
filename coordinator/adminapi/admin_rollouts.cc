// AdminBackend's rollout calls: the status of a certificate's rollout, read
// from the store, and the operator's pause / resume / abort, carried out by
// the rollout runner through options.rollout_command.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "coordinator/adminapi/admin_backend.h"
#include "coordinator/adminapi/admin_views.h"
#include "coordinator/rollout/rollout_state.h"
#include "coordinator/rollout/wave_plan.h"

namespace certfleet::adminapi {
namespace {

// Unset stays unset (`field` is only called, creating the field, for a
// finite time): an infinite time has no Timestamp.
template <typename Field>
void SetIfFinite(absl::Time t, Field field) {
  if (t != absl::InfinitePast() && t != absl::InfiniteFuture()) {
    TimeToProto(t, field());
  }
}

}  // namespace

absl::StatusOr<v1::GetRolloutResponse> AdminBackend::RolloutToProto(
    const store::RolloutRecord& record) {
  ASSIGN_OR_RETURN(rollout::RolloutState state,
                   rollout::RolloutStateFromJson(record.state_json));
  const config::CertificateConfig* configured =
      FindConfigured(record.certificate);
  const rollout::EffectivePolicy policy = rollout::EffectiveFor(
      configured != nullptr ? configured->rollout : rollout::RolloutPolicy{},
      state.expedite);

  v1::GetRolloutResponse out;
  v1::RolloutInfo& r = *out.mutable_rollout();
  r.set_id(record.id);
  r.set_revision(record.revision);
  r.set_certificate(record.certificate);
  r.set_kind(std::string(rollout::RolloutKindName(state.kind)));
  r.set_from_version(state.from_version);
  r.set_to_version(state.to_version);
  r.set_phase(std::string(rollout::PhaseName(state.phase)));
  if (state.phase == rollout::Phase::kPaused) {
    r.set_paused_from(std::string(rollout::PhaseName(state.paused_from)));
  }
  r.set_wave(state.wave + 1);
  // The policy may have shrunk since the rollout started.
  r.set_wave_count(
      std::max<int>(static_cast<int>(policy.waves.size()), state.wave + 1));
  r.set_expedite(state.expedite);
  r.set_urgent(state.urgent);
  r.set_requested_by(state.requested_by);
  SetIfFinite(record.created_at, [&r] { return r.mutable_created_at(); });
  SetIfFinite(record.updated_at, [&r] { return r.mutable_updated_at(); });
  SetIfFinite(state.finished_at, [&r] { return r.mutable_finished_at(); });
  r.set_halt_reason(state.halt_reason);
  r.set_waiting_for_window(state.waiting_for_window);
  if (state.waiting_for_window) {
    SetIfFinite(state.window_opens_at,
                [&r] { return r.mutable_window_opens_at(); });
  }
  for (const std::string& h : state.offline_waiting) r.add_offline_waiting(h);
  std::map<std::string, int> counts;
  for (const rollout::HostRecord& h : state.hosts) {
    const std::string name(rollout::HostStateName(h.state));
    ++counts[name];
    v1::RolloutHost& host = *r.add_hosts();
    host.set_agent_id(h.agent_id);
    host.set_target(h.target);
    host.set_pool(h.pool);
    host.set_state(name);
    host.set_wave(h.wave + 1);
    host.set_online(h.online);
    host.set_failure(h.failure);
    host.set_stale(h.stale);
    host.set_skip_reason(h.skip_reason);
    host.set_skipped_by(h.skipped_by);
  }
  for (const auto& [name, n] : counts) (*r.mutable_host_counts())[name] = n;
  return out;
}

absl::StatusOr<v1::GetRolloutResponse> AdminBackend::GetRollout(
    const v1::GetRolloutRequest& request) {
  if (request.certificate().empty()) {
    return absl::InvalidArgumentError("GetRollout: certificate is empty");
  }
  ASSIGN_OR_RETURN(std::optional<store::RolloutRecord> active,
                   store_.ActiveRollout(request.certificate()));
  if (active.has_value()) return RolloutToProto(*active);
  ASSIGN_OR_RETURN(
      std::vector<store::RolloutRecord> latest,
      store_.ListRollouts({.certificate = request.certificate(), .limit = 1}));
  if (latest.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no rollout of ", request.certificate()));
  }
  return RolloutToProto(latest[0]);
}

absl::StatusOr<v1::GetRolloutResponse> AdminBackend::CommandRollout(
    RolloutCommand command, const std::string& certificate,
    const std::string& caller) {
  if (certificate.empty()) {
    return absl::InvalidArgumentError("rollout action: certificate is empty");
  }
  if (!options_.rollout_command) {
    return absl::UnimplementedError(
        "this coordinator runs no rollouts (no agent service)");
  }
  ASSIGN_OR_RETURN(
      store::RolloutRecord saved,
      options_.rollout_command(command, certificate, AdminActor(caller)));
  return RolloutToProto(saved);
}

absl::StatusOr<v1::GetRolloutResponse> AdminBackend::Rollback(
    const v1::RollbackRequest& request, const std::string& caller) {
  if (request.certificate().empty()) {
    return absl::InvalidArgumentError("Rollback: certificate is empty");
  }
  if (request.to_version() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Rollback: to_version must be positive (or 0 for the "
                     "previous version), got ",
                     request.to_version()));
  }
  if (!options_.rollback) {
    return absl::UnimplementedError(
        "this coordinator runs no rollouts (no agent service)");
  }
  ASSIGN_OR_RETURN(
      store::RolloutRecord saved,
      options_.rollback(request.certificate(), request.to_version(),
                        request.expedite(), AdminActor(caller)));
  return RolloutToProto(saved);
}

absl::StatusOr<v1::GetRolloutResponse> AdminBackend::SkipRolloutHost(
    const v1::SkipRolloutHostRequest& request, const std::string& caller) {
  if (request.certificate().empty()) {
    return absl::InvalidArgumentError("SkipRolloutHost: certificate is empty");
  }
  if (request.agent_id().empty()) {
    return absl::InvalidArgumentError("SkipRolloutHost: agent_id is empty");
  }
  if (!options_.skip_host) {
    return absl::UnimplementedError(
        "this coordinator runs no rollouts (no agent service)");
  }
  ASSIGN_OR_RETURN(store::RolloutRecord saved,
                   options_.skip_host(request.certificate(), request.agent_id(),
                                      AdminActor(caller)));
  return RolloutToProto(saved);
}

}  // namespace certfleet::adminapi
