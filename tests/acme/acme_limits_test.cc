// What the ACME client takes from a CA, bounded (a broken, hostile or
// impersonated CA): a Retry-After counts as at most a day, every request
// goes over https to the directory's host (or the issuer's allowed_hosts),
// and only a few alternate chains are downloaded. Against a scripted CA.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/acme/acme_client.h"
#include "coordinator/acme/url_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/acme/scripted_transport.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::acme {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::JsonResponse;
using ::certfleet::testing::ProblemResponse;
using ::certfleet::testing::ScriptedTransport;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kOrder[] =
    R"({"status":"processing","identifiers":[{"type":"dns","value":"a.test"}],)"
    R"("authorizations":["https://ca.test/authz/1"],)"
    R"("finalize":"https://ca.test/finalize/1"})";

class RecordingObserver : public AcmeObserver {
 public:
  void OnExchange(absl::string_view, int, absl::Duration) override {}
  void OnLimited(absl::string_view endpoint, absl::string_view limit) override {
    absl::MutexLock lock(&mu_);
    limited_.push_back(absl::StrCat(endpoint, " ", limit));
  }
  std::vector<std::string> limited() const {
    absl::MutexLock lock(&mu_);
    return limited_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> limited_ ABSL_GUARDED_BY(mu_);
};

class AcmeLimitsTest : public ::testing::Test {
 protected:
  AcmeLimitsTest() { Reset({}); }

  void Reset(AcmeClientOptions options) {
    options.directory_url = "https://ca.test/dir";
    client_ =
        std::make_unique<AcmeClient>(options, transport_, clock_, &observer_);
    client_->SetAccountKey(
        *crypto::PrivateKey::Generate(crypto::KeyType::kEc256),
        "https://ca.test/acct/1");
  }

  // Requests whose URL starts with `prefix`.
  int SentTo(const std::string& prefix) const {
    int n = 0;
    for (const HttpRequest& r : transport_.requests()) {
      if (r.url.rfind(prefix, 0) == 0) ++n;
    }
    return n;
  }

  FakeClock clock_;
  ScriptedTransport transport_;
  RecordingObserver observer_;
  std::unique_ptr<AcmeClient> client_;
  const Context ctx_ = Context::Background();
};

// --- Retry-After ---------------------------------------------------------

TEST(RetryAfterCapTest, ParsedValuesAreCappedAtADay) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  bool capped = true;
  EXPECT_EQ(*ParseRetryAfter("86400", now, &capped), now + absl::Hours(24));
  EXPECT_FALSE(capped);
  EXPECT_EQ(*ParseRetryAfter("31536000", now, &capped), now + kMaxRetryAfter);
  EXPECT_TRUE(capped);
  // An HTTP-date a year ahead, and a number no clock can reach.
  EXPECT_EQ(*ParseRetryAfter("Sat, 14 Nov 2026 22:13:20 GMT", now, &capped),
            now + absl::Hours(24));
  EXPECT_TRUE(capped);
  EXPECT_EQ(*ParseRetryAfter("9223372036854775807", now), now + kMaxRetryAfter);
  EXPECT_EQ(kMaxRetryAfter, absl::Hours(24));
}

TEST_F(AcmeLimitsTest, RateLimitAskingForAYearIsRetriedAfterADay) {
  transport_.On("/new-order", [](const HttpRequest&) {
    HttpResponse r = ProblemResponse(429, "rateLimited", "come back in a year");
    r.headers.emplace_back("retry-after", "31536000");
    return r;
  });
  const absl::Time t0 = clock_.Now();
  absl::StatusOr<Order> o = client_->NewOrder({"a.test"}, {}, ctx_);
  EXPECT_THAT(o, StatusIs(absl::StatusCode::kResourceExhausted,
                          HasSubstr("come back in a year")));
  ASSERT_TRUE(RetryAfterOf(o.status()).has_value());
  // What the scheduler persists as the next attempt: a day, not a year.
  EXPECT_EQ(*RetryAfterOf(o.status()), t0 + absl::Hours(24));
  EXPECT_THAT(observer_.limited(), ElementsAre("new-order retry_after_capped"));
}

