// What a failed attempt does to the next one: exponential backoff with
// jitter and a cap, the CA's Retry-After when later, persistence across a
// restart, and shutdown (cancellation) not counting as a failure.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "coordinator/acme/problem.h"
#include "coordinator/acme/rate_limiter.h"
#include "tests/scheduler/scheduler_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::scheduler::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Ge;
using ::testing::IsEmpty;
using ::testing::Le;
using ::testing::SizeIs;

class SchedulerBackoffTest : public SchedulerTest {
 protected:
  void SetUp() override { AddIssuer("ca"); }

  static SchedulerOptions BackoffOptions() {
    SchedulerOptions o = Options();
    o.retry_initial = absl::Minutes(1);
    o.retry_max = absl::Minutes(5);
    return o;
  }
};

TEST_F(SchedulerBackoffTest,
       FailuresBackOffExponentiallyUpToMaxThenSuccessResets) {
  const absl::Status unavailable = absl::UnavailableError(
      "certificate web: ACME new-order: HTTP 503: serverInternal: try later");
  orders_.Script("web", std::vector<absl::Status>(5, unavailable));
  auto scheduler = MakeScheduler({Cert("web")}, BackoffOptions());

  // Base delays 1, 2, 4, then capped at 5 minutes; each × [0.75, 1].
  const std::vector<absl::Duration> bases = {absl::Minutes(1), absl::Minutes(2),
                                             absl::Minutes(4), absl::Minutes(5),
                                             absl::Minutes(5)};
  for (size_t i = 0; i < bases.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("failure ", i + 1));
    const absl::Time now = clock_.Now();
    ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
    ASSERT_THAT(report.attempted, SizeIs(1));
    EXPECT_THAT(report.attempted[0].result,
                StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(report.failed(), 1);
    ASSERT_THAT(orders_.runs(), SizeIs(i + 1));

    std::optional<store::CertificateState> state = StateOf("web");
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->consecutive_failures, static_cast<int>(i + 1));
    EXPECT_EQ(state->last_error, unavailable.message());
    EXPECT_EQ(state->last_attempt_at, now);
    EXPECT_THAT(state->next_attempt_at,
                AllOf(Ge(now + bases[i] * 0.75), Le(now + bases[i])));

    // Until then, passes skip it.
    clock_.SetTime(state->next_attempt_at - absl::Seconds(1));
    ASSERT_OK_AND_ASSIGN(PassReport waiting, scheduler->RunPass(ctx_));
    EXPECT_THAT(waiting.attempted, IsEmpty());
    EXPECT_EQ(waiting.backing_off, 1);
    EXPECT_EQ(waiting.not_due, 0);
    EXPECT_EQ(waiting.next_due, state->next_attempt_at);
    EXPECT_THAT(orders_.runs(), SizeIs(i + 1));
    clock_.SetTime(state->next_attempt_at);
  }

  // The script is used up: the next attempt succeeds and clears the record.
  const absl::Time now = clock_.Now();
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  ASSERT_THAT(report.attempted, SizeIs(1));
  EXPECT_OK(report.attempted[0].result);
  std::optional<store::CertificateState> state = StateOf("web");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->consecutive_failures, 0);
  EXPECT_EQ(state->last_error, "");
  EXPECT_EQ(state->next_attempt_at, absl::InfinitePast());
  EXPECT_EQ(state->last_attempt_at, now);
}

TEST_F(SchedulerBackoffTest, ManyFailuresStayCappedAtRetryMax) {
  SchedulerOptions options = Options();
  options.retry_initial = absl::Minutes(1);
  options.retry_max = absl::Hours(6);
  // A certificate that has failed for a long time: doubling 1 min 60 times
  // must not overflow past the cap.
  store::CertificateState old{
      .name = "web", .consecutive_failures = 60, .last_error = "earlier"};
  ASSERT_OK(store_.PutCertificateState(old));
  orders_.Script("web",
                 {absl::FailedPreconditionError("CAA forbids issuance")});
  auto scheduler = MakeScheduler({Cert("web")}, options);

  ASSERT_OK(scheduler->RunPass(ctx_));
  std::optional<store::CertificateState> state = StateOf("web");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->consecutive_failures, 61);
  EXPECT_EQ(state->last_error, "CAA forbids issuance");
  EXPECT_THAT(state->next_attempt_at, AllOf(Ge(start_ + absl::Hours(6) * 0.75),
                                            Le(start_ + absl::Hours(6))));
}

