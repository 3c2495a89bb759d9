// The persisted state of one rollout: where the state machine is (phase,
// wave), and what happened to every target of the certificate (which wave
// took it, when it was delivered to, how that ended). Everything the
// controller needs to continue after a coordinator restart is in here, and
// it round-trips through JSON exactly (times at nanosecond precision).
//
//   std::string json = RolloutStateToJson(controller.state());
//   record.state_json = json;                  // after each step, with the
//   ASSIGN_OR_RETURN(record.revision, store.SaveRollout(record));  // last read
//   ...
//   ASSIGN_OR_RETURN(RolloutState state, RolloutStateFromJson(json));
//   RolloutController resumed(std::move(state));
#ifndef CERTFLEET_COORDINATOR_ROLLOUT_ROLLOUT_STATE_H_
#define CERTFLEET_COORDINATOR_ROLLOUT_ROLLOUT_STATE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::rollout {

// A rollout moves to a newer version; a rollback to an earlier one. They run
// through the same machine; the kind only changes what is said to people.
enum class RolloutKind { kRollout, kRollback };

// pending → delivering (wave k) → baking (wave k) → delivering (wave k+1) …
// → complete. Off that path: paused (operator; resumes where it was), halted
// (failure threshold reached; the moved hosts are being reverted) →
// rolled_back (every revert confirmed), aborted (operator; nothing reverted).
enum class Phase {
  kPending,
  kDelivering,
  kBaking,
  kPaused,
  kComplete,
  kHalted,
  kRolledBack,
  kAborted,
};

// What the rollout has done with one target.
enum class HostState {
  kQueued,     // not yet chosen for a wave
  kWaiting,    // chosen for the current wave, not delivered to yet
  kChanging,   // delivered to, not yet healthy on the new version
  kHealthy,    // healthy on the new version
  kFailed,     // failed, and there is no previous version to revert to
  kReverting,  // sent back to the previous version (failure or halt)
  kReverted,   // reports the previous version again
  kUnchanged,  // already served the new version when it joined the rollout
  // Not waited for (HostRecord::skip_reason): stale, disabled or removed, or
  // skipped by an operator. Not a failure. When the rollout completes it is
  // sent the new version (applied when it reconnects); a stale or disabled
  // host that comes back while the rollout runs is queued again.
  kSkipped,
};

// "rollout", "rollback".
absl::string_view RolloutKindName(RolloutKind kind);
// "pending", "delivering", "baking", "paused", "complete", "halted",
// "rolled_back", "aborted".
absl::string_view PhaseName(Phase phase);
// "queued", "waiting", "changing", "healthy", "failed", "reverting",
// "reverted", "unchanged", "skipped".
absl::string_view HostStateName(HostState state);

// Why a host is skipped (HostRecord::skip_reason).
inline constexpr char kSkipStale[] = "stale";
inline constexpr char kSkipDisabled[] = "disabled";
inline constexpr char kSkipRemoved[] = "removed";
inline constexpr char kSkipOperator[] = "operator";
// complete, rolled_back, aborted: the controller does nothing more.
bool IsFinished(Phase phase);
// pending, delivering, baking, paused: hosts still join, leave and move.
bool IsActive(Phase phase);

// One target (agent + target name) of the certificate.
struct HostRecord {
  std::string agent_id;
  std::string target;
  std::string pool;  // value of the policy's pool label ("" = unlabelled)
  HostState state = HostState::kQueued;
  int wave = -1;  // the wave that chose it; -1 while queued or unchanged
  // As last observed, so status shows offline and stale hosts without a
  // snapshot.
  bool online = false;
  bool stale = false;
  absl::Time delivered_at = absl::InfinitePast();  // the new version
  absl::Time healthy_at = absl::InfinitePast();
  absl::Time failed_at = absl::InfinitePast();
  std::string failure;  // why it counts as failed; "" = it does not
  absl::Time reverted_at = absl::InfinitePast();  // revert delivered
  std::string revert_error;  // the agent rejected the revert
  // kSkipped: kSkipStale, kSkipDisabled, kSkipRemoved or kSkipOperator; ""
  // otherwise. skipped_by names the operator ("admin:alice").
  std::string skip_reason;
  std::string skipped_by;
  absl::Time skipped_at = absl::InfinitePast();

  bool operator==(const HostRecord&) const = default;
};

struct RolloutState {
  std::string certificate;
  RolloutKind kind = RolloutKind::kRollout;
  std::string from_version;  // "" = nothing served before: no revert
  std::string to_version;
  // One wave of 100%, no bake, no max_unavailable, no windows.
  bool expedite = false;
  std::string requested_by;  // who started it, for events

  Phase phase = Phase::kPending;
  Phase paused_from = Phase::kPending;  // the phase Resume returns to
  int wave = -1;  // current wave, 0-based; -1 before the first starts
  absl::Time created_at = absl::InfinitePast();
  absl::Time wave_started_at = absl::InfinitePast();
  absl::Time bake_started_at = absl::InfinitePast();
  absl::Time paused_at = absl::InfinitePast();
  absl::Time finished_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();

  // The served version expires within the policy's urgent_within: windows
  // are ignored.
  bool urgent = false;
  // Outside every maintenance window; nothing moves until window_opens_at
  // (InfiniteFuture: no window ever opens).
  bool waiting_for_window = false;
  absl::Time window_opens_at = absl::InfinitePast();
  // "agent/target" of offline hosts the current wave is waiting for.
  std::vector<std::string> offline_waiting;
  std::string halt_reason;

  // Ordered by pool, agent id, target.
  std::vector<HostRecord> hosts;

  bool operator==(const RolloutState&) const = default;
};

// "agent/target", the way hosts are named in events and status.
std::string HostName(const HostRecord& host);

// One JSON object; enums as their names, times as RFC 3339 with nanoseconds
// ("infinite-past"/"infinite-future" for the unset ones). A state written
// before hosts could be skipped (no "stale", "skip_reason", "skipped_by",
// "skipped_at") reads with those unset.
std::string RolloutStateToJson(const RolloutState& state);
// kDataLoss naming the field when `json` is not a state this code wrote.
absl::StatusOr<RolloutState> RolloutStateFromJson(absl::string_view json);

}  // namespace certfleet::rollout

#endif  // CERTFLEET_COORDINATOR_ROLLOUT_ROLLOUT_STATE_H_
