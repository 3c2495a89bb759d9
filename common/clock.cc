#include "common/clock.h"

namespace certfleet {

absl::Status SystemClock::SleepUntil(absl::Time until, const Context& ctx) {
  const absl::Time end = std::min(until, ctx.deadline());
  if (const Cancellation* c = ctx.cancellation()) {
    if (c->WaitUntil(end)) return absl::CancelledError("cancelled");
  } else {
    absl::SleepFor(end - absl::Now());
  }
  if (until > ctx.deadline()) {
    return absl::DeadlineExceededError("deadline exceeded");
  }
  return absl::OkStatus();
}

}  // namespace certfleet
