// Scheduler::RunPass: which certificates are attempted, for what reason, and
// the renewal times it persists (lifetime rule; the CA here has no ARI).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/scheduler/scheduler_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::scheduler::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::Ge;
using ::testing::IsEmpty;
using ::testing::Le;
using ::testing::SizeIs;

auto Attempt(const std::string& certificate, const std::string& reason) {
  return AllOf(Field(&PassReport::Entry::certificate, certificate),
               Field(&PassReport::Entry::reason, reason));
}

class SchedulerPassTest : public SchedulerTest {
 protected:
  void SetUp() override { AddIssuer("ca"); }
};

TEST_F(SchedulerPassTest, FirstPassIssuesMissingSecondPassAttemptsNothing) {
  auto scheduler = MakeScheduler({Cert("web"), Cert("api"), Cert("mail")});

  ASSERT_OK_AND_ASSIGN(PassReport first, scheduler->RunPass(ctx_));
  EXPECT_THAT(first.attempted,
              ElementsAre(Attempt("web", "missing"), Attempt("api", "missing"),
                          Attempt("mail", "missing")));
  for (const PassReport::Entry& e : first.attempted) {
    EXPECT_OK(e.result) << e.certificate;
    EXPECT_EQ(e.version, 1) << e.certificate;
  }
  EXPECT_EQ(first.issued(), 3);
  EXPECT_EQ(first.failed(), 0);
  EXPECT_EQ(first.not_due, 0);
  EXPECT_EQ(first.backing_off, 0);
  ASSERT_THAT(orders_.runs(), SizeIs(3));
  for (const auto& run : orders_.runs()) {
    EXPECT_EQ(run.replaces, "") << run.certificate;
    EXPECT_EQ(run.issuer, "ca") << run.certificate;
  }

  ASSERT_OK_AND_ASSIGN(PassReport second, scheduler->RunPass(ctx_));
  EXPECT_THAT(second.attempted, IsEmpty());
  EXPECT_EQ(second.issued(), 0);
  EXPECT_EQ(second.not_due, 3);
  EXPECT_EQ(second.backing_off, 0);
  EXPECT_THAT(orders_.runs(), SizeIs(3));

  absl::Time earliest = absl::InfiniteFuture();
  for (const std::string name : {"web", "api", "mail"}) {
    SCOPED_TRACE(name);
    std::optional<store::VersionRecord> v = LatestOf(name);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->not_after, start_ + 90 * kDay);
    std::optional<store::CertificateState> state = StateOf(name);
    ASSERT_TRUE(state.has_value());
    // A third of 90 days before expiry, reaching back by min(3 d, 1 d).
    EXPECT_THAT(state->renew_at, AllOf(Ge(v->not_after - 31 * kDay),
                                       Le(v->not_after - 30 * kDay)));
    EXPECT_EQ(state->consecutive_failures, 0);
    EXPECT_EQ(state->next_attempt_at, absl::InfinitePast());
    EXPECT_EQ(state->last_attempt_at, start_);
    earliest = std::min(earliest, state->renew_at);
  }
  EXPECT_EQ(second.next_due, earliest);

  // A third pass neither attempts anything nor re-rolls the persisted times.
  const absl::Time web_renew_at = State("web").renew_at;
  ASSERT_OK_AND_ASSIGN(PassReport third, scheduler->RunPass(ctx_));
  EXPECT_THAT(third.attempted, IsEmpty());
  EXPECT_EQ(third.not_due, 3);
  EXPECT_EQ(State("web").renew_at, web_renew_at);
}

