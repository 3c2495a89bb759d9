// The seam between issuance and the scheduler, with both real: the order
// runner placing an order at a scripted CA that answers 429 with
// Retry-After (RFC 8555 §6.6), and the scheduler deciding the next attempt
// from the error the runner returns. The scheduler's other tests fake the
// runner and set the Retry-After payload themselves, so only this one sees
// whether it survives the runner's annotations.
#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "common/crypto/kek.h"
#include "coordinator/dns/solver.h"
#include "coordinator/issuance/order_runner.h"
#include "tests/dns/fakes.h"
#include "tests/scheduler/scheduler_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::scheduler::testing {
namespace {

using certfleet::testing::JsonResponse;
using certfleet::testing::ProblemResponse;
using certfleet::testing::ScriptedTransport;
using certfleet::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class SchedulerOrderRunnerTest : public SchedulerTest {
 protected:
  SchedulerOrderRunnerTest()
      : solver_({}, resolver_, dns::SolverOptions{}, clock_),
        runner_(store_, kek_, solver_, clock_) {}

  // A CA that knows the account and answers every new order with 429.
  void RateLimitNewOrders(ScriptedTransport& ca, const std::string& retry) {
    ca.On("/new-account", [](const acme::HttpRequest&) {
      acme::HttpResponse r = JsonResponse(201, R"({"status":"valid"})");
      r.headers.emplace_back("location", "https://ca.test/acct/1");
      return r;
    });
    ca.On("/new-order", [retry](const acme::HttpRequest&) {
      acme::HttpResponse r =
          ProblemResponse(429, "rateLimited", "too many new orders recently");
      r.headers.emplace_back("retry-after", retry);
      return r;
    });
  }

  crypto::Kek kek_ = crypto::Kek::FromBytes(crypto::RandomBytes(32));
  dns::testing::FakeDnsResolver resolver_;
  dns::Dns01Solver solver_;
  issuance::OrderRunner runner_;
};

TEST_F(SchedulerOrderRunnerTest, TheCasRetryAfterReachesTheNextAttempt) {
  ScriptedTransport& ca = AddIssuer("ca");
  const absl::Duration wait = absl::Hours(3);
  RateLimitNewOrders(ca, absl::StrCat(absl::ToInt64Seconds(wait)));
  SchedulerOptions options = Options();
  options.retry_initial = absl::Minutes(1);
  options.retry_max = absl::Minutes(5);
  std::map<std::string, issuance::Issuer*> issuers = {{"ca", issuer("ca")}};
  Scheduler scheduler({Cert("web")}, issuers, store_, runner_, clock_, options);

  const absl::Time before = clock_.Now();
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler.RunPass(ctx_));
  ASSERT_THAT(report.attempted, SizeIs(1));
  EXPECT_THAT(report.attempted[0].result,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("too many new orders recently")));
  EXPECT_EQ(ca.Count("POST", "/new-order"), 1);

  // Backoff alone would say at most 5 minutes; the CA said 3 hours, counted
  // from when it answered (the fake clock moves on while the pass runs).
  const store::CertificateState state = State("web");
  EXPECT_GE(state.next_attempt_at, before + wait);
  EXPECT_LE(state.next_attempt_at, clock_.Now() + wait);
  EXPECT_EQ(state.consecutive_failures, 1);
}

}  // namespace
}  // namespace certfleet::scheduler::testing
