#include "coordinator/issuance/renewal_policy.h"

#include <algorithm>

namespace certfleet::issuance {

absl::Duration DefaultRenewBefore(absl::Time not_before, absl::Time not_after) {
  return (not_after - not_before) / 3;
}

RenewalWindow LifetimeWindow(absl::Time not_before, absl::Time not_after,
                             std::optional<absl::Duration> renew_before) {
  const absl::Duration before =
      renew_before.value_or(DefaultRenewBefore(not_before, not_after));
  const absl::Duration jitter = std::min(before / 10, absl::Hours(24));
  // A renew_before longer than the lifetime means "as soon as issued".
  const absl::Time end = std::max(not_after - before, not_before);
  const absl::Time start = std::max(end - jitter, not_before);
  return {start, end};
}

absl::Time ChooseInWindow(const RenewalWindow& window, absl::Time now,
                          double u) {
  u = std::clamp(u, 0.0, 1.0);
  const absl::Time at = window.start + (window.end - window.start) * u;
  return std::max(at, now);
}

bool OutsideWindow(absl::Time chosen, const RenewalWindow& window) {
  // A time clamped to "now" after the window had passed also lands here;
  // drawing it again yields "now" again, which is what it meant.
  return chosen < window.start || chosen > window.end;
}

}  // namespace certfleet::issuance