TEST_F(SchedulerPassTest, RenewsWhenRenewAtComesAndDrawsAgainForNewVersion) {
  auto scheduler = MakeScheduler({Cert("web")});
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK(scheduler->RunPass(ctx_));  // draws renew_at for version 1
  const absl::Time renew_at = State("web").renew_at;
  ASSERT_LT(renew_at, absl::InfiniteFuture());

  clock_.SetTime(renew_at - absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(PassReport early, scheduler->RunPass(ctx_));
  EXPECT_THAT(early.attempted, IsEmpty());
  EXPECT_EQ(early.not_due, 1);
  EXPECT_EQ(early.next_due, renew_at);

  clock_.SetTime(renew_at);
  ASSERT_OK_AND_ASSIGN(PassReport due, scheduler->RunPass(ctx_));
  ASSERT_THAT(due.attempted, ElementsAre(Attempt("web", "renew")));
  EXPECT_OK(due.attempted[0].result);
  EXPECT_EQ(due.attempted[0].version, 2);
  ASSERT_THAT(orders_.runs(), SizeIs(2));
  EXPECT_EQ(orders_.runs()[1].started, renew_at);
  // No renewalInfo in this CA's directory: nothing to name as replaced.
  EXPECT_EQ(orders_.runs()[1].replaces, "");
  EXPECT_EQ(RenewalInfoRequests("ca"), 0);

  // Version 2 gets its own renewal time, from its own lifetime.
  ASSERT_OK_AND_ASSIGN(PassReport after, scheduler->RunPass(ctx_));
  EXPECT_THAT(after.attempted, IsEmpty());
  const absl::Time v2_not_after = renew_at + 90 * kDay;
  EXPECT_EQ(Latest("web").not_after, v2_not_after);
  EXPECT_THAT(State("web").renew_at, AllOf(Ge(v2_not_after - 31 * kDay),
                                           Le(v2_not_after - 30 * kDay)));
}

TEST_F(SchedulerPassTest, ExplicitRenewBeforeMovesTheWindow) {
  config::CertificateConfig ten = Cert("ten");
  ten.renew_before = 10 * kDay;  // jitter: a tenth, 1 d
  config::CertificateConfig five = Cert("five");
  five.renew_before = 5 * kDay;  // jitter: a tenth, 12 h
  auto scheduler = MakeScheduler({ten, five});
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  EXPECT_EQ(report.not_due, 2);

  const absl::Time not_after = start_ + 90 * kDay;
  EXPECT_THAT(State("ten").renew_at,
              AllOf(Ge(not_after - 11 * kDay), Le(not_after - 10 * kDay)));
  EXPECT_THAT(State("five").renew_at,
              AllOf(Ge(not_after - 5 * kDay - absl::Hours(12)),
                    Le(not_after - 5 * kDay)));

  // Renewed once the (later) window is reached, not at the default one.
  clock_.SetTime(not_after - 30 * kDay);
  ASSERT_OK_AND_ASSIGN(PassReport at_default, scheduler->RunPass(ctx_));
  EXPECT_THAT(at_default.attempted, IsEmpty());
  clock_.SetTime(not_after - 10 * kDay);
  ASSERT_OK_AND_ASSIGN(PassReport at_ten, scheduler->RunPass(ctx_));
  EXPECT_THAT(at_ten.attempted, ElementsAre(Attempt("ten", "renew")));
}

TEST_F(SchedulerPassTest, RenewBeforeNotShorterThanTheLifetimeFallsBack) {
  // Taken literally it would reissue on every pass; a third of the
  // lifetime is used instead.
  config::CertificateConfig greedy = Cert("greedy");
  greedy.renew_before = 120 * kDay;
  auto scheduler = MakeScheduler({greedy});
  ASSERT_OK(scheduler->RunPass(ctx_));
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  EXPECT_THAT(report.attempted, IsEmpty());
  const absl::Time not_after = start_ + 90 * kDay;
  EXPECT_THAT(State("greedy").renew_at,
              AllOf(Ge(not_after - 31 * kDay), Le(not_after - 30 * kDay)));
}

TEST_F(SchedulerPassTest, ChangedRenewBeforeRedrawsThePersistedTime) {
  auto before = MakeScheduler({Cert("web")});
  ASSERT_OK(before->RunPass(ctx_));
  ASSERT_OK(before->RunPass(ctx_));
  const absl::Time not_after = start_ + 90 * kDay;
  ASSERT_LE(State("web").renew_at, not_after - 30 * kDay);

  // The operator now wants renewal 10 days before expiry (a restart with a
  // new config over the same store).
  config::CertificateConfig web = Cert("web");
  web.renew_before = 10 * kDay;
  auto after = MakeScheduler({web});
  ASSERT_OK_AND_ASSIGN(PassReport report, after->RunPass(ctx_));
  EXPECT_THAT(report.attempted, IsEmpty());
  EXPECT_THAT(State("web").renew_at,
              AllOf(Ge(not_after - 11 * kDay), Le(not_after - 10 * kDay)));
}

TEST_F(SchedulerPassTest, ChangedSpecIsReissued) {
  AddIssuer("other");
  const absl::Time not_after = start_ + 60 * kDay;  // not due by lifetime
  config::CertificateConfig names = Cert("names");
  config::CertificateConfig key = Cert("key");
  config::CertificateConfig issuer = Cert("issuer");
  config::CertificateConfig reordered = Cert("reordered");
  reordered.names = {"b.example.test", "a.example.test"};
  for (const auto* c : {&names, &key, &issuer, &reordered}) {
    StoreVersion(*c, not_after);
  }
  names.names.push_back("www.names.example.test");
  key.key_type = crypto::KeyType::kRsa2048;
  issuer.issuer = "other";
  // The same names in another order are the same certificate.
  reordered.names = {"a.example.test", "b.example.test"};

  auto scheduler = MakeScheduler({names, key, issuer, reordered});
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  EXPECT_THAT(report.attempted, ElementsAre(Attempt("names", "changed"),
                                            Attempt("key", "changed"),
                                            Attempt("issuer", "changed")));
  EXPECT_EQ(report.not_due, 1);
  // The three run concurrently: look each up by name.
  ASSERT_THAT(orders_.runs(), SizeIs(3));
  for (const auto& run : orders_.runs()) {
    EXPECT_EQ(run.issuer, run.certificate == "issuer" ? "other" : "ca")
        << run.certificate;
    EXPECT_EQ(run.replaces, "") << run.certificate;
  }
  EXPECT_EQ(Latest("names").names,
            (std::vector<std::string>{"names.example.test",
                                      "www.names.example.test"}));
  EXPECT_EQ(Latest("key").key_type, "rsa2048");

  // Reissued versions match the config: nothing more to do.
  ASSERT_OK_AND_ASSIGN(PassReport again, scheduler->RunPass(ctx_));
  EXPECT_THAT(again.attempted, IsEmpty());
  EXPECT_EQ(again.not_due, 4);
}

TEST_F(SchedulerPassTest, RevokedNewestVersionIsReissued) {
  config::CertificateConfig web = Cert("web");
  config::CertificateConfig api = Cert("api");
  store::VersionRecord v = StoreVersion(web, start_ + 60 * kDay);
  StoreVersion(api, start_ + 60 * kDay);
  ASSERT_OK(store_.MarkVersionRevoked("web", v.version, start_ - absl::Hours(1),
                                      "keyCompromise"));

  auto scheduler = MakeScheduler({web, api});
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  ASSERT_THAT(report.attempted, ElementsAre(Attempt("web", "revoked")));
  EXPECT_EQ(report.attempted[0].version, 2);
  EXPECT_EQ(report.not_due, 1);
  EXPECT_EQ(Latest("web").revoked_at, absl::InfinitePast());
}

TEST_F(SchedulerPassTest, InFlightOrderIsResumedWithItsReplaces) {
  config::CertificateConfig web = Cert("web");
  StoreVersion(web, start_ + 60 * kDay);  // not due by itself
  store::OrderRecord order;
  order.cert_name = "web";
  order.issuer = "ca";
  order.order_url = "https://ca.test/order/7";
  order.names = web.names;
  order.key_type = "ec256";
  order.replaces = "X";
  ASSERT_OK(store_.PutOrder(order));

  auto scheduler = MakeScheduler({web});
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  EXPECT_THAT(report.attempted, ElementsAre(Attempt("web", "resume")));
  ASSERT_THAT(orders_.runs(), SizeIs(1));
  EXPECT_EQ(orders_.runs()[0].replaces, "X");
  // The (fake) runner's AddVersion removed the order.
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> left,
                       store_.GetOrder("web"));
  EXPECT_FALSE(left.has_value());
}

