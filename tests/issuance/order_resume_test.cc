// Resuming an order whose challenges were answered before a restart, at a
// scripted CA that keeps them "pending" (as a CA does while it validates,
// RFC 8555 §7.5.1): the runner waits instead of answering again, answers
// again only once an answer is long overdue, and keeps its TXT records
// while the CA may still look at them.
#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "common/crypto/kek.h"
#include "coordinator/dns/solver.h"
#include "coordinator/issuance/issuer.h"
#include "coordinator/issuance/order_runner.h"
#include "coordinator/store/memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/acme/scripted_transport.h"
#include "tests/dns/fakes.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::issuance {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::JsonResponse;
using ::certfleet::testing::ScriptedTransport;
using ::certfleet::testing::StatusIs;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kOrder[] = "https://ca.test/order/1";
constexpr char kChallenge[] = "https://ca.test/chal/1";

class OrderResumeTest : public ::testing::Test {
 protected:
  OrderResumeTest()
      : dns_(&clock_),
        provider_(
            std::make_shared<dns::testing::FakeDnsProvider>("fake", &dns_)),
        solver_({{provider_, {"example.test"}}}, dns_,
                {.resolvers = {"127.0.0.1:5300"},
                 .propagation_interval = absl::Seconds(1),
                 .propagation_timeout = absl::Seconds(10)},
                clock_),
        runner_(store_, kek_, solver_, clock_) {
    dns_.AddZone("example.test.");
    dns_.AddRecord(dns::testing::FakeDnsResolver::Ns("example.test.",
                                                     "ns1.example.test."));
    dns_.AddRecord(
        dns::testing::FakeDnsResolver::A("ns1.example.test.", "127.0.0.1"));
    cert_.name = "web";
    cert_.names = {"web.example.test"};
    cert_.issuer = "ca";

    auto transport = std::make_unique<ScriptedTransport>();
    ca_ = transport.get();
    ca_->On("/new-account", [](const acme::HttpRequest&) {
      acme::HttpResponse r = JsonResponse(201, R"({"status":"valid"})");
      r.headers.emplace_back("location", "https://ca.test/acct/1");
      return r;
    });
    // The CA is still validating: everything stays pending.
    ca_->On("/order/1", [](const acme::HttpRequest&) {
      return JsonResponse(200, R"({"status":"pending",
        "expires":"2027-02-01T00:00:00Z",
        "identifiers":[{"type":"dns","value":"web.example.test"}],
        "authorizations":["https://ca.test/authz/1"],
        "finalize":"https://ca.test/order/1/finalize"})");
    });
    ca_->On("/authz/1", [](const acme::HttpRequest&) {
      return JsonResponse(200, R"({"status":"pending",
        "identifier":{"type":"dns","value":"web.example.test"},
        "challenges":[{"type":"dns-01","url":"https://ca.test/chal/1",
                       "token":"tok-1","status":"pending"}]})");
    });
    ca_->On("/chal/1", [](const acme::HttpRequest&) {
      return JsonResponse(200, R"({"type":"dns-01","status":"pending",
        "url":"https://ca.test/chal/1","token":"tok-1"})");
    });
    config::IssuerConfig c;
    c.name = "ca";
    c.directory_url = absl::StrCat(ScriptedTransport::kBase, "/dir");
    c.requests_per_second = 0;
    c.new_nonce_per_second = 0;
    c.new_orders_per_window = 0;
    c.order_timeout = absl::Minutes(3);
    issuer_ = std::make_unique<Issuer>(c, std::move(transport), clock_);
  }

  // The order as a coordinator left it when it was killed right after
  // answering, `ago` before now.
  void StoreAnsweredOrder(absl::Duration ago, bool legacy = false) {
    store::OrderRecord rec{.cert_name = "web",
                           .issuer = "ca",
                           .order_url = kOrder,
                           .spec_fingerprint = SpecFingerprint(cert_),
                           .names = cert_.names,
                           .key_type = "ec256",
                           .stage = "answered",
                           .created_at = clock_.Now() - ago,
                           .updated_at = clock_.Now() - ago};
    if (!legacy) {
      rec.answered_challenges = {kChallenge};
      rec.answered_at = clock_.Now() - ago;
    }
    ASSERT_OK(store_.PutOrder(rec));
  }

  absl::StatusOr<store::VersionRecord> Run() {
    return runner_.Run(cert_, *issuer_, "", Context::Background());
  }

  int Answers() const { return ca_->Count("POST", "/chal/1"); }

  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000),
                   FakeClock::Mode::kAutoAdvance};
  store::InMemoryStore store_;
  crypto::Kek kek_ = crypto::Kek::FromBytes(crypto::RandomBytes(32));
  dns::testing::FakeDnsResolver dns_;
  std::shared_ptr<dns::testing::FakeDnsProvider> provider_;
  dns::Dns01Solver solver_;
  OrderRunner runner_;
  config::CertificateConfig cert_;
  ScriptedTransport* ca_ = nullptr;
  std::unique_ptr<Issuer> issuer_;
};

