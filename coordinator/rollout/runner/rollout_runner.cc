#include "coordinator/rollout/runner/rollout_runner.h"

#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/cas_retry.h"
#include "common/crypto/encoding.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/rollout/called_for.h"
#include "coordinator/store/version_id.h"

namespace certfleet::rollout {
namespace {

constexpr char kActor[] = "coordinator";

// After a save lost to another writer: `record` as that writer left it, to
// decide again on; kDone when the rollout is gone or finished meanwhile.
absl::StatusOr<CasAttempt> Reread(store::Store& store,
                                  store::RolloutRecord& record) {
  ASSIGN_OR_RETURN(std::optional<store::RolloutRecord> fresh,
                   store.GetRollout(record.id));
  if (!fresh.has_value() || fresh->finished) return CasAttempt::kDone;
  record = *std::move(fresh);
  return CasAttempt::kConflict;
}

}  // namespace

RolloutRunner::RolloutRunner(
    store::Store& store, delivery::AgentHub& hub,
    const std::vector<config::CertificateConfig>& certificates,
    const delivery::Assignments& assignments, Clock& clock,
    RolloutRunnerOptions options)
    : store_(store),
      hub_(hub),
      assignments_(assignments),
      clock_(clock),
      options_(options),
      own_staleness_(options.staleness != nullptr
                         ? nullptr
                         : std::make_unique<delivery::Staleness>(
                               options.stale_after, clock.Now())),
      staleness_(options.staleness != nullptr ? options.staleness
                                              : own_staleness_.get()) {
  for (const config::CertificateConfig& c : certificates) {
    policies_[c.name] = c.rollout;
  }
}

RolloutRunner::~RolloutRunner() { Stop(); }

const rollout::RolloutPolicy& RolloutRunner::PolicyFor(
    const std::string& certificate) {
  auto it = policies_.find(certificate);
  return it == policies_.end() ? default_policy_ : it->second;
}

void RolloutRunner::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void RolloutRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (wake_) wake_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

void RolloutRunner::Hold(const std::string& certificate,
                         const std::string& fallback) {
  {
    absl::MutexLock lock(&holds_mu_);
    holds_[certificate] = fallback;
  }
  hub_.HoldCertificate(certificate, fallback);
}

absl::Status RolloutRunner::AssignFallbacks() {
  std::map<std::string, std::string> holds;
  {
    absl::MutexLock lock(&holds_mu_);
    holds = holds_;
  }
  absl::Status first;
  for (const auto& [certificate, fallback] : holds) {
    if (fallback.empty()) continue;
    absl::StatusOr<std::optional<store::RolloutRecord>> active =
        store_.ActiveRollout(certificate);
    if (!active.ok() || active->has_value()) continue;  // the rollout decides
    absl::StatusOr<rollout::FleetSnapshot> fleet = BuildFleetSnapshot(
        store_, assignments_, certificate, PolicyFor(certificate), Presence());
    if (!fleet.ok()) {
      if (first.ok()) first = fleet.status();
      continue;
    }
    for (const rollout::HostSnapshot& h : fleet->hosts) {
      if (!h.desired_version_id.empty()) continue;
      // Stored, so the replica serving this agent sends it too.
      hub_.SetDesired(h.agent_id, h.target, fallback, /*resend=*/false);
    }
  }
  return first;
}

AgentPresence RolloutRunner::Presence() {
  AgentPresence presence{.connected = options_.connected_agents
                                          ? options_.connected_agents()
                                          : hub_.ConnectedAgents(),
                         .staleness = staleness_,
                         .now = clock_.Now()};
  staleness_->Observe(presence.connected, presence.now);
  return presence;
}

void RolloutRunner::Poke() {
  absl::MutexLock lock(&mu_);
  if (wake_) wake_->Cancel();
}

void RolloutRunner::Loop() {
  while (true) {
    std::shared_ptr<Cancellation> wake = std::make_shared<Cancellation>();
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      // A poke from now on (even during the step) ends the next sleep.
      wake_ = wake;
    }
    if (absl::Status s = StepAll(); !s.ok()) {
      CF_LOG_WARN("rollouts: step failed: %s", s.ToString());
    }
    (void)clock_.SleepFor(options_.interval,
                          Context::Background().WithCancellation(wake));
  }
}

