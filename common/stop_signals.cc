#include "common/stop_signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <thread>
#include <utility>

#include "common/log.h"

namespace certfleet {

void HandleStopSignals(std::shared_ptr<Cancellation> cancel,
                       std::string on_first) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::thread([cancel = std::move(cancel), on_first = std::move(on_first),
               set] {
    int sig = 0;
    sigwait(&set, &sig);
    CF_LOG_INFO("received signal %d (%s); %s", sig, strsignal(sig), on_first);
    cancel->Cancel();
    sigwait(&set, &sig);
    // The graceful stop is still running (it ends the process when done):
    // the operator wants out now.
    CF_LOG_WARN(
        "received signal %d (%s) again while stopping; exiting now, without "
        "waiting for in-flight work",
        sig, strsignal(sig));
    _exit(128 + sig);
  }).detach();
}

}  // namespace certfleet