TEST_F(OrderResumeTest, AnAnsweredChallengeIsAwaitedNotAnsweredAgain) {
  StoreAnsweredOrder(absl::Minutes(1));
  // The CA never finishes here: the order times out and is kept.
  EXPECT_THAT(Run(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(Answers(), 0);
  // Its TXT record stays while the CA may still validate it, and the order
  // stays to be resumed.
  EXPECT_THAT(provider_->records(), Not(IsEmpty()));
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> kept,
                       store_.GetOrder("web"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->order_url, kOrder);
  EXPECT_THAT(kept->dns_records, Not(IsEmpty()));
  EXPECT_EQ(kept->answered_challenges, std::vector<std::string>{kChallenge});
}

TEST_F(OrderResumeTest, AnOrderFromBeforeAnswersWereRecordedWaitsToo) {
  StoreAnsweredOrder(absl::Minutes(1), /*legacy=*/true);
  EXPECT_THAT(Run(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(Answers(), 0);
}

TEST_F(OrderResumeTest, AnAnswerStillPendingLongAfterIsSentAgain) {
  // Recorded, then killed before the answer left: 11 minutes on, the
  // challenge is still pending, so the CA never got it.
  StoreAnsweredOrder(absl::Minutes(11));
  EXPECT_THAT(Run(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(Answers(), 1);
  ASSERT_OK_AND_ASSIGN(std::optional<store::OrderRecord> kept,
                       store_.GetOrder("web"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_GT(kept->answered_at, clock_.Now() - absl::Minutes(5));
}

TEST_F(OrderResumeTest, AFreshOrderRecordsItsAnswerBeforeSendingIt) {
  ca_->On("/new-order", [](const acme::HttpRequest&) {
    acme::HttpResponse r = JsonResponse(201, R"({"status":"pending",
        "expires":"2027-02-01T00:00:00Z",
        "identifiers":[{"type":"dns","value":"web.example.test"}],
        "authorizations":["https://ca.test/authz/1"],
        "finalize":"https://ca.test/order/1/finalize"})");
    r.headers.emplace_back("location", kOrder);
    return r;
  });
  // What the store holds when the answer arrives at the CA.
  std::optional<store::OrderRecord> at_answer;
  ca_->On("/chal/1", [&](const acme::HttpRequest&) {
    absl::StatusOr<std::optional<store::OrderRecord>> r =
        store_.GetOrder("web");
    if (r.ok()) at_answer = *r;
    return JsonResponse(200, R"({"type":"dns-01","status":"pending",
        "url":"https://ca.test/chal/1","token":"tok-1"})");
  });
  EXPECT_THAT(Run(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(Answers(), 1);
  ASSERT_TRUE(at_answer.has_value());
  EXPECT_EQ(at_answer->stage, "answered");
  EXPECT_EQ(at_answer->answered_challenges,
            std::vector<std::string>{kChallenge});
  // A second run (a restart) waits for the CA.
  EXPECT_THAT(Run(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(Answers(), 1);
}

}  // namespace
}  // namespace certfleet::issuance