absl::Status RolloutRunner::Resume() {
  for (const auto& [certificate, policy] : policies_) {
    ASSIGN_OR_RETURN(
        std::vector<store::RolloutRecord> latest,
        store_.ListRollouts({.certificate = certificate, .limit = 1}));
    if (!latest.empty()) {
      ASSIGN_OR_RETURN(rollout::RolloutState state,
                       rollout::RolloutStateFromJson(latest[0].state_json));
      RETURN_IF_ERROR(UpdateHold(state));
    }
    RETURN_IF_ERROR(
        CatchUp(certificate, latest.empty() ? nullptr : &latest.front()));
  }
  // A rollout that cannot step now is retried by the thread; it is no
  // reason to refuse to start.
  if (absl::Status s = StepAll(); !s.ok()) {
    CF_LOG_WARN("rollouts: first step after the start failed: %s",
                s.ToString());
  }
  return absl::OkStatus();
}

absl::Status RolloutRunner::CatchUp(const std::string& certificate,
                                    const store::RolloutRecord* latest) {
  ASSIGN_OR_RETURN(std::optional<store::VersionRecord> newest,
                   store_.LatestVersion(certificate));
  if (!newest.has_value()) return absl::OkStatus();
  const std::string newest_id = store::VersionId(certificate, newest->version);
  // The rollouts know of it (rolled out, rolled back or rolling).
  if (latest != nullptr &&
      (latest->to_version == newest_id || latest->from_version == newest_id)) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(rollout::FleetSnapshot fleet,
                   BuildFleetSnapshot(store_, assignments_, certificate,
                                      PolicyFor(certificate), Presence()));
  const std::string served = MostServedVersion(
      fleet, certificate, std::numeric_limits<int64_t>::max());
  if (served.empty()) return absl::OkStatus();  // a first version: direct
  if (served == newest_id) {
    Hold(certificate, served);
    return absl::OkStatus();
  }
  // Stored before the coordinator stopped, never handed to the runner: an
  // agent connecting now must not get it before its rollout says so.
  CF_LOG_INFO(
      "certificate %s: %s was stored but never rolled out: "
      "rolling it out now",
      certificate, newest_id);
  if (absl::Status s = OnVersionStored(certificate, newest->version);
      !s.ok() && !absl::IsFailedPrecondition(s)) {
    return s;
  }
  return absl::OkStatus();
}

absl::Status RolloutRunner::StepAll() {
  if (!Leading()) return absl::OkStatus();
  if (options_.assign_fallbacks) {
    if (absl::Status s = AssignFallbacks(); !s.ok()) {
      CF_LOG_WARN("rollouts: assigning versions to new targets: %s",
                  s.ToString());
    }
  }
  absl::MutexLock step(&step_mu_);
  ASSIGN_OR_RETURN(std::vector<store::RolloutRecord> active,
                   store_.ListRollouts({.unfinished_only = true}));
  absl::Status first;
  for (store::RolloutRecord& record : active) {
    const std::string id = record.id;
    if (absl::Status s = StepRollout(std::move(record)); !s.ok()) {
      CF_LOG_WARN("rollout %s: step failed: %s", id, s.ToString());
      if (first.ok()) first = Annotate(s, absl::StrCat("rollout ", id));
    }
  }
  return first;
}

