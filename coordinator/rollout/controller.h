// The rollout controller: moves one certificate's targets from one version
// to another in health-gated waves, the way a careful operator deploys
// code. It is a pure, deterministic state machine: each Step takes the
// policy, a snapshot of the fleet and the time, updates the persisted
// RolloutState and returns what to deliver and what to tell people. No I/O,
// no clock: the coordinator calls Step periodically (and whenever agents
// report), carries out the deliveries, persists the state, records events.
//
// How a rollout runs:
// - Waves are cumulative shares of the hosts to move (ResolveQuantity
//   against every target, except those already serving the new version):
//   [1, 10%, 50%, 100%] means a canary, then 10% of them in all, and so on;
//   the last wave always covers everyone. Hosts for a wave are chosen when
//   it starts: online ones first, spread across pools, then by agent id.
// - Within a wave at most max_unavailable of a pool is "changing"
//   (delivered, not yet healthy on the new version); more are delivered as
//   others turn healthy. A wave is done when all its hosts are healthy (or
//   failed, below the threshold); then bake_time must pass with no new
//   failure (a failure restarts it) before the next wave. No bake after the
//   last wave: the rollout is complete.
// - A host fails when its delivery is rejected, when it is not healthy on
//   the new version within health_timeout, or when it turns unhealthy after
//   being healthy. A failed host is sent back to from_version at once.
//   failure_threshold failures (a percentage is of the hosts to move; at
//   least 1) halt the rollout: every host it moved is
//   reverted at once; when all report from_version again it is rolled_back.
// - Offline hosts are not delivered to (their health timeout would run
//   out): the wave waits for them, and an event names them — until they are
//   stale (not connected for agents.stale_after; FleetSnapshot says so).
//   Stale, disabled and removed hosts, and hosts an operator skips (Skip),
//   are not waited for and do not count as failed (skipped_hosts.h): a
//   host that is gone for good never keeps a rollout from completing. A
//   stale or disabled host that comes back is queued again; a completed
//   rollout sends its version to the skipped hosts, for when they return.
//   A removed agent leaves the rollout at once. Reverts go to offline hosts
//   too (applied on reconnect).
// - Outside the maintenance windows a routine rollout starts no wave and
//   delivers nothing (an event says until when); in-flight deliveries are
//   still watched. When the earliest served version expires within
//   urgent_within, windows are ignored.
// - Expedited rollouts (rollback --expedite): one wave of 100%, no bake, no
//   per-pool limit, no windows.
// - Pause stops new deliveries and wave changes; deliveries in flight are
//   still judged and the failure threshold still halts and reverts (a pause
//   must not keep a broken version in place). Abort stops for good and
//   reverts nothing (roll back explicitly).
// - A rollback is a rollout to an earlier version (RolloutKind::kRollback);
//   Start refuses a version that is expired, not yet valid or revoked.
//
// Crash and deposition safety: persist a step's state first (with several
// coordinators, fenced on leadership), and only then carry out its
// deliveries — a delivery never precedes the decision on record. A crash in
// between leaves a state whose deliveries did not go out: the next step
// sends what the saved state calls for (called_for.h) wherever the store
// does not say it yet. Deliveries are idempotent.
//
//   ASSIGN_OR_RETURN(RolloutController c,
//                    RolloutController::Start(request, clock.Now()));
//   StepResult r = c.Step(policy, snapshot, clock.Now());
//   if (r.state_changed) {
//     RETURN_IF_ERROR(Persist(RolloutStateToJson(c.state())));
//   }
//   for (const DeliverAction& d : r.deliveries) Deliver(d);
//   for (const DeliverAction& d : CalledFor(c.state()))
//     ... (not yet stored)
//   ... after a restart:
//   ASSIGN_OR_RETURN(RolloutController c, RolloutController::Restore(json));
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_CONTROLLER_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_CONTROLLER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "coordinator/rollout/fleet_snapshot.h"
#include "coordinator/rollout/policy.h"
#include "coordinator/rollout/rollout_events.h"
#include "coordinator/rollout/rollout_state.h"
#include "coordinator/rollout/wave_plan.h"

