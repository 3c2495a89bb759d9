// ACME Renewal Information (RFC 9773): the scheduler follows the CA's
// suggested window when the directory offers renewalInfo, honours its
// Retry-After before asking again, names the replaced certificate in the
// renewal order (§5), and falls back to the lifetime rule when ARI fails.
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/scheduler/scheduler_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::scheduler::testing {
namespace {

using ::certfleet::testing::JsonResponse;
using ::certfleet::testing::ProblemResponse;
using ::testing::AllOf;
using ::testing::Ge;
using ::testing::IsEmpty;
using ::testing::Le;
using ::testing::SizeIs;

class SchedulerAriTest : public SchedulerTest {
 protected:
  // What the fake CA answers to GET renewalInfo.
  struct Answer {
    int status = 200;
    absl::Time start;
    absl::Time end;
    std::string retry_after = "21600";  // 6 hours
  };

  void SetUp() override {
    ca_ = &AddIssuer("ari-ca", /*ari=*/true);
    for (int64_t version : {1, 2}) {
      ca_->On(absl::StrCat(kRenewalInfoPath,
                           FakeCertificateOrders::AriCertId("web", version)),
              [this](const acme::HttpRequest&) {
                absl::MutexLock lock(&mu_);
                if (answer_.status != 200) {
                  return ProblemResponse(answer_.status, "serverInternal",
                                         "renewal info is down");
                }
                acme::HttpResponse r = JsonResponse(
                    200, absl::StrCat(R"({"suggestedWindow":{"start":")",
                                      Rfc3339(answer_.start), R"(","end":")",
                                      Rfc3339(answer_.end), R"("}})"));
                if (!answer_.retry_after.empty()) {
                  r.headers.emplace_back("retry-after", answer_.retry_after);
                }
                return r;
              });
    }
  }

  void SetAnswer(Answer a) {
    absl::MutexLock lock(&mu_);
    answer_ = a;
  }

  absl::Mutex mu_;
  Answer answer_;
  certfleet::testing::ScriptedTransport* ca_ = nullptr;
};

TEST_F(SchedulerAriTest, FollowsSuggestedWindowAndNamesTheReplacedVersion) {
  // Disjoint from the lifetime window [start+59d, start+60d].
  const absl::Time w1_start = start_ + 40 * kDay;
  const absl::Time w1_end = start_ + 42 * kDay;
  SetAnswer({.start = w1_start, .end = w1_end});
  auto scheduler = MakeScheduler({Cert("web", "ari-ca")});

  ASSERT_OK_AND_ASSIGN(PassReport first, scheduler->RunPass(ctx_));
  ASSERT_THAT(first.attempted, SizeIs(1));
  EXPECT_EQ(first.attempted[0].reason, "missing");
  EXPECT_EQ(orders_.runs()[0].replaces, "");  // nothing replaced yet

  ASSERT_OK_AND_ASSIGN(PassReport second, scheduler->RunPass(ctx_));
  EXPECT_THAT(second.attempted, IsEmpty());
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 1);
  const absl::Time r1 = State("web").renew_at;
  EXPECT_THAT(r1, AllOf(Ge(w1_start), Le(w1_end)));
  EXPECT_EQ(second.next_due, r1);

  // Retry-After (6 h) is honoured: no new request until it has passed.
  ASSERT_OK(scheduler->RunPass(ctx_));
  clock_.SetTime(start_ + absl::Hours(6) - absl::Minutes(1));
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 1);
  EXPECT_EQ(State("web").renew_at, r1);

  // The CA moves the window earlier (e.g. a revocation incident): the next
  // check after Retry-After draws again inside the new window.
  const absl::Time w2_start = start_ + 20 * kDay;
  const absl::Time w2_end = start_ + 21 * kDay;
  SetAnswer({.start = w2_start, .end = w2_end});
  clock_.SetTime(start_ + absl::Hours(6));
  ASSERT_OK_AND_ASSIGN(PassReport moved, scheduler->RunPass(ctx_));
  EXPECT_THAT(moved.attempted, IsEmpty());
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 2);
  const absl::Time r2 = State("web").renew_at;
  EXPECT_THAT(r2, AllOf(Ge(w2_start), Le(w2_end)));

  // Renewal at the chosen time names version 1 as replaced (§5).
  clock_.SetTime(r2);
  ASSERT_OK_AND_ASSIGN(PassReport renew, scheduler->RunPass(ctx_));
  ASSERT_THAT(renew.attempted, SizeIs(1));
  EXPECT_EQ(renew.attempted[0].reason, "renew");
  EXPECT_EQ(renew.attempted[0].version, 2);
  ASSERT_THAT(orders_.runs(), SizeIs(2));
  EXPECT_EQ(orders_.runs()[1].replaces,
            FakeCertificateOrders::AriCertId("web", 1));

  // Version 2 is asked about at once, although the last check of version 1
  // was less than 6 hours ago.
  const int before = RenewalInfoRequests("ari-ca");
  const absl::Time w3_start = r2 + 50 * kDay;
  const absl::Time w3_end = r2 + 51 * kDay;
  SetAnswer({.start = w3_start, .end = w3_end});
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(ca_->Count("GET", absl::StrCat(
                                  kRenewalInfoPath,
                                  FakeCertificateOrders::AriCertId("web", 2))),
            1);
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), before + 1);
  EXPECT_THAT(State("web").renew_at, AllOf(Ge(w3_start), Le(w3_end)));
}

