// Ctrl-C for a long-running certfleetctl command (rollout status --watch):
// while an InterruptCancellation lives, SIGINT cancels its Cancellation
// instead of killing the process, so the command stops between two polls
// and exits 130 with its output whole. A second SIGINT exits 130 at once
// (a call in flight may take up to --timeout).
//
// Create it before any thread starts (before the gRPC channel): SIGINT is
// blocked in the creating thread, and threads started later inherit that,
// so only its own thread receives the signal (sigwait).
//
//   InterruptCancellation interrupt;
//   const Context ctx =
//       Context::Background().WithCancellation(interrupt.cancellation());
#ifndef CERTFLEET_CTL_INTERRUPT_H_
#define CERTFLEET_CTL_INTERRUPT_H_

#include <signal.h>

#include <atomic>
#include <memory>
#include <thread>

#include "common/context.h"

namespace certfleet::ctl {

// The exit status after an interrupt (128 + SIGINT, as shells report it).
inline constexpr int kExitInterrupted = 130;

class InterruptCancellation {
 public:
  InterruptCancellation();
  // Stops the signal thread and restores the signal mask.
  ~InterruptCancellation();
  InterruptCancellation(const InterruptCancellation&) = delete;
  InterruptCancellation& operator=(const InterruptCancellation&) = delete;

  // Cancelled at the first SIGINT.
  std::shared_ptr<const Cancellation> cancellation() const { return cancel_; }

 private:
  void WaitForSignals();

  const std::shared_ptr<Cancellation> cancel_ =
      std::make_shared<Cancellation>();
  sigset_t previous_mask_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace certfleet::ctl

#endif  // CERTFLEET_CTL_INTERRUPT_H_
