#include "tests/testing/wait_for.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace certfleet::testing {

absl::Status WaitForOk(absl::string_view what,
                       absl::FunctionRef<absl::Status()> condition,
                       absl::Duration timeout) {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  for (;;) {
    const absl::Status last = condition();
    if (last.ok()) return absl::OkStatus();
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("gave up after ", absl::FormatDuration(now - start),
                       " waiting for ", what,
                       last.message().empty()
                           ? ""
                           : absl::StrCat(" (last: ", last.ToString(), ")")));
    }
    absl::SleepFor(std::min(pause, deadline - now));
    pause = std::min(pause * 2, absl::Milliseconds(50));
  }
}

absl::Status WaitFor(absl::string_view what,
                     absl::FunctionRef<bool()> condition,
                     absl::Duration timeout) {
  return WaitForOk(
      what,
      [&]() -> absl::Status {
        return condition() ? absl::OkStatus() : absl::UnknownError("");
      },
      timeout);
}

}  // namespace certfleet::testing
