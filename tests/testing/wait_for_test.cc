// WaitFor and WaitForOk: they return as soon as the condition holds, and a
// timeout says what was awaited and why it did not come.
#include "tests/testing/wait_for.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(WaitForTest, ReturnsOnceAnotherThreadMakesTheConditionTrue) {
  std::atomic<bool> done{false};
  std::thread setter([&] {
    absl::SleepFor(absl::Milliseconds(20));
    done = true;
  });
  EXPECT_OK(WaitFor("the flag", [&] { return done.load(); }));
  setter.join();
}

TEST(WaitForTest, ATimeoutNamesWhatWasAwaited) {
  int calls = 0;
  const absl::Time start = absl::Now();
  EXPECT_THAT(WaitFor(
                  "the impossible", [&] { return ++calls < 0; },
                  absl::Milliseconds(30)),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("waiting for the impossible")));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  EXPECT_GT(calls, 1);  // polled, not just tried once
}

TEST(WaitForOkTest, ATimeoutQuotesTheLastError) {
  int calls = 0;
  const absl::Status status = WaitForOk(
      "a server",
      [&] { return absl::UnavailableError(absl::StrCat("attempt ", ++calls)); },
      absl::Milliseconds(30));
  EXPECT_THAT(
      status,
      StatusIs(absl::StatusCode::kDeadlineExceeded,
               AllOf(HasSubstr("waiting for a server"),
                     HasSubstr(absl::StrCat("UNAVAILABLE: attempt ", calls)))));
}

TEST(WaitForOkTest, AConditionThatHoldsAtOnceIsCalledOnce) {
  int calls = 0;
  EXPECT_OK(WaitForOk("now", [&] {
    ++calls;
    return absl::OkStatus();
  }));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace certfleet::testing