TEST_F(SchedulerPassTest, UnknownIssuerFailsWithoutRunning) {
  auto scheduler = MakeScheduler({Cert("web", "nowhere")});
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  ASSERT_THAT(report.attempted, SizeIs(1));
  EXPECT_THAT(
      report.attempted[0].result,
      certfleet::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                   ::testing::HasSubstr("nowhere")));
  EXPECT_EQ(report.failed(), 1);
  EXPECT_THAT(orders_.runs(), IsEmpty());
  EXPECT_EQ(State("web").consecutive_failures, 1);
}

class RecordingObserver : public SchedulerObserver {
 public:
  void OnCertificate(const std::string& name, absl::Time not_after,
                     absl::Time renew_at) override {
    absl::MutexLock lock(&mu_);
    seen_[name] = {not_after, renew_at};
  }
  std::map<std::string, std::pair<absl::Time, absl::Time>> seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::pair<absl::Time, absl::Time>> seen_;
};

TEST_F(SchedulerPassTest, ObserverHearsExpiryAndRenewalTime) {
  RecordingObserver observer;
  auto scheduler = MakeScheduler({Cert("web")}, Options(), &observer);
  ASSERT_OK(scheduler->RunPass(ctx_));
  EXPECT_TRUE(observer.seen().empty());  // no version yet when evaluated
  ASSERT_OK(scheduler->RunPass(ctx_));
  auto seen = observer.seen();
  ASSERT_EQ(seen.count("web"), 1u);
  EXPECT_EQ(seen["web"].first, start_ + 90 * kDay);
  EXPECT_EQ(seen["web"].second, State("web").renew_at);
}

