#include "common/cas_retry.h"

namespace certfleet {

absl::Status RetryCompareAndSet(
    int max_attempts, absl::FunctionRef<absl::StatusOr<CasAttempt>()> attempt,
    absl::FunctionRef<absl::Status()> exhausted) {
  for (int i = 0; i < max_attempts; ++i) {
    absl::StatusOr<CasAttempt> result = attempt();
    if (!result.ok()) return result.status();
    if (*result == CasAttempt::kDone) return absl::OkStatus();
  }
  return exhausted();
}

}  // namespace certfleet
