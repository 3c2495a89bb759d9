#include "ctl/interrupt.h"

#include <pthread.h>
#include <unistd.h>

namespace certfleet::ctl {
namespace {

sigset_t SigintOnly() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

InterruptCancellation::InterruptCancellation() {
  const sigset_t set = SigintOnly();
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
  thread_ = std::thread([this] { WaitForSignals(); });
}

InterruptCancellation::~InterruptCancellation() {
  stopping_ = true;
  // Wakes the sigwait below; it sees stopping_ and returns.
  pthread_kill(thread_.native_handle(), SIGINT);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void InterruptCancellation::WaitForSignals() {
  const sigset_t set = SigintOnly();
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (stopping_) return;
    // The operator asked twice: do not wait for a call in flight.
    if (cancel_->IsCancelled()) _exit(kExitInterrupted);
    cancel_->Cancel();
  }
}

}  // namespace certfleet::ctl
