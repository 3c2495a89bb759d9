// Compare-and-set retries: done at the first success, errors as they are,
// and a bounded number of conflicts.
#include "common/cas_retry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet {
namespace {

using ::certfleet::testing::StatusIs;

absl::Status Exhausted() { return absl::AbortedError("outrun"); }

TEST(CasRetryTest, StopsWhenDone) {
  int calls = 0;
  EXPECT_TRUE(RetryCompareAndSet(
                  3,
                  [&]() -> absl::StatusOr<CasAttempt> {
                    ++calls;
                    return calls < 2 ? CasAttempt::kConflict
                                     : CasAttempt::kDone;
                  },
                  Exhausted)
                  .ok());
  EXPECT_EQ(calls, 2);
}

TEST(CasRetryTest, ReturnsAnErrorAsItIs) {
  int calls = 0;
  EXPECT_THAT(RetryCompareAndSet(
                  3,
                  [&]() -> absl::StatusOr<CasAttempt> {
                    ++calls;
                    // Even kAborted: only kConflict means "try again".
                    return absl::AbortedError("not a conflict");
                  },
                  Exhausted),
              StatusIs(absl::StatusCode::kAborted, "not a conflict"));
  EXPECT_EQ(calls, 1);
}

TEST(CasRetryTest, GivesUpAfterMaxConflicts) {
  int calls = 0;
  EXPECT_THAT(RetryCompareAndSet(
                  3,
                  [&]() -> absl::StatusOr<CasAttempt> {
                    ++calls;
                    return CasAttempt::kConflict;
                  },
                  Exhausted),
              StatusIs(absl::StatusCode::kAborted, "outrun"));
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace certfleet
