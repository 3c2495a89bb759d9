// Wires rollouts into the coordinator: a new version of a certificate that
// some target already serves an earlier version of reaches the fleet
// through a RolloutController's waves instead of all at once (a first
// version, which nobody serves, is delivered to everyone directly: there is
// no one to protect). The runner creates the rollout in the store, puts the
// certificate under the hub's rollout control (HoldCertificate), and steps
// every unfinished rollout periodically and whenever agents report: it
// builds a FleetSnapshot, persists the state the controller decided
// (SaveRollout, compare-and-set on the revision; fenced on leadership with
// several coordinators), then carries out its deliveries through the hub
// (SetDesired) — with whatever an earlier saved state called for that never
// went out — and appends each event to the audit log ("rollout.<event>",
// actor "coordinator"). A newer version supersedes an active rollout: the
// old one is aborted (audited with the reason) and a new one starts.
// Operators pause, resume or abort the active rollout (Act) and start
// rollbacks (Rollback) through the admin API; those are audited as theirs.
//
//   RolloutRunner runner(store, hub, config.certificates, assignments, clock);
//   RETURN_IF_ERROR(runner.Resume());   // before agents connect
//   hub.SetReportListener([&] { runner.Poke(); });
//   runner.Start();                     // the periodic thread
//   ...
//   runner.OnVersionStored("web", 3);   // from the issuance observer
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_RUNNER_ROLLOUT_RUNNER_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_RUNNER_ROLLOUT_RUNNER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/context.h"
#include "coordinator/config/config.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/delivery/staleness.h"
#include "coordinator/rollout/controller.h"
#include "coordinator/rollout/runner/fleet_view.h"
#include "coordinator/store/store.h"

namespace certfleet::rollout {

// An operator's action on a certificate's active rollout.
enum class OperatorAction { kPause, kResume, kAbort };

struct RolloutRunnerOptions {
  // How often the thread steps the unfinished rollouts (on the Clock) when
  // no agent report pokes it sooner.
  absl::Duration interval = absl::Seconds(2);
  // The agents connected to any coordinator; empty: the hub's own (a single
  // coordinator). With several replicas, the leader adds the agents other
  // replicas serve, or its rollouts would wait for them as offline.
  std::function<std::set<std::string>()> connected_agents;
  // Record, at every step, the hold's version as the desired version of
  // each target that has none (a target seen for the first time), so that
  // another replica serving its agent sends it: several coordinators. A
  // single coordinator's hub does this itself, in memory.
  bool assign_fallbacks = false;
  // Who is stale (fleet/staleness.h), shared with the admin API; null: the
  // runner judges with its own, for `stale_after` (InfiniteDuration: never
  // stale), from its construction on.
  delivery::Staleness* staleness = nullptr;
  absl::Duration stale_after = absl::InfiniteDuration();
  // The leader's term (several coordinators): once it is cancelled the
  // runner takes no step and sends nothing, even before Stop returns. Null:
  // always leading (a single coordinator).
  std::shared_ptr<const Cancellation> term;
};

class RolloutRunner {
 public:
  // The certificates' rollout policies are copied; `assignments` must
  // outlive the runner.
  RolloutRunner(store::Store& store, delivery::AgentHub& hub,
                const std::vector<config::CertificateConfig>& certificates,
                const delivery::Assignments& assignments, Clock& clock,
                RolloutRunnerOptions options = {});
  // Stops the thread.
  ~RolloutRunner();

  // After a (re)start, before agents connect: puts every certificate that
  // is served under the hub's rollout control (held where its latest
  // rollout left it, or at the version it serves); a version stored but
  // never handed to the runner (the coordinator stopped in between) is
  // rolled out now; then steps the unfinished rollouts once (a failed step
  // is logged and retried by the thread). The store's errors; kDataLoss
  // for an unreadable rollout state.
  absl::Status Resume();
  // Starts the thread that calls StepAll every `interval` and when poked.
  void Start();
  // Stops that thread (idempotent).
  void Stop();
  // Wakes the thread for a step now (called on the hub thread: returns at
  // once).
  void Poke();

  // Version `version` of `certificate` was stored: delivered directly when
  // no target serves an earlier version, else rolled out (superseding an
  // active rollout). kFailedPrecondition when the version cannot be served
  // (expired, revoked; audited as "rollout.refused", and the fleet stays
  // where it is); the store's errors.
  absl::Status OnVersionStored(const std::string& certificate, int64_t version);
  // Steps every unfinished rollout once; the first error (every rollout is
  // still stepped).
  absl::Status StepAll();

  // Pauses, resumes or aborts the active rollout of `certificate` for
  // `actor` ("admin:alice"): the controller's action is saved (compare-and-
  // set, redone from a fresh read when a step saved first), audited as
  // "rollout.<event>" by `actor`, the hub's hold updated (an aborted rollout
  // keeps new targets on from_version) and the thread poked. Returns the
  // rollout as saved. kFailedPrecondition "no rollout of <cert> is in
  // progress" when none is active, or the controller's refusal (already
  // paused, not paused, ...); the store's errors.
  absl::StatusOr<store::RolloutRecord> Act(const std::string& certificate,
                                           OperatorAction action,
                                           const std::string& actor);