absl::Status RolloutRunner::OnVersionStored(const std::string& certificate,
                                            int64_t version) {
  absl::MutexLock step(&step_mu_);
  const std::string to = store::VersionId(certificate, version);
  const absl::Time now = clock_.Now();
  // Nothing moves on its own while this is decided.
  Hold(certificate, "");

  const rollout::RolloutPolicy& policy = PolicyFor(certificate);
  ASSIGN_OR_RETURN(rollout::FleetSnapshot fleet,
                   BuildFleetSnapshot(store_, assignments_, certificate, policy,
                                      Presence()));
  ASSIGN_OR_RETURN(std::optional<store::RolloutRecord> active,
                   store_.ActiveRollout(certificate));
  if (active.has_value()) RETURN_IF_ERROR(Supersede(*active, to));

  const std::string from = MostServedVersion(fleet, certificate, version);
  if (from.empty()) {
    CF_LOG_INFO(
        "certificate %s: %s is its first version served: delivered "
        "to every target at once",
        certificate, to);
    // Held at it rather than released: the next version stored must not
    // reach an agent that connects before this runner hears of it.
    Hold(certificate, to);
    return absl::OkStatus();
  }

  ASSIGN_OR_RETURN(std::optional<store::VersionRecord> v,
                   store_.GetVersion(certificate, version));
  if (!v.has_value()) {
    Hold(certificate, from);
    return absl::NotFoundError(absl::StrCat(
        "certificate ", certificate, ": version ", to, " is not in the store"));
  }
  absl::StatusOr<rollout::RolloutController> controller =
      rollout::RolloutController::Start({.certificate = certificate,
                                         .kind = rollout::RolloutKind::kRollout,
                                         .from_version = from,
                                         .to = VersionInfoOf(*v),
                                         .requested_by = kActor},
                                        now);
  if (!controller.ok()) {
    // The fleet keeps serving `from`; hosts that never served anything
    // receive it too.
    Hold(certificate, from);
    Audit(certificate, "rollout.refused", absl::StrCat(from, " -> ", to),
          std::string(controller.status().message()), now);
    return controller.status();
  }
  return CreateAndStep(*controller, now).status();
}

absl::StatusOr<store::RolloutRecord> RolloutRunner::CreateAndStep(
    const rollout::RolloutController& controller, absl::Time now) {
  const rollout::RolloutState& state = controller.state();
  const std::string& certificate = state.certificate;
  const std::string& from = state.from_version;
  const std::string& to = state.to_version;
  store::RolloutRecord record{
      .id = absl::StrCat("ro-", crypto::HexEncode(crypto::RandomBytes(6))),
      .certificate = certificate,
      .kind = std::string(rollout::RolloutKindName(state.kind)),
      .from_version = from,
      .to_version = to,
      .phase = std::string(rollout::PhaseName(state.phase)),
      .created_at = now,
      .updated_at = now,
      .finished = false,
      .state_json = rollout::RolloutStateToJson(state)};
  ASSIGN_OR_RETURN(record, store_.CreateRollout(record));
  Audit(certificate, "rollout.created",
        absl::StrCat(record.id, ": ", from, " -> ", to), "ok", now,
        state.requested_by);
  CF_LOG_INFO("certificate %s: %s %s of %s (from %s) created", certificate,
              rollout::RolloutKindName(state.kind), record.id, to, from);
  const std::string id = record.id;
  RETURN_IF_ERROR(StepRollout(std::move(record)));
  ASSIGN_OR_RETURN(std::optional<store::RolloutRecord> stepped,
                   store_.GetRollout(id));
  if (!stepped.has_value()) {
    return absl::InternalError(absl::StrCat("rollout ", id, " vanished"));
  }
  return *std::move(stepped);
}

absl::Status RolloutRunner::Supersede(store::RolloutRecord active,
                                      const std::string& superseded_by) {
  return RetryCompareAndSet(
      kSaveAttempts,
      [&]() -> absl::StatusOr<CasAttempt> {
        ASSIGN_OR_RETURN(
            rollout::RolloutController c,
            rollout::RolloutController::Restore(active.state_json));
        ASSIGN_OR_RETURN(rollout::StepResult r, c.Abort(clock_.Now(), kActor));
        absl::Status saved = Save(active, c.state());
        if (saved.code() == absl::StatusCode::kAborted) {
          return Reread(store_, active);
        }
        RETURN_IF_ERROR(saved);
        AuditEvents(active.certificate, r.events,
                    absl::StrCat(" (rollout ", active.id, " superseded by ",
                                 superseded_by, ")"));
        return CasAttempt::kDone;
      },
      [&] {
        return absl::AbortedError(
            absl::StrCat("rollout ", active.id, ": saved by another writer ",
                         kSaveAttempts, " times in a row; not aborted"));
      });
}