TEST_F(SchedulerAriTest, WindowPastExpiryIsCappedToKeepAMargin) {
  // A broken CA suggests renewing after the certificate expires; the last
  // tenth of the lifetime (9 days of 90) stays as margin.
  SetAnswer({.start = start_ + 95 * kDay, .end = start_ + 100 * kDay});
  auto scheduler = MakeScheduler({Cert("web", "ari-ca")});
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(State("web").renew_at, start_ + 81 * kDay);
}

TEST_F(SchedulerAriTest, WindowInThePastMeansNow) {
  auto scheduler = MakeScheduler({Cert("web", "ari-ca")});
  ASSERT_OK(scheduler->RunPass(ctx_));
  clock_.SetTime(start_ + absl::Hours(1));
  SetAnswer({.start = start_ - 2 * kDay, .end = start_ - kDay});
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  ASSERT_THAT(report.attempted, SizeIs(1));
  EXPECT_EQ(report.attempted[0].reason, "renew");
  EXPECT_EQ(orders_.runs().back().replaces,
            FakeCertificateOrders::AriCertId("web", 1));
  EXPECT_EQ(orders_.runs().back().started, start_ + absl::Hours(1));
}

TEST_F(SchedulerAriTest, RenewalInfoFailureFallsBackToLifetimeThenRecovers) {
  SetAnswer({.status = 500});
  auto scheduler = MakeScheduler({Cert("web", "ari-ca")});
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  EXPECT_THAT(report.attempted, IsEmpty());
  EXPECT_EQ(report.not_due, 1);
  const int failed_requests = RenewalInfoRequests("ari-ca");
  EXPECT_GE(failed_requests, 1);  // the client retries 5xx a few times

  const absl::Time not_after = Latest("web").not_after;
  const absl::Time lifetime_pick = State("web").renew_at;
  EXPECT_THAT(lifetime_pick,
              AllOf(Ge(not_after - 31 * kDay), Le(not_after - 30 * kDay)));

  // Asked again an hour later, not at every pass; the lifetime time stands.
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), failed_requests);
  EXPECT_EQ(State("web").renew_at, lifetime_pick);

  // The CA recovers with a window elsewhere: it replaces the lifetime pick.
  const absl::Time w_start = start_ + 45 * kDay;
  const absl::Time w_end = start_ + 46 * kDay;
  SetAnswer({.start = w_start, .end = w_end});
  clock_.SetTime(start_ + absl::Hours(2));
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), failed_requests + 1);
  EXPECT_THAT(State("web").renew_at, AllOf(Ge(w_start), Le(w_end)));
}

TEST_F(SchedulerAriTest, RestartKeepsThePersistedTimeInsideTheWindow) {
  const absl::Time w_start = start_ + 40 * kDay;
  const absl::Time w_end = start_ + 42 * kDay;
  SetAnswer({.start = w_start, .end = w_end});
  {
    auto scheduler = MakeScheduler({Cert("web", "ari-ca")});
    ASSERT_OK(scheduler->RunPass(ctx_));
    ASSERT_OK(scheduler->RunPass(ctx_));
  }
  const absl::Time chosen = State("web").renew_at;
  SchedulerOptions other_seed = Options();
  other_seed.seed = 7;
  auto restarted = MakeScheduler({Cert("web", "ari-ca")}, other_seed);
  ASSERT_OK(restarted->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 2);  // a restart asks once more
  EXPECT_EQ(State("web").renew_at, chosen);     // but does not re-roll
}

TEST_F(SchedulerAriTest, LongRetryAfterIsCappedAtADay) {
  SetAnswer({.start = start_ + 40 * kDay,
             .end = start_ + 42 * kDay,
             .retry_after = absl::StrCat(30 * 24 * 3600)});
  auto scheduler = MakeScheduler({Cert("web", "ari-ca")});
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_EQ(RenewalInfoRequests("ari-ca"), 1);
  clock_.SetTime(start_ + kDay - absl::Seconds(1));
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 1);
  clock_.SetTime(start_ + kDay);
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 2);
}

TEST_F(SchedulerAriTest, ZeroRetryAfterStillWaitsAMinute) {
  SetAnswer({.start = start_ + 40 * kDay,
             .end = start_ + 42 * kDay,
             .retry_after = "0"});
  auto scheduler = MakeScheduler({Cert("web", "ari-ca")});
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 1);
  clock_.SetTime(start_ + absl::Minutes(1));
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 2);
}

TEST_F(SchedulerAriTest, WithoutRetryAfterAsksAgainAfterAriRecheck) {
  SetAnswer({.start = start_ + 40 * kDay,
             .end = start_ + 42 * kDay,
             .retry_after = ""});
  SchedulerOptions options = Options();
  options.ari_recheck = absl::Hours(2);
  auto scheduler = MakeScheduler({Cert("web", "ari-ca")}, options);
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK(scheduler->RunPass(ctx_));
  clock_.SetTime(start_ + absl::Hours(2) - absl::Seconds(1));
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 1);
  clock_.SetTime(start_ + absl::Hours(2));
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_EQ(RenewalInfoRequests("ari-ca"), 2);
}

}  // namespace
}  // namespace certfleet::scheduler::testing
