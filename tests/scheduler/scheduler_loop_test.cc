// Scheduler::Run (the serving loop) on a manual fake clock, store failures,
// and SweepOrphanOrders.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "tests/scheduler/scheduler_test_env.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::scheduler::testing {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::StatusIs;
using ::certfleet::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Time moves only when the test advances it; SleepUntil blocks until then.
class SchedulerLoopTest : public SchedulerTestBase {
 protected:
  SchedulerLoopTest() : SchedulerTestBase(FakeClock::Mode::kManual) {}

  void SetUp() override { AddIssuer("ca"); }

  // Starts scheduler.Run on its own thread.
  void StartLoop(Scheduler& scheduler) {
    loop_ = std::thread([this, &scheduler] {
      scheduler.Run(ctx_.WithCancellation(cancel_));
      done_.set_value();
    });
  }

  // Waits (real time) until the loop is blocked in its `n`-th sleep.
  absl::Status WaitForSleep(size_t n) {
    return WaitFor(absl::StrCat("the loop to block in sleep ", n), [&] {
      return clock_.sleeps().size() >= n && clock_.sleepers() == 1;
    });
  }

  // Cancels the loop; true when it returned promptly.
  bool StopLoop() {
    cancel_->Cancel();
    const bool prompt = done_.get_future().wait_for(std::chrono::seconds(10)) ==
                        std::future_status::ready;
    loop_.join();
    return prompt;
  }

  void StopLoopIfRunning() {
    if (loop_.joinable()) StopLoop();
  }

  std::shared_ptr<Cancellation> cancel_ = std::make_shared<Cancellation>();
  std::promise<void> done_;
  std::thread loop_;
};

TEST_F(SchedulerLoopTest,
       SleepsUntilNextDueAtMostCheckIntervalAndStopsOnCancel) {
  // A previous failure said: not before 2 minutes from now.
  ASSERT_OK(store_.PutCertificateState(
      {.name = "web", .next_attempt_at = start_ + absl::Minutes(2)}));
  SchedulerOptions options = Options();
  options.check_interval = absl::Minutes(10);
  auto scheduler = MakeScheduler({Cert("web")}, options);
  StartLoop(*scheduler);
  // Stop the loop before the locals it uses go, even when an ASSERT fails.
  absl::Cleanup stop = [this] { StopLoopIfRunning(); };

  ASSERT_OK(WaitForSleep(1));
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Minutes(2)));
  EXPECT_THAT(orders_.runs(), IsEmpty());

  // Retry time reached: the pass issues, the loop evaluates again at once
  // (the new version gets its renewal time), then waits a check interval
  // (the renewal is two months away).
  clock_.Advance(absl::Minutes(2));
  ASSERT_OK(WaitForSleep(2));
  EXPECT_THAT(clock_.sleeps(),
              ElementsAre(absl::Minutes(2), absl::Minutes(10)));
  ASSERT_THAT(orders_.runs(), SizeIs(1));
  EXPECT_EQ(orders_.runs()[0].started, start_ + absl::Minutes(2));
  ASSERT_TRUE(StateOf("web").has_value());
  EXPECT_LT(State("web").renew_at, absl::InfiniteFuture());

  clock_.Advance(absl::Minutes(10));
  ASSERT_OK(WaitForSleep(3));
  EXPECT_EQ(clock_.sleeps().back(), absl::Minutes(10));
  EXPECT_THAT(orders_.runs(), SizeIs(1));

  EXPECT_TRUE(StopLoop()) << "Run did not return within 10 s of cancellation";
  EXPECT_THAT(orders_.runs(), SizeIs(1));
}

TEST_F(SchedulerLoopTest, WakesForARenewalSoonerThanCheckInterval) {
  config::CertificateConfig web = Cert("web");
  // Lifetime window [not_after − 31 d, not_after − 30 d] contains start + 5
  // min.
  StoreVersion(web, start_ + 30 * kDay + absl::Minutes(5));
  ASSERT_OK(store_.PutCertificateState(
      {.name = "web", .renew_at = start_ + absl::Minutes(5)}));
  SchedulerOptions options = Options();
  options.check_interval = absl::Minutes(10);
  auto scheduler = MakeScheduler({web}, options);
  StartLoop(*scheduler);
  // Stop the loop before the locals it uses go, even when an ASSERT fails.
  absl::Cleanup stop = [this] { StopLoopIfRunning(); };

  ASSERT_OK(WaitForSleep(1));
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Minutes(5)));
  clock_.Advance(absl::Minutes(5));
  ASSERT_OK(WaitForSleep(2));
  ASSERT_THAT(orders_.runs(), SizeIs(1));
  EXPECT_EQ(orders_.runs()[0].started, start_ + absl::Minutes(5));
  EXPECT_EQ(Latest("web").version, 2);
  EXPECT_TRUE(StopLoop());
}

