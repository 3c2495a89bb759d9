// How a pass runs its jobs: at most max_concurrent_orders at once, and in
// order of urgency (missing and interrupted first, then the soonest expiry).
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/scheduler/scheduler_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::scheduler::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

class SchedulerConcurrencyTest : public SchedulerTest {
 protected:
  void SetUp() override { AddIssuer("ca"); }

  std::vector<std::string> RunOrder() {
    std::vector<std::string> names;
    for (const auto& run : orders_.runs()) names.push_back(run.certificate);
    return names;
  }
};

TEST_F(SchedulerConcurrencyTest, AtMostMaxConcurrentOrdersRunAtOnce) {
  std::vector<config::CertificateConfig> certs;
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) {
    names.push_back(absl::StrCat("cert", i));
    certs.push_back(Cert(names.back()));
  }
  SchedulerOptions options = Options();
  options.max_concurrent_orders = 3;
  auto scheduler = MakeScheduler(certs, options);

  orders_.Hold();
  absl::StatusOr<PassReport> report;
  std::thread pass([&] { report = scheduler->RunPass(ctx_); });
  // Real-time timeouts only bound a broken run; a passing run never waits
  // them out.
  const bool three = orders_.WaitForInFlight(3, absl::Seconds(30));
  // Give a fourth worker, if there were one, time to show up.
  absl::SleepFor(absl::Milliseconds(50));
  const int held = orders_.in_flight();
  orders_.Release();
  pass.join();

  EXPECT_TRUE(three) << "never 3 orders in flight at once";
  EXPECT_EQ(held, 3);
  EXPECT_EQ(orders_.max_in_flight(), 3);
  ASSERT_OK(report);
  EXPECT_EQ(report->issued(), 10);
  EXPECT_THAT(RunOrder(), UnorderedElementsAreArray(names));
}

TEST_F(SchedulerConcurrencyTest, NonPositiveLimitStillRunsOneAtATime) {
  SchedulerOptions options = Options();
  options.max_concurrent_orders = 0;
  auto scheduler = MakeScheduler({Cert("a"), Cert("b"), Cert("c")}, options);
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  EXPECT_EQ(report.issued(), 3);
  EXPECT_EQ(orders_.max_in_flight(), 1);
  EXPECT_THAT(RunOrder(), ElementsAre("a", "b", "c"));
}

TEST_F(SchedulerConcurrencyTest, MissingAndResumeFirstThenEarliestExpiry) {
  // Every stored version below is past its renewal window (lifetime rule:
  // 30 days before expiry), so all are due for renewal now.
  config::CertificateConfig late = Cert("late");
  config::CertificateConfig soon = Cert("soon");
  config::CertificateConfig missing = Cert("missing");
  config::CertificateConfig mid = Cert("mid");
  config::CertificateConfig resume = Cert("resume");
  StoreVersion(late, start_ + 20 * kDay);
  StoreVersion(soon, start_ + 2 * kDay);
  StoreVersion(mid, start_ + 10 * kDay);
  StoreVersion(resume, start_ + 15 * kDay);
  store::OrderRecord order;
  order.cert_name = "resume";
  order.issuer = "ca";
  order.order_url = "https://ca.test/order/1";
  order.names = resume.names;
  order.key_type = "ec256";
  ASSERT_OK(store_.PutOrder(order));

  SchedulerOptions options = Options();
  options.max_concurrent_orders = 1;
  auto scheduler = MakeScheduler({late, soon, missing, mid, resume}, options);
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));

  EXPECT_THAT(RunOrder(),
              ElementsAre("missing", "resume", "soon", "mid", "late"));
  ASSERT_THAT(report.attempted, SizeIs(5));
  std::vector<std::string> reasons;
  for (const auto& e : report.attempted) {
    reasons.push_back(absl::StrCat(e.certificate, ":", e.reason));
  }
  EXPECT_THAT(reasons, ElementsAre("missing:missing", "resume:resume",
                                   "soon:renew", "mid:renew", "late:renew"));
  EXPECT_EQ(report.issued(), 5);
}

}  // namespace
}  // namespace certfleet::scheduler::testing