TEST_F(SchedulerBackoffTest, LaterRetryAfterWinsAndSurvivesRestart) {
  absl::Status limited = absl::ResourceExhaustedError(
      "ACME new-order: HTTP 429: rateLimited: too many new orders recently");
  const absl::Time retry_at = start_ + absl::Hours(3);
  acme::SetRetryAfter(limited, retry_at);
  orders_.Script("web", {limited});
  {
    auto scheduler = MakeScheduler({Cert("web")}, BackoffOptions());
    ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
    ASSERT_THAT(report.attempted, SizeIs(1));
    EXPECT_THAT(report.attempted[0].result,
                StatusIs(absl::StatusCode::kResourceExhausted));
  }
  EXPECT_EQ(State("web").next_attempt_at, retry_at);
  EXPECT_EQ(State("web").consecutive_failures, 1);

  // A restart: a new scheduler over the same store still waits for the CA.
  auto restarted = MakeScheduler({Cert("web")}, BackoffOptions());
  clock_.SetTime(start_ + absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(PassReport waiting, restarted->RunPass(ctx_));
  EXPECT_THAT(waiting.attempted, IsEmpty());
  EXPECT_EQ(waiting.backing_off, 1);
  EXPECT_EQ(waiting.next_due, retry_at);
  EXPECT_THAT(orders_.runs(), SizeIs(1));

  clock_.SetTime(retry_at);
  ASSERT_OK_AND_ASSIGN(PassReport after, restarted->RunPass(ctx_));
  ASSERT_THAT(after.attempted, SizeIs(1));
  EXPECT_OK(after.attempted[0].result);
  EXPECT_THAT(orders_.runs(), SizeIs(2));
}

// What our own limiter answers once `max` orders were placed in 3 hours.
absl::Status ClientLimitRefusal(int max, Clock& clock) {
  acme::WindowLimiter limiter(max, absl::Hours(3), clock);
  for (int i = 0; i < max; ++i) EXPECT_OK(limiter.TryAcquire());
  return limiter.TryAcquire();
}

TEST_F(SchedulerBackoffTest, ARaisedOrderLimitLiftsItsWaitAtTheNextStart) {
  orders_.Script("web", {ClientLimitRefusal(1, clock_)});
  AddIssuer("ca", false, /*new_orders_per_window=*/1);
  {
    auto scheduler = MakeScheduler({Cert("web")}, BackoffOptions());
    ASSERT_OK(scheduler->RunPass(ctx_));
  }
  EXPECT_EQ(State("web").next_attempt_at, start_ + absl::Hours(3));
  EXPECT_EQ(State("web").limited_by, "1 new orders per 3h");

  // Restarted with the same limit: the wait stands.
  {
    auto scheduler = MakeScheduler({Cert("web")}, BackoffOptions());
    ASSERT_OK_AND_ASSIGN(PassReport same, scheduler->RunPass(ctx_));
    EXPECT_THAT(same.attempted, IsEmpty());
    EXPECT_EQ(same.backing_off, 1);
  }

  // Restarted with the limit raised: attempted now, and the wait is gone
  // from the store.
  AddIssuer("ca", false, /*new_orders_per_window=*/50);
  auto raised = MakeScheduler({Cert("web")}, BackoffOptions());
  ASSERT_OK_AND_ASSIGN(PassReport report, raised->RunPass(ctx_));
  ASSERT_THAT(report.attempted, SizeIs(1));
  EXPECT_OK(report.attempted[0].result);
  EXPECT_THAT(orders_.runs(), SizeIs(2));
  EXPECT_EQ(State("web").limited_by, "");
}

TEST_F(SchedulerBackoffTest, TheCasOwnRetryAfterIsNotLiftedByOurLimit) {
  absl::Status limited = absl::ResourceExhaustedError("rateLimited");
  acme::SetRetryAfter(limited, start_ + absl::Hours(3));
  orders_.Script("web", {limited});
  AddIssuer("ca", false, /*new_orders_per_window=*/1);
  {
    auto scheduler = MakeScheduler({Cert("web")}, BackoffOptions());
    ASSERT_OK(scheduler->RunPass(ctx_));
  }
  EXPECT_EQ(State("web").limited_by, "");
  AddIssuer("ca", false, /*new_orders_per_window=*/50);
  auto raised = MakeScheduler({Cert("web")}, BackoffOptions());
  ASSERT_OK_AND_ASSIGN(PassReport report, raised->RunPass(ctx_));
  EXPECT_THAT(report.attempted, IsEmpty());
  EXPECT_EQ(State("web").next_attempt_at, start_ + absl::Hours(3));
}

TEST_F(SchedulerBackoffTest, EarlierRetryAfterDoesNotShortenBackoff) {
  absl::Status unavailable = absl::UnavailableError("HTTP 503");
  acme::SetRetryAfter(unavailable, start_ + absl::Seconds(10));
  orders_.Script("web", {unavailable});
  auto scheduler = MakeScheduler({Cert("web")}, BackoffOptions());
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_THAT(
      State("web").next_attempt_at,
      AllOf(Ge(start_ + absl::Seconds(45)), Le(start_ + absl::Minutes(1))));
}

TEST_F(SchedulerBackoffTest, CancelledRunIsNotAFailure) {
  const store::CertificateState before{
      .name = "web",
      .next_attempt_at = start_ - absl::Minutes(1),
      .consecutive_failures = 2,
      .last_error = "ACME new-order: HTTP 503",
      .last_attempt_at = start_ - absl::Minutes(3),
      .updated_at = start_ - absl::Minutes(3)};
  ASSERT_OK(store_.PutCertificateState(before));
  orders_.Script("web", {absl::CancelledError("shutting down")});
  auto scheduler = MakeScheduler({Cert("web"), Cert("api")}, BackoffOptions());

  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  ASSERT_THAT(report.attempted, SizeIs(2));
  EXPECT_THAT(report.attempted[0].result,
              StatusIs(absl::StatusCode::kCancelled, "shutting down"));
  EXPECT_EQ(StateOf("web"), before);

  // Not backing off: the next pass tries again at once.
  ASSERT_OK_AND_ASSIGN(PassReport next, scheduler->RunPass(ctx_));
  EXPECT_EQ(next.backing_off, 0);
  ASSERT_THAT(next.attempted, SizeIs(1));
  EXPECT_EQ(next.attempted[0].certificate, "web");
  EXPECT_OK(next.attempted[0].result);
}

TEST_F(SchedulerBackoffTest, CancelledContextStartsNothingAndRecordsNothing) {
  auto cancel = std::make_shared<Cancellation>();
  cancel->Cancel();
  const Context cancelled = ctx_.WithCancellation(cancel);
  auto scheduler = MakeScheduler({Cert("web"), Cert("api")}, BackoffOptions());

  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(cancelled));
  ASSERT_THAT(report.attempted, SizeIs(2));
  for (const PassReport::Entry& e : report.attempted) {
    EXPECT_THAT(e.result, StatusIs(absl::StatusCode::kCancelled))
        << e.certificate;
  }
  EXPECT_THAT(orders_.runs(), IsEmpty());
  EXPECT_FALSE(StateOf("web").has_value());
  EXPECT_FALSE(StateOf("api").has_value());
}

}  // namespace
}  // namespace certfleet::scheduler::testing
