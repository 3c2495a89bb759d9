// IsOkAndHolds for absl::StatusOr, which tests/testing/status_matchers.h does
// not have yet (gmock's Optional() needs operator bool, which StatusOr lacks).
//
//   EXPECT_THAT(store->AddVersion(v), IsOkAndHolds(1));
//   EXPECT_THAT(store->GetOrder("web"), IsOkAndHolds(std::nullopt));
#ifndef CERTFLEET_TESTS_STORE_STATUS_OR_MATCHERS_H_
#define CERTFLEET_TESTS_STORE_STATUS_OR_MATCHERS_H_

#include "gmock/gmock.h"

namespace certfleet::store {

// Matches an OK StatusOr whose value matches `inner` (a matcher or a value).
MATCHER_P(IsOkAndHolds, inner, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "value is " << ::testing::PrintToString(*arg) << " ";
  return ::testing::ExplainMatchResult(inner, *arg, result_listener);
}

}  // namespace certfleet::store

#endif  // CERTFLEET_TESTS_STORE_STATUS_OR_MATCHERS_H_
