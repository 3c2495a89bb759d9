#include "common/context.h"

namespace certfleet {

void Cancellation::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
}

bool Cancellation::IsCancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool Cancellation::WaitUntil(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&cancelled_), deadline);
  return cancelled_;
}

Context Context::WithDeadline(absl::Time deadline) const {
  Context c = *this;
  if (deadline < c.deadline_) c.deadline_ = deadline;
  return c;
}

Context Context::WithCancellation(std::shared_ptr<const Cancellation> c) const {
  Context out = *this;
  out.cancel_ = std::move(c);
  return out;
}

absl::Status Context::Check(absl::Time now) const {
  if (IsCancelled()) return absl::CancelledError("cancelled");
  if (now >= deadline_) return absl::DeadlineExceededError("deadline exceeded");
  return absl::OkStatus();
}

}  // namespace certfleet
