#include "common/stop_signals.h"

#include <signal.h>
#include <unistd.h>

#include <memory>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/context.h"
#include "gtest/gtest.h"

namespace certfleet {
namespace {

// Each case runs in a child process (a death test): the signals it sends
// reach that child only.
class StopSignalsTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// The child's first SIGTERM cancels; its graceful stop then never ends (a
// hung shutdown); the second SIGTERM ends it with 128 + 15.
TEST_F(StopSignalsTest, ASecondSignalWhileStoppingExitsAtOnce) {
  EXPECT_EXIT(
      {
        auto cancel = std::make_shared<Cancellation>();
        HandleStopSignals(cancel, "finishing in-flight work");
        kill(getpid(), SIGTERM);
        if (!cancel->WaitUntil(absl::Now() + absl::Seconds(30))) _exit(3);
        kill(getpid(), SIGTERM);
        absl::SleepFor(absl::Seconds(30));  // the hung stop
        _exit(4);
      },
      ::testing::ExitedWithCode(128 + SIGTERM),
      "received signal 15 \\(Terminated\\); finishing in-flight "
      "work(.|\n)*received signal 15 \\(Terminated\\) again while stopping; "
      "exiting now");
}

// One signal only cancels: the process ends the way its own code says.
TEST_F(StopSignalsTest, TheFirstSignalOnlyCancels) {
  EXPECT_EXIT(
      {
        auto cancel = std::make_shared<Cancellation>();
        HandleStopSignals(cancel, "stopping");
        kill(getpid(), SIGINT);
        if (!cancel->WaitUntil(absl::Now() + absl::Seconds(30))) _exit(3);
        _exit(0);
      },
      ::testing::ExitedWithCode(0),
      "received signal 2 \\(Interrupt\\); stopping");
}

// SIGPIPE is ignored: a write to a closed pipe fails instead of killing.
TEST_F(StopSignalsTest, SigpipeIsIgnored) {
  EXPECT_EXIT(
      {
        HandleStopSignals(std::make_shared<Cancellation>(), "stopping");
        int fds[2];
        if (pipe(fds) != 0) _exit(3);
        close(fds[0]);
        const ssize_t n = write(fds[1], "x", 1);
        _exit(n < 0 ? 0 : 5);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace certfleet
