// Deadlines and cancellation carried through every blocking call.
//
// A Context is a cheap value: copy it into each call. Work that must run even
// after the caller gave up (DNS clean-up) starts from Context::Background()
// with its own deadline instead of inheriting the cancelled one.
//
// Cancellations chain: a Context given another cancellation
// (WithCancellation) is cancelled when either is, and a callback (OnCancel)
// runs when the Context is cancelled — both without a thread, from the
// thread that calls Cancel().
//
//   auto cancel = std::make_shared<Cancellation>();
//   Context ctx = Context::Background().WithCancellation(cancel)
//                     .WithDeadline(clock.Now() + absl::Minutes(10));
//   RETURN_IF_ERROR(ctx.Check(clock.Now()));
//   // Ends with `ctx` (stop) or sooner on its own (nap->Cancel()):
//   Context nap_ctx = ctx.WithCancellation(nap);
//   // Unblocks a gRPC call when `ctx` is cancelled, until `stop` goes:
//   Cancellation::Callback stop = ctx.OnCancel([&] { call.TryCancel(); });
#ifndef CERTFLEET_COMMON_CONTEXT_H_
#define CERTFLEET_COMMON_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace certfleet {

// A one-way flag that many threads can wait on, with callbacks that run
// when it is set. Thread-safe.
//
// Callbacks (OnCancel, and the links of ChildOf) run on the thread that
// calls Cancel(), one after the other, with no lock held, before Cancel()
// returns; one registered on a cancellation already cancelled runs at once
// on the registering thread. They must be quick and must not block on
// anything that may wait for the callback's own Callback to be destroyed.
// Cancellation::mu_ is a leaf lock: nothing is called while it is held.
class Cancellation {
 public:
  // A registered callback: while it lives, its function runs when the
  // cancellation is cancelled. Destroying (or moving over) it unregisters
  // the function; if the function is running on another thread just then,
  // the destructor waits until it returns (as std::stop_callback does), so
  // what the function refers to may be freed right after. Holds the
  // cancellation it is registered with alive.
  class Callback {
   public:
    Callback() = default;
    Callback(Callback&& other) noexcept;
    Callback& operator=(Callback&& other) noexcept;
    Callback(const Callback&) = delete;
    Callback& operator=(const Callback&) = delete;
    ~Callback();

   private:
    friend class Cancellation;
    Callback(std::shared_ptr<const Cancellation> source, uint64_t id)
        : source_(std::move(source)), id_(id) {}
    void Reset();

    std::shared_ptr<const Cancellation> source_;
    uint64_t id_ = 0;  // 0: nothing registered
  };

  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;
  // Unlinks it from its parents (ChildOf).
  ~Cancellation();

  // Sets the flag and runs the callbacks. When another thread is running
  // them (it cancelled first), waits until they ran: once Cancel() returns,
  // everything chained to this cancellation is cancelled too.
  void Cancel();
  bool IsCancelled() const;
  // Blocks until cancelled or until the real time `deadline`. Returns true
  // when cancelled.
  bool WaitUntil(absl::Time deadline) const;

  // A new cancellation that is cancelled when any of `parents` is (at once
  // when one already is), and by its own Cancel(). Null parents are
  // skipped. The child holds its parents alive (they are small); a parent
  // holds only a callback that the child's destructor removes, so a child
  // may outlive the scope that made its parents, and short-lived children
  // (one per sleep) do not pile up on a long-lived parent.
  static std::shared_ptr<Cancellation> ChildOf(
      const std::vector<std::shared_ptr<const Cancellation>>& parents);

  // Callbacks registered and not run yet, children's links included
  // (tests).
  size_t callback_count() const;

  // Registers `fn` on `source` (see Callback); runs it at once when
  // `source` is already cancelled. A null `source` never runs it.
  [[nodiscard]] static Callback OnCancel(
      std::shared_ptr<const Cancellation> source, std::function<void()> fn);

 private:
  // 0 (and `fn` run now, on this thread) when already cancelled.
  uint64_t AddCallback(std::function<void()> fn) const;
  void RemoveCallback(uint64_t id) const;

  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  mutable uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  mutable std::map<uint64_t, std::function<void()>> callbacks_
      ABSL_GUARDED_BY(mu_);
  // While Cancel() runs the callbacks: on which thread, and which one
  // (0: none at the moment); `callbacks_ran_` once they all did.
  std::thread::id running_thread_ ABSL_GUARDED_BY(mu_);
  uint64_t running_ ABSL_GUARDED_BY(mu_) = 0;
  bool callbacks_ran_ ABSL_GUARDED_BY(mu_) = false;
  // A child's links to its parents; set by ChildOf before the child is
  // shared, and only dropped by the destructor.
  std::vector<Callback> parents_;
};

class Context {
 public:
  // Never cancelled, no deadline.
  static Context Background() { return Context(); }

  // The earlier of the current deadline and `deadline`.
  Context WithDeadline(absl::Time deadline) const;
  // This Context, also cancelled when `c` is: its cancellation becomes a
  // child of both (Cancellation::ChildOf), so cancelling either cancels
  // the result — a nap that ends on its own or when the caller stops. A
  // Context without a cancellation takes `c` itself; a null `c` changes
  // nothing.
  Context WithCancellation(std::shared_ptr<const Cancellation> c) const;
  // A new cancellation cancelled with this Context (at once if it already
  // is), or sooner by its own Cancel(): a part of the work that must end
  // with the whole and may also end on its own (a leader's term).
  std::shared_ptr<Cancellation> NewCancellation() const;
  // Runs `fn` when this Context is cancelled, while the returned Callback
  // lives (Cancellation::Callback); never without a cancellation.
  [[nodiscard]] Cancellation::Callback OnCancel(std::function<void()> fn) const;

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