// A certificate the store holds that this replica's configuration lacks:
// its expiry is still watched (never renewed here, never forgotten).
TEST_F(SchedulerPassTest, ObserverHearsOfACertificateOnlyMissingHere) {
  StoreVersion(Cert("api"), start_ + 30 * kDay);
  ASSERT_OK(store_.PutCertificateState(
      {.name = "api", .renew_at = start_ + 20 * kDay}));
  StoreVersion(Cert("old"), start_ + 10 * kDay);
  ASSERT_OK(store_.PutCertificateState({.name = "old"}));
  RecordingObserver observer;
  SchedulerOptions options = Options();
  options.removed = {"old"};
  auto scheduler = MakeScheduler({Cert("web")}, options, &observer);
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  auto seen = observer.seen();
  ASSERT_EQ(seen.count("api"), 1u);
  EXPECT_EQ(seen["api"].first, start_ + 30 * kDay);
  EXPECT_EQ(seen["api"].second, start_ + 20 * kDay);
  EXPECT_EQ(seen.count("old"), 0u);  // removed on purpose
  // Watched, not ordered.
  for (const PassReport::Entry& e : report.attempted) {
    EXPECT_NE(e.certificate, "api");
  }
}

TEST_F(SchedulerPassTest, RequestedRenewalIsOrderedUntilItSucceeds) {
  config::CertificateConfig web = Cert("web");
  StoreVersion(web, start_ + 50 * kDay);
  // certfleetctl renew: renew_at = InfinitePast, backoff lifted, now.
  ASSERT_OK(store_.PutCertificateState({.name = "web",
                                        .renew_at = absl::InfinitePast(),
                                        .updated_at = clock_.Now()}));
  orders_.Script("web", {absl::UnavailableError("CA down")});
  auto scheduler = MakeScheduler({web});
  ASSERT_OK_AND_ASSIGN(PassReport failed, scheduler->RunPass(ctx_));
  ASSERT_THAT(failed.attempted, ElementsAre(Attempt("web", "requested")));
  // The request survives the failure (and a restart: it is in the store).
  EXPECT_EQ(State("web").renew_at, absl::InfinitePast());
  EXPECT_EQ(State("web").consecutive_failures, 1);

  clock_.SetTime(State("web").next_attempt_at);
  ASSERT_OK_AND_ASSIGN(PassReport retried, scheduler->RunPass(ctx_));
  ASSERT_THAT(retried.attempted, ElementsAre(Attempt("web", "requested")));
  EXPECT_OK(retried.attempted[0].result);
  EXPECT_EQ(Latest("web").version, 2);
  EXPECT_EQ(State("web").renew_at, absl::InfiniteFuture());  // drawn next
}

// The leader stored a version for the request and died before recording
// that the request was met: the next pass orders nothing more.
TEST_F(SchedulerPassTest, ARequestMetByAVersionIssuedSinceOrdersNothing) {
  config::CertificateConfig web = Cert("web");
  StoreVersion(web, start_ + 50 * kDay);
  ASSERT_OK(store_.PutCertificateState({.name = "web",
                                        .renew_at = absl::InfinitePast(),
                                        .updated_at = clock_.Now()}));
  clock_.Advance(absl::Minutes(1));
  store::VersionRecord v =
      StoreVersion(web, clock_.Now() + FakeCertificateOrders::kLifetime);
  ASSERT_GT(v.created_at, State("web").updated_at);
  auto scheduler = MakeScheduler({web});
  ASSERT_OK_AND_ASSIGN(PassReport report, scheduler->RunPass(ctx_));
  EXPECT_THAT(report.attempted, ::testing::IsEmpty());
  EXPECT_THAT(orders_.runs(), ::testing::IsEmpty());
  EXPECT_GT(State("web").renew_at, clock_.Now());  // drawn for version 2
  EXPECT_LT(State("web").renew_at, absl::InfiniteFuture());
}

}  // namespace
}  // namespace certfleet::scheduler::testing