  // Stops the active rollout of `certificate` waiting for agent
  // `agent_id` (RolloutController::Skip) for `actor`: saved like Act,
  // audited as "rollout.host_skipped" by `actor`, then stepped at once so a
  // wave it held moves on. kFailedPrecondition when no rollout is active
  // or none of the agent's targets is waited for; kNotFound when the agent
  // has no target in it; the store's errors.
  absl::StatusOr<store::RolloutRecord> Skip(const std::string& certificate,
                                            const std::string& agent_id,
                                            const std::string& actor);

  // Starts a rollback of `certificate` for `actor`
  // (rollout_runner_rollback.cc): a rollout of kind rollback to version
  // `to_version` — 0: the previous one (the active rollout's from_version,
  // else the newest version before the one most served) — from the version
  // most served (the active rollout's to_version while one runs, which it then
  // supersedes). `expedite`: one wave of 100%, no bake, no windows. Returns the
  // rollout as saved after its first step. kFailedPrecondition when nothing is
  // served yet, there is no earlier version, the fleet already serves the
  // target, or the controller refuses it (expired, revoked, not yet valid:
  // audited as "rollout.refused"); kNotFound for an unknown version; the
  // store's errors.
  absl::StatusOr<store::RolloutRecord> Rollback(const std::string& certificate,
                                                int64_t to_version,
                                                bool expedite,
                                                const std::string& actor);

 private:
  // Saves lost to another writer are redone from a fresh read this often.
  static constexpr int kSaveAttempts = 3;

  // Resume's work for a certificate whose newest rollout is `latest` (null:
  // none): holds it at what it serves, or rolls out a newer stored version
  // nobody has heard of.
  absl::Status CatchUp(const std::string& certificate,
                       const store::RolloutRecord* latest);
  // Stores the rollout `controller` just started (audited as
  // "rollout.created" by its requester) and takes its first step.
  absl::StatusOr<store::RolloutRecord> CreateAndStep(
      const rollout::RolloutController& controller, absl::Time now);
  const rollout::RolloutPolicy& PolicyFor(const std::string& certificate);
  // One step of `record`, retried from a fresh read when another writer
  // saved it first (kAborted).
  absl::Status StepRollout(store::RolloutRecord record);
  // Aborts `active` because `superseded_by` arrived.
  absl::Status Supersede(store::RolloutRecord active,
                         const std::string& superseded_by);
  // An operator's change to the active rollout of `certificate`: `apply`
  // runs on a fresh read of its controller, the result is saved
  // (compare-and-set, redone from a fresh read when a step saved first),
  // its deliveries sent, its events audited by `actor` and the hub's hold
  // updated. Returns the rollout as saved. kFailedPrecondition when none is
  // active; `apply`'s refusal, annotated with the rollout.
  absl::StatusOr<store::RolloutRecord> ChangeActive(
      const std::string& certificate, const std::string& actor,
      const std::function<absl::StatusOr<rollout::StepResult>(
          rollout::RolloutController&, absl::Time)>& apply);
  // Writes `state` over `record` (compare-and-set on its revision).
  absl::Status Save(store::RolloutRecord& record,
                    const rollout::RolloutState& state);
  // Tells the hub who decides what the certificate's targets serve now.
  absl::Status UpdateHold(const rollout::RolloutState& state);
  // Sends `deliveries` through the hub, each recorded as desired first;
  // nothing once the term ended.
  void Deliver(const std::vector<rollout::DeliverAction>& deliveries);
  // A step's `deliveries` and, after them, what the `saved` state of
  // rollout `id` calls for (rollout/called_for.h) that the store does not
  // say yet (`fleet`'s desired versions): a step saved without its
  // deliveries is completed by the next one.
  std::vector<rollout::DeliverAction> WithOutstanding(
      const std::string& id, const rollout::RolloutState& saved,
      const rollout::FleetSnapshot& fleet,
      std::vector<rollout::DeliverAction> deliveries);
  // False once options_.term is cancelled.
  bool Leading() const;
  void AuditEvents(const std::string& certificate,
                   const std::vector<rollout::RolloutEvent>& events,
                   const std::string& suffix = "",
                   const std::string& actor = "coordinator");
  void Audit(const std::string& certificate, const std::string& action,
             const std::string& detail, const std::string& result,
             absl::Time at, const std::string& actor = "coordinator");
  void Loop();
  // hub_.HoldCertificate, remembered for AssignFallbacks.
  void Hold(const std::string& certificate, const std::string& fallback);
  // See RolloutRunnerOptions::assign_fallbacks.
  absl::Status AssignFallbacks();
  // Who is connected now (options.connected_agents, else the hub) and who
  // is stale; observed by the staleness judge.
  AgentPresence Presence();

  store::Store& store_;
  delivery::AgentHub& hub_;
  const delivery::Assignments& assignments_;
  Clock& clock_;
  const RolloutRunnerOptions options_;
  // options_.staleness, or own_staleness_.
  std::unique_ptr<delivery::Staleness> own_staleness_;
  delivery::Staleness* staleness_;
  std::map<std::string, rollout::RolloutPolicy> policies_;
  const rollout::RolloutPolicy default_policy_;

  // One step at a time: the thread, OnVersionStored and tests.
  absl::Mutex step_mu_;

  absl::Mutex holds_mu_;
  // Certificate → the version its hold sends to targets without their own.
  std::map<std::string, std::string> holds_ ABSL_GUARDED_BY(holds_mu_);

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Cancelled by Poke and Stop to end the thread's sleep early.
  std::shared_ptr<Cancellation> wake_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_RUNNER_ROLLOUT_RUNNER_H_
