// Deadlines and cancellation carried through every blocking call.
//
// A Context is a cheap value: copy it into each call. Work that must run even
// after the caller gave up (DNS clean-up) starts from Context::Background()
// with its own deadline instead of inheriting the cancelled one.
//
//   auto cancel = std::make_shared<Cancellation>();
//   Context ctx = Context::Background().WithCancellation(cancel)
//                     .WithDeadline(clock.Now() + absl::Minutes(10));
//   RETURN_IF_ERROR(ctx.Check(clock.Now()));
#ifndef CERTFLEET_COMMON_CONTEXT_H_
#define CERTFLEET_COMMON_CONTEXT_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace certfleet {

// A one-way flag that many threads can wait on. Thread-safe.
class Cancellation {
 public:
  void Cancel();
  bool IsCancelled() const;
  // Blocks until cancelled or until the real time `deadline`. Returns true
  // when cancelled.
  bool WaitUntil(absl::Time deadline) const;

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

class Context {
 public:
  // Never cancelled, no deadline.
  static Context Background() { return Context(); }

  // The earlier of the current deadline and `deadline`.
  Context WithDeadline(absl::Time deadline) const;
  Context WithCancellation(std::shared_ptr<const Cancellation> c) const;

  absl::Time deadline() const { return deadline_; }
  const Cancellation* cancellation() const { return cancel_.get(); }
  bool IsCancelled() const { return cancel_ && cancel_->IsCancelled(); }

  // kCancelled when cancelled, kDeadlineExceeded when `now` is past the
  // deadline, OK otherwise.
  absl::Status Check(absl::Time now) const;

 private:
  absl::Time deadline_ = absl::InfiniteFuture();
  std::shared_ptr<const Cancellation> cancel_;
};

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_CONTEXT_H_
