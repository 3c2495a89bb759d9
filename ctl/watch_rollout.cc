#include "ctl/watch_rollout.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/rfc3339.h"
#include "ctl/ctl_format.h"
#include "ctl/format_util.h"

namespace certfleet::ctl {
namespace {

// What makes a rollout "changed" for the watch. updated_at stands in for
// the revision when a coordinator does not send one (revision 0).
struct SnapshotKey {
  std::string id;
  int64_t revision = 0;
  std::string phase;
  int64_t updated_seconds = 0;
  int32_t updated_nanos = 0;

  bool operator==(const SnapshotKey&) const = default;
};

SnapshotKey KeyOf(const v1::RolloutInfo& r) {
  return {.id = r.id(),
          .revision = r.revision(),
          .phase = r.phase(),
          .updated_seconds = r.updated_at().seconds(),
          .updated_nanos = r.updated_at().nanos()};
}

// The coordinator could not be reached, or did not answer in time: worth
// another poll. Every other error is its answer, and final.
bool IsUnreachable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

absl::Status Interrupted() {
  return absl::CancelledError("interrupted while watching the rollout");
}

}  // namespace

bool IsFinalPhase(absl::string_view phase) {
  return phase == "complete" || phase == "rolled_back" || phase == "aborted";
}

std::string FormatWatchSnapshot(const v1::GetRolloutResponse& rollout,
                                absl::Time observed_at, bool json) {
  const std::string when = FormatRfc3339(observed_at);
  if (json) {
    nlohmann::json line = internal::RolloutJson(rollout.rollout());
    line["observed_at"] = when;
    return line.dump() + "\n";
  }
  return absl::StrCat("--- ", when, " ---\n",
                      FormatRollout(rollout, /*json=*/false));
}

absl::Status WatchRollout(const RolloutFetch& fetch, Clock& clock,
                          const Context& ctx, const WatchOptions& options,
                          const WatchOutput& output) {
  std::optional<SnapshotKey> last;
  int unreachable = 0;
  while (true) {
    if (ctx.IsCancelled()) return Interrupted();
    const absl::Time poll_started = clock.Now();
    absl::StatusOr<v1::GetRolloutResponse> r = fetch();
    if (ctx.IsCancelled()) return Interrupted();
    if (!r.ok()) {
      if (!IsUnreachable(r.status())) return r.status();
      ++unreachable;
      if (unreachable >= options.max_unreachable_polls) {
        return absl::UnavailableError(absl::StrCat(
            "gave up watching: ", unreachable,
            " polls in a row could not reach the coordinator; last: ",
            r.status().message()));
      }
      output.note(
          absl::StrCat("certfleetctl: ", TerminalSafe(r.status().message()),
                       " (", unreachable, " of ", options.max_unreachable_polls,
                       " polls in a row; trying again in ",
                       absl::FormatDuration(options.interval), ")\n"));
    } else {
      unreachable = 0;
      const SnapshotKey key = KeyOf(r->rollout());
      if (!last.has_value() || !(key == *last)) {
        // A blank line between tables; JSON Lines have no separator.
        const std::string separator =
            last.has_value() && !options.json ? "\n" : "";
        output.snapshot(absl::StrCat(
            separator, FormatWatchSnapshot(*r, clock.Now(), options.json)));
        last = key;
      }
      if (IsFinalPhase(r->rollout().phase())) return absl::OkStatus();
    }
    absl::Status slept = clock.SleepUntil(poll_started + options.interval, ctx);
    if (slept.code() == absl::StatusCode::kCancelled) return Interrupted();
    if (!slept.ok()) return slept;
  }
}

}  // namespace certfleet::ctl