absl::Status RolloutRunner::StepRollout(store::RolloutRecord record) {
  return RetryCompareAndSet(
      kSaveAttempts,
      [&]() -> absl::StatusOr<CasAttempt> {
        if (!Leading()) return CasAttempt::kDone;
        ASSIGN_OR_RETURN(
            rollout::RolloutController c,
            rollout::RolloutController::Restore(record.state_json));
        const rollout::RolloutPolicy& policy = PolicyFor(record.certificate);
        ASSIGN_OR_RETURN(
            rollout::FleetSnapshot fleet,
            BuildFleetSnapshot(store_, assignments_, record.certificate, policy,
                               Presence()));
        rollout::StepResult r = c.Step(policy, fleet, clock_.Now());
        if (r.state_changed) {
          // Decided, saved (fenced on leadership: a deposed leader's step
          // ends here), and only then delivered.
          absl::Status saved = Save(record, c.state());
          if (saved.code() == absl::StatusCode::kAborted) {
            // Another writer (an admin action) saved it since it was read:
            // redo the step on its state.
            return Reread(store_, record);
          }
          RETURN_IF_ERROR(saved);
        }
        Deliver(WithOutstanding(record.id, c.state(), fleet,
                                std::move(r.deliveries)));
        AuditEvents(record.certificate, r.events);
        if (r.state_changed && (rollout::IsFinished(c.state().phase) ||
                                c.state().phase == rollout::Phase::kHalted)) {
          RETURN_IF_ERROR(UpdateHold(c.state()));
        }
        return CasAttempt::kDone;
      },
      [&] {
        return absl::AbortedError(
            absl::StrCat("rollout ", record.id, ": saved by another writer ",
                         kSaveAttempts, " times in a row; step not saved"));
      });
}

std::vector<rollout::DeliverAction> RolloutRunner::WithOutstanding(
    const std::string& id, const rollout::RolloutState& saved,
    const rollout::FleetSnapshot& fleet,
    std::vector<rollout::DeliverAction> deliveries) {
  std::set<std::pair<std::string, std::string>> planned;
  for (const rollout::DeliverAction& d : deliveries) {
    planned.insert({d.agent_id, d.target});
  }
  std::map<std::pair<std::string, std::string>, std::string> stored;
  for (const rollout::HostSnapshot& h : fleet.hosts) {
    stored[{h.agent_id, h.target}] = h.desired_version_id;
  }
  size_t outstanding = 0;
  for (rollout::DeliverAction& d : rollout::CalledFor(saved)) {
    const std::pair<std::string, std::string> key{d.agent_id, d.target};
    if (planned.count(key) > 0) continue;
    auto it = stored.find(key);
    if (it != stored.end() && it->second == d.version_id) continue;
    d.revert = false;  // what the target serves is not in doubt
    deliveries.push_back(std::move(d));
    ++outstanding;
  }
  if (outstanding > 0) {
    CF_LOG_INFO(
        "rollout %s: %d target(s) are not yet told what its saved state "
        "calls for (a step saved without its deliveries: a crash or a "
        "deposition in between): sending them now",
        id, outstanding);
  }
  return deliveries;
}

bool RolloutRunner::Leading() const {
  return options_.term == nullptr || !options_.term->IsCancelled();
}

absl::StatusOr<store::RolloutRecord> RolloutRunner::Act(
    const std::string& certificate, OperatorAction action,
    const std::string& actor) {
  ASSIGN_OR_RETURN(
      store::RolloutRecord saved,
      ChangeActive(certificate, actor,
                   [&](rollout::RolloutController& c, absl::Time now) {
                     switch (action) {
                       case OperatorAction::kPause:
                         return c.Pause(now, actor);
                       case OperatorAction::kResume:
                         return c.Resume(now, actor);
                       case OperatorAction::kAbort:
                         break;
                     }
                     return c.Abort(now, actor);
                   }));
  Poke();
  return saved;
}