TEST_F(SchedulerLoopTest, WakeEndsTheSleepAndARequestedRenewalIsOrdered) {
  config::CertificateConfig web = Cert("web");
  // Renewal planned in 20 days; the loop sleeps a check interval.
  StoreVersion(web, start_ + 50 * kDay);
  ASSERT_OK(store_.PutCertificateState(
      {.name = "web", .renew_at = start_ + 20 * kDay}));
  SchedulerOptions options = Options();
  options.check_interval = absl::Minutes(10);
  auto scheduler = MakeScheduler({web}, options);
  StartLoop(*scheduler);
  absl::Cleanup stop = [this] { StopLoopIfRunning(); };
  ASSERT_OK(WaitForSleep(1));
  EXPECT_THAT(orders_.runs(), IsEmpty());

  // What AdminBackend::RenewCertificate does: renew_at = InfinitePast (not
  // redrawn into the window), then Wake. No time passes.
  ASSERT_OK(store_.PutCertificateState({.name = "web",
                                        .renew_at = absl::InfinitePast(),
                                        .updated_at = clock_.Now()}));
  scheduler->Wake();
  ASSERT_OK(WaitForSleep(2));
  ASSERT_THAT(orders_.runs(), SizeIs(1));
  EXPECT_EQ(orders_.runs()[0].started, start_);
  EXPECT_EQ(Latest("web").version, 2);
  // The new version got a planned renewal time again.
  EXPECT_GT(State("web").renew_at, start_);
  EXPECT_LT(State("web").renew_at, absl::InfiniteFuture());
  EXPECT_TRUE(StopLoop());
}

// Counts the passes that looked at a certificate with a version.
class PassCounter : public SchedulerObserver {
 public:
  void OnCertificate(const std::string&, absl::Time, absl::Time) override {
    ++calls;
  }
  std::atomic<int> calls{0};
};

TEST_F(SchedulerLoopTest, WakeDuringAPassMakesAnotherPassBeforeSleeping) {
  config::CertificateConfig web = Cert("web");
  StoreVersion(web, start_ + 50 * kDay);
  ASSERT_OK(store_.PutCertificateState(
      {.name = "web", .renew_at = start_ + 20 * kDay}));
  PassCounter passes;
  auto scheduler = MakeScheduler({web}, Options(), &passes);
  // A wake that comes while no sleep is in progress is not lost.
  scheduler->Wake();
  StartLoop(*scheduler);
  absl::Cleanup stop = [this] { StopLoopIfRunning(); };
  ASSERT_OK(WaitForSleep(1));
  EXPECT_EQ(passes.calls.load(), 2);
  EXPECT_THAT(clock_.sleeps(), SizeIs(1));
  EXPECT_THAT(orders_.runs(), IsEmpty());
  EXPECT_TRUE(StopLoop());
}

// Delegates to an InMemoryStore; reads of scheduling state can be made to
// fail (a broken database).
class BrokenStateStore : public store::InMemoryStore {
 public:
  absl::StatusOr<std::optional<store::CertificateState>> GetCertificateState(
      const std::string& name) override {
    if (broken_.load()) {
      return absl::UnavailableError("store: database is locked");
    }
    return InMemoryStore::GetCertificateState(name);
  }
  void Break(bool broken) { broken_.store(broken); }

 private:
  std::atomic<bool> broken_{false};
};

TEST_F(SchedulerLoopTest, StoreFailureFailsThePassAndRetriesWithinAMinute) {
  BrokenStateStore broken;
  broken.Break(true);
  FakeCertificateOrders orders(broken, clock_);
  SchedulerOptions options = Options();
  options.check_interval = absl::Minutes(10);
  Scheduler scheduler({Cert("web")}, {{"ca", issuer("ca")}}, broken, orders,
                      clock_, options);
  EXPECT_THAT(scheduler.RunPass(ctx_),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("database is locked")));

  StartLoop(scheduler);
  absl::Cleanup stop = [this] { StopLoopIfRunning(); };
  ASSERT_OK(WaitForSleep(1));
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Minutes(1)));
  EXPECT_THAT(orders.runs(), IsEmpty());

  broken.Break(false);
  clock_.Advance(absl::Minutes(1));
  ASSERT_OK(WaitForSleep(2));
  EXPECT_THAT(orders.runs(), SizeIs(1));
  EXPECT_TRUE(StopLoop());
}

// Housekeeping (retention) hangs off the loop: it runs after each pass that
// could read the store, and not after one that could not.
TEST_F(SchedulerLoopTest, AfterPassRunsOnlyAfterPassesThatReadTheStore) {
  BrokenStateStore broken;
  broken.Break(true);
  FakeCertificateOrders orders(broken, clock_);
  std::atomic<int> after = 0;
  SchedulerOptions options = Options();
  options.check_interval = absl::Minutes(10);
  options.after_pass = [&after](const Context&) { ++after; };
  Scheduler scheduler({Cert("web")}, {{"ca", issuer("ca")}}, broken, orders,
                      clock_, options);
  StartLoop(scheduler);
  absl::Cleanup stop = [this] { StopLoopIfRunning(); };
  ASSERT_OK(WaitForSleep(1));
  EXPECT_EQ(after.load(), 0);

  broken.Break(false);
  clock_.Advance(absl::Minutes(1));
  ASSERT_OK(WaitForSleep(2));
  // The pass that issued, and the one right after it.
  EXPECT_EQ(after.load(), 2);
  EXPECT_TRUE(StopLoop());
}

