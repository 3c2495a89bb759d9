// How the daemons stop: SIGINT or SIGTERM asks for a graceful stop (the
// Cancellation is cancelled; in-flight work finishes or cleans up, e.g. an
// order removes its DNS records); a second one, while that stop is still
// running, ends the process at once with status 128 + the signal, as an
// operator pressing Ctrl-C twice or repeating `kill` expects. systemd's
// SIGKILL after TimeoutStopSec remains the last resort.
//
//   auto cancel = std::make_shared<Cancellation>();
//   HandleStopSignals(cancel, "finishing in-flight work");  // before threads
//   ... run until cancel->IsCancelled() ...
#ifndef CERTFLEET_COMMON_STOP_SIGNALS_H_
#define CERTFLEET_COMMON_STOP_SIGNALS_H_

#include <memory>
#include <string>

#include "common/context.h"

namespace certfleet {

// Blocks SIGINT and SIGTERM in the calling thread — call it before any other
// thread starts, so that every thread inherits the mask and only the
// handling thread receives them — ignores SIGPIPE, and starts a detached
// thread that waits for the two signals. The first is logged ("received
// signal 15 (Terminated); <on_first>") and cancels `cancel`; the second is
// logged and calls _exit(128 + signal), running no destructor.
void HandleStopSignals(std::shared_ptr<Cancellation> cancel,
                       std::string on_first);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_STOP_SIGNALS_H_