namespace certfleet::rollout {

// What the controller needs to know about the version it rolls out.
struct VersionInfo {
  std::string id;  // "<certificate>/<n>"
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfiniteFuture();
  absl::Time revoked_at = absl::InfinitePast();  // InfinitePast: not revoked
  std::string revocation_reason;
};

// OK when `version` may be served at `now`; kFailedPrecondition saying why
// not (expired at, not valid before, revoked at/why) and what to do.
// `certificate` and `kind` only word the message.
absl::Status CheckDeployable(const VersionInfo& version,
                             absl::string_view certificate, RolloutKind kind,
                             absl::Time now);

struct RolloutRequest {
  std::string certificate;
  RolloutKind kind = RolloutKind::kRollout;
  // The version the fleet serves now, which failed hosts go back to; ""
  // when nothing was served yet (then failures cannot be reverted).
  std::string from_version;
  VersionInfo to;
  bool expedite = false;
  std::string requested_by;  // "scheduler", an admin identity
};

class RolloutController {
 public:
  // A new rollout in phase pending. kInvalidArgument when the certificate
  // or the version id is empty; CheckDeployable's error for a version that
  // cannot be served.
  static absl::StatusOr<RolloutController> Start(const RolloutRequest& request,
                                                 absl::Time now);
  // The controller of a persisted state (RolloutStateFromJson's errors).
  static absl::StatusOr<RolloutController> Restore(absl::string_view json);

  explicit RolloutController(RolloutState state) : state_(std::move(state)) {}

  // Advances the rollout as far as `fleet` and `now` allow. Does nothing
  // once the rollout is complete, rolled back or aborted.
  StepResult Step(const RolloutPolicy& policy, const FleetSnapshot& fleet,
                  absl::Time now);

  // Operator actions. Each returns one event in StepResult::events,
  // state_changed = true and no deliveries; persist the state after it.
  // Pause: kFailedPrecondition when already paused, halted or finished.
  absl::StatusOr<StepResult> Pause(absl::Time now, absl::string_view by);
  // Resume: kFailedPrecondition unless paused.
  absl::StatusOr<StepResult> Resume(absl::Time now, absl::string_view by);
  // Abort: kFailedPrecondition once finished. Reverts nothing.
  absl::StatusOr<StepResult> Abort(absl::Time now, absl::string_view by);
  // Skip: stops waiting for every target of `agent_id` that the rollout
  // waits for (an offline host holding a wave): kSkipped, one event each
  // (SkipAgent's errors: kNotFound when the agent has no target in the
  // rollout, kFailedPrecondition when none is waited for);
  // kFailedPrecondition once finished. The next Step moves on without it.
  absl::StatusOr<StepResult> Skip(const std::string& agent_id, absl::Time now,
                                  absl::string_view by);

  const RolloutState& state() const { return state_; }

 private:
  // The phase machine after hosts were synced and outcomes judged.
  void Advance(const EffectivePolicy& policy, bool may_move, absl::Time now,
               StepResult& out);
  void StartWave(int wave, const EffectivePolicy& policy, absl::Time now,
                 StepResult& out);
  // Delivers to waiting hosts of the current wave, within pool limits.
  void DeliverWaiting(const EffectivePolicy& policy, absl::Time now,
                      StepResult& out);
  // Done with the current wave: bake, next wave or complete.
  void FinishWave(const EffectivePolicy& policy, absl::Time now,
                  StepResult& out);
  void Halt(int failures, int threshold, absl::Time now, StepResult& out);
  void UpdateWindow(const RolloutPolicy& policy, bool wants_to_move,
                    bool may_move, absl::Time now, StepResult& out);
  // Names the offline hosts the current wave waits for (once per change).
  void UpdateOfflineWaiting(const FleetSnapshot& fleet, absl::Time now,
                            StepResult& out);
  std::string WaveLabel(const EffectivePolicy& policy, int wave) const;

  RolloutState state_;
};

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_CONTROLLER_H_