absl::StatusOr<store::RolloutRecord> RolloutRunner::ChangeActive(
    const std::string& certificate, const std::string& actor,
    const std::function<absl::StatusOr<rollout::StepResult>(
        rollout::RolloutController&, absl::Time)>& apply) {
  absl::MutexLock step(&step_mu_);
  std::optional<store::RolloutRecord> changed;
  RETURN_IF_ERROR(RetryCompareAndSet(
      kSaveAttempts,
      [&]() -> absl::StatusOr<CasAttempt> {
        ASSIGN_OR_RETURN(std::optional<store::RolloutRecord> active,
                         store_.ActiveRollout(certificate));
        if (!active.has_value()) {
          return absl::FailedPreconditionError(
              absl::StrCat("no rollout of ", certificate, " is in progress"));
        }
        ASSIGN_OR_RETURN(
            rollout::RolloutController c,
            rollout::RolloutController::Restore(active->state_json));
        absl::StatusOr<rollout::StepResult> r = apply(c, clock_.Now());
        if (!r.ok()) {
          return Annotate(r.status(), absl::StrCat("rollout ", active->id));
        }
        absl::Status saved = Save(*active, c.state());
        if (saved.code() == absl::StatusCode::kAborted) {
          return CasAttempt::kConflict;  // a step won: read it again
        }
        RETURN_IF_ERROR(saved);
        // The operator actions deliver nothing (controller.h); kept in case
        // that changes, after the state that calls for them.
        Deliver(r->deliveries);
        AuditEvents(certificate, r->events,
                    absl::StrCat(" (rollout ", active->id, ")"), actor);
        RETURN_IF_ERROR(UpdateHold(c.state()));
        changed = *std::move(active);
        return CasAttempt::kDone;
      },
      [&] {
        return absl::AbortedError(
            absl::StrCat("certificate ", certificate,
                         ": its rollout was saved by another writer ",
                         kSaveAttempts, " times in a row; try again"));
      }));
  return *std::move(changed);
}

absl::Status RolloutRunner::Save(store::RolloutRecord& record,
                                 const rollout::RolloutState& state) {
  record.phase = std::string(rollout::PhaseName(state.phase));
  record.updated_at = clock_.Now();
  record.finished = rollout::IsFinished(state.phase);
  record.state_json = rollout::RolloutStateToJson(state);
  ASSIGN_OR_RETURN(record.revision, store_.SaveRollout(record));
  return absl::OkStatus();
}

absl::Status RolloutRunner::UpdateHold(const rollout::RolloutState& state) {
  if (!rollout::IsFinished(state.phase)) {
    // The controller decides for every target; joiners wait for a wave
    // (and a halted rollout has sent its moved hosts back).
    Hold(state.certificate,
         state.phase == rollout::Phase::kHalted ? state.from_version : "");
    return absl::OkStatus();
  }
  // Finished: targets stay where the rollout left them; a target with no
  // version of its own gets what the fleet serves — the rollout's version
  // when it completed, else the one it left (never a refused version). The
  // hold stays: a version stored later moves only through OnVersionStored,
  // so an agent connecting before that is not sent it.
  Hold(state.certificate, state.phase == rollout::Phase::kComplete
                              ? state.to_version
                              : state.from_version);
  return absl::OkStatus();
}

void RolloutRunner::Deliver(
    const std::vector<rollout::DeliverAction>& deliveries) {
  if (deliveries.empty()) return;
  if (!Leading()) {
    CF_LOG_WARN(
        "rollouts: %d delivery(ies) not sent: this coordinator no longer "
        "leads (the next leader sends what the saved state calls for)",
        deliveries.size());
    return;
  }
  for (const rollout::DeliverAction& d : deliveries) {
    // Each is recorded as the target's desired version (fenced on
    // leadership with several coordinators) before it is sent.
    hub_.SetDesired(d.agent_id, d.target, d.version_id, /*resend=*/d.revert);
  }
  hub_.Flush();
}

void RolloutRunner::AuditEvents(
    const std::string& certificate,
    const std::vector<rollout::RolloutEvent>& events, const std::string& suffix,
    const std::string& actor) {
  for (const rollout::RolloutEvent& e : events) {
    Audit(certificate, absl::StrCat("rollout.", rollout::EventKindName(e.kind)),
          absl::StrCat(e.message, suffix), "ok", e.at, actor);
  }
}

void RolloutRunner::Audit(const std::string& certificate,
                          const std::string& action, const std::string& detail,
                          const std::string& result, absl::Time at,
                          const std::string& actor) {
  absl::StatusOr<int64_t> id = store_.AppendAudit({.at = at,
                                                   .actor = actor,
                                                   .action = action,
                                                   .certificate = certificate,
                                                   .detail = detail,
                                                   .result = result});
  if (!id.ok()) {
    CF_LOG_WARN("certificate %s: audit record %s not written: %s", certificate,
                action, id.status().ToString());
  }
}

}  // namespace certfleet::rollout