TEST_F(AcmeLimitsTest, PollingAndRenewalInfoRetryAfterAreCapped) {
  transport_.On("/order/1", [](const HttpRequest&) {
    HttpResponse r = JsonResponse(200, kOrder);
    r.headers.emplace_back("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT");
    return r;
  });
  ASSERT_OK_AND_ASSIGN(Order order,
                       client_->GetOrder("https://ca.test/order/1", ctx_));
  ASSERT_TRUE(order.retry_after.has_value());
  EXPECT_EQ(*order.retry_after, clock_.Now() + kMaxRetryAfter);
  EXPECT_THAT(observer_.limited(), ElementsAre("order retry_after_capped"));
}

// --- URLs the CA hands out -----------------------------------------------

TEST_F(AcmeLimitsTest, OrderUrlOnAnotherHostIsRefusedUnsent) {
  transport_.On("/new-order", [](const HttpRequest&) {
    HttpResponse r = JsonResponse(201, kOrder);
    r.headers.emplace_back("location", "https://metadata.internal/order/1");
    return r;
  });
  ASSERT_OK_AND_ASSIGN(Order order, client_->NewOrder({"a.test"}, {}, ctx_));
  EXPECT_THAT(client_->GetOrder(order.url, ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("ACME order: refusing the URL "
                                       "\"https://metadata.internal/order/1\""),
                             HasSubstr("host metadata.internal is not the "
                                       "directory's"),
                             HasSubstr("the directory's host ca.test"))));
  EXPECT_EQ(SentTo("https://metadata.internal"), 0);
  EXPECT_THAT(observer_.limited(), ElementsAre("order url_refused"));
}

TEST_F(AcmeLimitsTest, PlainHttpAndTrickUrlsAreRefused) {
  for (const std::string url :
       {"http://ca.test/authz/1", "https://ca.test@evil.test/authz/1",
        "https://evil.test\\@ca.test/authz/1", "file:///etc/shadow",
        "https://ca.test.evil.test/authz/1", "https://[::1]/authz/1",
        "https://169.254.169.254/latest/meta-data/"}) {
    EXPECT_THAT(client_->GetAuthorization(url, ctx_),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         AllOf(HasSubstr(url), HasSubstr("ca.test"))))
        << url;
  }
  EXPECT_THAT(client_->GetAuthorization("http://ca.test/authz/1", ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(": not https;")));
  // Nothing left but the directory and the first nonce.
  for (const HttpRequest& r : transport_.requests()) {
    EXPECT_THAT(r.url, Not(HasSubstr("authz"))) << r.url;
  }
}

