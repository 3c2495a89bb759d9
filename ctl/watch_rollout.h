// `certfleetctl rollout status CERT --watch`: polls GetRollout every
// interval and prints the rollout again whenever it changed (another id,
// revision or phase), each time under a timestamp line — or, with -o json,
// as one JSON object per line (JSON Lines) — until it reaches a final phase.
// Time goes through the Clock seam and the coordinator through a fetch
// function, so a test drives the loop with a FakeClock and a scripted
// sequence of answers.
//
//   SystemClock clock;
//   absl::Status s = WatchRollout(
//       [&] { return client.GetRollout("web"); }, clock, ctx,
//       {.interval = absl::Seconds(2)},
//       {.snapshot = PrintToStdout, .note = PrintToStderr});
//   // OK: finished; kCancelled: interrupted; kUnavailable: unreachable.
#ifndef CERTFLEET_CTL_WATCH_ROLLOUT_H_
#define CERTFLEET_CTL_WATCH_ROLLOUT_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certfleet/v1/admin.pb.h"
#include "common/clock.h"
#include "common/context.h"

namespace certfleet::ctl {

// "complete", "rolled_back", "aborted": the coordinator does nothing more
// with the rollout (rollout::IsFinished). "halted" is not final: its moved
// hosts are being reverted, and it ends as rolled_back.
bool IsFinalPhase(absl::string_view phase);

struct WatchOptions {
  // Between the starts of two polls.
  absl::Duration interval = absl::Seconds(2);
  // One JSON object per line instead of tables.
  bool json = false;
  // Polls in a row that may find the coordinator unreachable
  // (kUnavailable, kDeadlineExceeded) before the watch gives up.
  int max_unreachable_polls = 3;
};

// Where the watch writes. Each call gets whole lines.
struct WatchOutput {
  // A snapshot of the rollout (stdout).
  std::function<void(const std::string&)> snapshot;
  // A poll that failed and will be retried (stderr).
  std::function<void(const std::string&)> note;
};

// One GetRollout call.
using RolloutFetch = std::function<absl::StatusOr<v1::GetRolloutResponse>()>;

// Polls `fetch` until the rollout is in a final phase, printing each change
// (the first answer always). Returns OK once a final phase was printed;
// kCancelled when `ctx` is cancelled (checked around every poll and during
// the waits); kUnavailable, with the last error, after
// `max_unreachable_polls` unreachable polls in a row; any other error of a
// poll at once (kNotFound when the certificate never had a rollout,
// kPermissionDenied for a refused identity, ...).
absl::Status WatchRollout(const RolloutFetch& fetch, Clock& clock,
                          const Context& ctx, const WatchOptions& options,
                          const WatchOutput& output);

// One snapshot as the watch prints it, observed at `observed_at`: the
// line "--- <RFC 3339 time> ---" then the `rollout status` table; or, for
// JSON, the `rollout status -o json` object with "observed_at" added, on
// one line.
std::string FormatWatchSnapshot(const v1::GetRolloutResponse& rollout,
                                absl::Time observed_at, bool json);

}  // namespace certfleet::ctl

#endif  // CERTFLEET_CTL_WATCH_ROLLOUT_H_
