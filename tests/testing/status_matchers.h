// gMock matchers for absl::Status / StatusOr (abseil 20220623 has none).
//
//   EXPECT_THAT(DoIt(), IsOk());
//   EXPECT_THAT(Parse("x"), StatusIs(absl::StatusCode::kInvalidArgument,
//                                    HasSubstr("key_type")));
//   ASSERT_OK_AND_ASSIGN(auto value, Compute());
#ifndef CERTFLEET_TESTS_TESTING_STATUS_MATCHERS_H_
#define CERTFLEET_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certfleet::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return ::testing::Matches(code)(s.code());
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + ::testing::PrintToString(code) +
               " and a matching message") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return ::testing::Matches(code)(s.code()) &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

}  // namespace certfleet::testing

#define CF_TEST_CONCAT_INNER_(a, b) a##b
#define CF_TEST_CONCAT_(a, b) CF_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) ASSERT_THAT(expr, ::certfleet::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT(expr, ::certfleet::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                    \
  auto CF_TEST_CONCAT_(cf_statusor_, __LINE__) = (rexpr);   \
  ASSERT_TRUE(CF_TEST_CONCAT_(cf_statusor_, __LINE__).ok()) \
      << CF_TEST_CONCAT_(cf_statusor_, __LINE__).status();  \
  lhs = std::move(CF_TEST_CONCAT_(cf_statusor_, __LINE__)).value()

#endif  // CERTFLEET_TESTS_TESTING_STATUS_MATCHERS_H_