class SchedulerSweepTest : public SchedulerTest {
 protected:
  void SetUp() override { AddIssuer("ca"); }

  void PutOrder(const std::string& cert, const std::string& issuer) {
    store::OrderRecord o;
    o.cert_name = cert;
    o.issuer = issuer;
    o.order_url = "https://ca.test/order/" + cert;
    o.names = {cert + ".example.test"};
    o.key_type = "ec256";
    ASSERT_OK(store_.PutOrder(o));
  }
  // The audit records of abandoned orders, oldest first.
  std::vector<store::AuditRecord> Abandonments() {
    absl::StatusOr<std::vector<store::AuditRecord>> all = store_.ListAudit({});
    EXPECT_OK(all.status());
    std::vector<store::AuditRecord> out;
    if (!all.ok()) return out;
    for (const store::AuditRecord& r : *all) {
      if (r.action == "certificate.order_abandoned") out.push_back(r);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
  }
};

// Removed on purpose (removed_certificates): abandoned, deactivated where
// the issuer is known, audited.
TEST_F(SchedulerSweepTest, AbandonsOrdersOfCertificatesRemovedOnPurpose) {
  PutOrder("web", "ca");
  PutOrder("gone", "ca");
  PutOrder("gone-too", "removed-issuer");
  SchedulerOptions options = Options();
  options.removed = {"gone", "gone-too"};
  auto scheduler = MakeScheduler({Cert("web")}, options);

  ASSERT_OK(scheduler->SweepOrphanOrders(ctx_));
  auto abandons = orders_.abandons();
  ASSERT_THAT(abandons, SizeIs(2));
  EXPECT_EQ(abandons[0].certificate, "gone");
  EXPECT_EQ(abandons[0].order_url, "https://ca.test/order/gone");
  EXPECT_EQ(abandons[0].issuer, issuer("ca"));
  // Its issuer left the config too: abandoned without deactivation.
  EXPECT_EQ(abandons[1].certificate, "gone-too");
  EXPECT_EQ(abandons[1].issuer, nullptr);

  ASSERT_OK_AND_ASSIGN(std::vector<store::OrderRecord> left,
                       store_.ListOrders());
  ASSERT_THAT(left, SizeIs(1));
  EXPECT_EQ(left[0].cert_name, "web");
  const std::vector<store::AuditRecord> audit = Abandonments();
  ASSERT_THAT(audit, SizeIs(2));
  EXPECT_EQ(audit[0].certificate, "gone");
  EXPECT_THAT(audit[0].detail,
              HasSubstr("https://ca.test/order/gone, pending authorizations "
                        "deactivated"));
  EXPECT_EQ(audit[0].result, "ok");
  EXPECT_THAT(audit[1].detail,
              HasSubstr("issuer removed-issuer not configured"));
}

// Only missing from this replica's configuration (another replica may
// have it): the order stays for the leader that resumes it.
TEST_F(SchedulerSweepTest, KeepsTheOrderOfACertificateOnlyMissingHere) {
  PutOrder("web", "ca");
  PutOrder("api", "ca");
  auto scheduler = MakeScheduler({Cert("web")});
  ASSERT_OK(scheduler->SweepOrphanOrders(ctx_));
  EXPECT_THAT(orders_.abandons(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<store::OrderRecord> left,
                       store_.ListOrders());
  EXPECT_THAT(left, SizeIs(2));
  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> audit,
                       store_.ListAudit({}));
  EXPECT_THAT(audit, IsEmpty());
}

TEST_F(SchedulerSweepTest, ReportsTheFirstErrorButTriesEveryOrphan) {
  PutOrder("gone", "ca");
  PutOrder("gone-too", "ca");
  orders_.ScriptAbandon("gone",
                        absl::UnavailableError("DNS provider unreachable"));
  SchedulerOptions options = Options();
  options.removed = {"gone", "gone-too"};
  auto scheduler = MakeScheduler({Cert("web")}, options);

  EXPECT_THAT(scheduler->SweepOrphanOrders(ctx_),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("DNS provider unreachable")));
  ASSERT_THAT(orders_.abandons(), SizeIs(2));
  EXPECT_EQ(orders_.abandons()[1].certificate, "gone-too");
  const std::vector<store::AuditRecord> audit = Abandonments();
  ASSERT_THAT(audit, SizeIs(2));
  EXPECT_THAT(audit[0].result, HasSubstr("DNS provider unreachable"));
}

TEST_F(SchedulerSweepTest, NothingToSweep) {
  PutOrder("web", "ca");
  auto scheduler = MakeScheduler({Cert("web")});
  ASSERT_OK(scheduler->SweepOrphanOrders(ctx_));
  EXPECT_THAT(orders_.abandons(), IsEmpty());
}

}  // namespace
}  // namespace certfleet::scheduler::testing
