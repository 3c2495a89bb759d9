// When to renew a certificate version.
//
// Both policies produce a window and a uniformly random time inside it, so a
// fleet's renewals spread out instead of stampeding:
// - ARI (RFC 9773 §4.2): the CA's suggested window. A window already in the
//   past means "now".
// - Lifetime: renew when less than `renew_before` remains (default: a third
//   of the lifetime, as certbot and lego do); the window reaches back by a
//   jitter of a tenth of renew_before (at most a day), so renewal is never
//   later than promised.
// A chosen time is kept until it falls outside a newer window (the CA moved
// it, e.g. earlier after a revocation incident, or renew_before changed).
//
// Randomness comes in as `u` ∈ [0, 1] so tests are exact.
//
//   Window w = LifetimeWindow(v.not_before, v.not_after, cert.renew_before);
//   if (OutsideWindow(state.renew_at, w)) state.renew_at = ChooseInWindow(w,
//   now, u);
#ifndef CERTFLEET_COORDINATOR_ISSUANCE_RENEWAL_POLICY_H_
#define CERTFLEET_COORDINATOR_ISSUANCE_RENEWAL_POLICY_H_

#include <optional>

#include "absl/time/time.h"

namespace certfleet::issuance {

struct RenewalWindow {
  absl::Time start;
  absl::Time end;
};

// A third of the lifetime.
absl::Duration DefaultRenewBefore(absl::Time not_before, absl::Time not_after);

RenewalWindow LifetimeWindow(absl::Time not_before, absl::Time not_after,
                             std::optional<absl::Duration> renew_before);

// start + (end − start)·u, but never before `now`.
absl::Time ChooseInWindow(const RenewalWindow& window, absl::Time now,
                          double u);

// True when `chosen` must be drawn again for `window` (never chosen yet:
// InfiniteFuture/InfinitePast count as outside).
bool OutsideWindow(absl::Time chosen, const RenewalWindow& window);

}  // namespace certfleet::issuance

#endif  // CERTFLEET_COORDINATOR_ISSUANCE_RENEWAL_POLICY_H_
