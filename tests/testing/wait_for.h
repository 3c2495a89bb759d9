// Waiting in tests for something that happens on another thread or in
// another process: poll a condition until it holds, with a deadline, and say
// what was awaited when it never held. The one way tests wait; a test never
// sleeps for a fixed time hoping that something has happened meanwhile.
//
//   ASSERT_OK(WaitFor("the agent's first connection",
//                     [&] { return observer.connects() == 1; }));
//   ASSERT_OK(WaitForOk("etcd member 2 healthy", [&] { return Health(2); },
//                       absl::Seconds(30)));
//
// The condition is polled at once, then after 1 ms, with the pause doubling
// up to 50 ms, so a quick event is seen quickly and a slow one costs little
// CPU on a loaded machine. It is called on the waiting thread, never after
// WaitFor has returned.
#ifndef CERTFLEET_TESTS_TESTING_WAIT_FOR_H_
#define CERTFLEET_TESTS_TESTING_WAIT_FOR_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::testing {

// How long a wait lasts when the test names no timeout: generous, because
// an event that comes at all comes within milliseconds on an idle machine,
// and a loaded one (the suite beside a compile) can be a hundred times slower.
inline constexpr absl::Duration kDefaultWaitTimeout = absl::Seconds(30);

// OK once `condition` returns true; kDeadlineExceeded naming `what` when
// `timeout` (real time) passed first.
absl::Status WaitFor(absl::string_view what,
                     absl::FunctionRef<bool()> condition,
                     absl::Duration timeout = kDefaultWaitTimeout);

// OK once `condition` returns OK; kDeadlineExceeded naming `what` and
// quoting the condition's last error when `timeout` passed first.
absl::Status WaitForOk(absl::string_view what,
                       absl::FunctionRef<absl::Status()> condition,
                       absl::Duration timeout = kDefaultWaitTimeout);

}  // namespace certfleet::testing

#endif  // CERTFLEET_TESTS_TESTING_WAIT_FOR_H_