TEST_F(AcmeLimitsTest, DirectoryEntriesOnAnotherHostAreRefused) {
  transport_.On("/dir", [](const HttpRequest&) {
    return JsonResponse(
        200, R"({"newNonce":"https://ca.test/new-nonce",)"
             R"("newAccount":"https://ca.test/new-account",)"
             R"("newOrder":"http://10.0.0.1:8080/admin/new-order"})");
  });
  EXPECT_THAT(client_->NewOrder({"a.test"}, {}, ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("refusing the URL "
                                 "\"http://10.0.0.1:8080/admin/new-order\"")));
  EXPECT_EQ(SentTo("http://10.0.0.1"), 0);
}

TEST_F(AcmeLimitsTest, AllowedHostsAreReachedAndCaseDoesNotMatter) {
  Reset({.allowed_hosts = {"CDN.ca.test", "[2001:db8::7]"}});
  // Sent (the scripted CA knows no such path, hence its 404).
  EXPECT_THAT(client_->GetOrder("https://cdn.CA.test:8443/order/1", ctx_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->GetOrder("https://[2001:DB8::7]/order/1", ctx_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(SentTo("https://cdn.CA.test:8443/order/1"), 1);
  EXPECT_EQ(SentTo("https://[2001:DB8::7]/order/1"), 1);
  // Not http even there, and no other host.
  EXPECT_THAT(client_->GetOrder("http://cdn.ca.test/order/1", ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("or to the issuer's allowed_hosts "
                                 "(cdn.ca.test, 2001:db8::7)")));
  EXPECT_THAT(client_->GetOrder("https://other.test/order/1", ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(SentTo("http://cdn.ca.test"), 0);
  EXPECT_EQ(SentTo("https://other.test"), 0);
}

TEST(UrlPolicyTest, HttpDirectoryOnLoopbackKeepsHttpThere) {
  ASSERT_OK_AND_ASSIGN(UrlPolicy policy,
                       UrlPolicy::Create("http://127.0.0.1:14000/dir", {}));
  EXPECT_OK(policy.Check("http://127.0.0.1:14000/order/1"));
  EXPECT_OK(policy.Check("https://127.0.0.1:14001/order/1"));
  EXPECT_THAT(policy.Check("http://localhost:14000/order/1"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(UrlPolicy::Create("ftp://ca.test/dir", {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- Alternate chains ----------------------------------------------------

TEST_F(AcmeLimitsTest, OnlyTheFirstFewAlternateChainsAreDownloaded) {
  transport_.On("/cert/1", [](const HttpRequest&) {
    HttpResponse r{.status = 200, .body = "default chain"};
    for (int i = 1; i <= 10; ++i) {
      r.headers.emplace_back("link", absl::StrCat("<https://ca.test/cert/1/", i,
                                                  ">;rel=\"alternate\""));
    }
    // Repeats and the default chain itself are not counted twice.
    r.headers.emplace_back("link", "<https://ca.test/cert/1/1>;rel=alternate");
    r.headers.emplace_back("link", "<https://ca.test/cert/1>;rel=alternate");
    return r;
  });
  for (int i = 1; i <= 10; ++i) {
    transport_.On(absl::StrCat("/cert/1/", i), [i](const HttpRequest&) {
      return HttpResponse{.status = 200, .body = absl::StrCat("alternate ", i)};
    });
  }
  ASSERT_OK_AND_ASSIGN(
      std::vector<CertificateChain> chains,
      client_->DownloadCertificate("https://ca.test/cert/1", true, ctx_));
  ASSERT_THAT(chains, SizeIs(4));
  EXPECT_EQ(chains[0].pem, "default chain");
  EXPECT_EQ(chains[3].url, "https://ca.test/cert/1/3");
  EXPECT_EQ(transport_.Count("POST", "/cert/1"), 1);
  EXPECT_EQ(SentTo("https://ca.test/cert/1/"), 3);
  EXPECT_EQ(transport_.Count("POST", "/cert/1/4"), 0);
  EXPECT_THAT(observer_.limited(), Contains("certificate alternates_dropped"));

  // The bound is an option; 0 fetches none.
  Reset({.max_alternate_chains = 0});
  ASSERT_OK_AND_ASSIGN(chains, client_->DownloadCertificate(
                                   "https://ca.test/cert/1", true, ctx_));
  EXPECT_THAT(chains, SizeIs(1));
  EXPECT_EQ(SentTo("https://ca.test/cert/1/"), 3);
}

TEST_F(AcmeLimitsTest, AlternateChainOnAnotherHostIsLeftOut) {
  transport_.On("/cert/1", [](const HttpRequest&) {
    HttpResponse r{.status = 200, .body = "default chain"};
    r.headers.emplace_back("link",
                           "<https://evil.test/cert/1/1>;rel=\"alternate\"");
    r.headers.emplace_back("link", "<https://ca.test/cert/1/2>;rel=alternate");
    return r;
  });
  transport_.On("/cert/1/2", [](const HttpRequest&) {
    return HttpResponse{.status = 200, .body = "alternate 2"};
  });
  ASSERT_OK_AND_ASSIGN(
      std::vector<CertificateChain> chains,
      client_->DownloadCertificate("https://ca.test/cert/1", true, ctx_));
  ASSERT_THAT(chains, SizeIs(2));
  EXPECT_EQ(chains[1].url, "https://ca.test/cert/1/2");
  EXPECT_EQ(SentTo("https://evil.test"), 0);
  EXPECT_THAT(observer_.limited(), ElementsAre("certificate url_refused"));
}

}  // namespace
}  // namespace certfleet::acme
