// AcmeClient's error handling and pacing against a scripted CA and a fake
// clock: nonces, badNonce, rate limits, Retry-After, backoff, polling.
#include "coordinator/acme/acme_client.h"

#include "absl/strings/str_format.h"
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
using ::certfleet::testing::ProtectedHeader;
using ::certfleet::testing::ScriptedTransport;
using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kOrderJson[] =
    R"({"status":"%s","identifiers":[{"type":"dns","value":"a.test"}],)"
    R"("authorizations":["https://ca.test/authz/1"],)"
    R"("finalize":"https://ca.test/finalize/1"%s})";

std::string OrderJson(const std::string& status,
                      const std::string& extra = "") {
  return absl::StrFormat(kOrderJson, status, extra);
}

class AcmeClientTest : public ::testing::Test {
 protected:
  AcmeClientTest() { Reset({}); }

  void Reset(AcmeClientOptions options) {
    options.directory_url = "https://ca.test/dir";
    client_ = std::make_unique<AcmeClient>(options, transport_, clock_);
    client_->SetAccountKey(
        *crypto::PrivateKey::Generate(crypto::KeyType::kEc256),
        "https://ca.test/acct/1");
  }

  int Posts(const std::string& path) { return transport_.Count("POST", path); }

  FakeClock clock_;
  ScriptedTransport transport_;
  std::unique_ptr<AcmeClient> client_;
  const Context ctx_ = Context::Background();
};

TEST_F(AcmeClientTest, NoncesComeFromResponsesNotFromNewNonce) {
  transport_.On("/order/1", [](const HttpRequest&) {
    return JsonResponse(200, OrderJson("pending"));
  });
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(client_->GetOrder("https://ca.test/order/1", ctx_));
  }
  // One HEAD for the very first nonce; every later one came from a response.
  EXPECT_EQ(transport_.Count("HEAD", "/new-nonce"), 1);
  EXPECT_EQ(Posts("/order/1"), 5);
  // Each request used the nonce from the previous response.
  const auto nonces = transport_.issued_nonces();
  const auto requests = transport_.requests();
  int posts_seen = 0;
  for (const HttpRequest& r : requests) {
    if (r.method != "POST") continue;
    ++posts_seen;
    EXPECT_THAT(ProtectedHeader(r.body), HasSubstr(R"("nonce":"nonce-)"));
    EXPECT_THAT(ProtectedHeader(r.body),
                HasSubstr(R"("kid":"https://ca.test/acct/1")"));
  }
  EXPECT_EQ(posts_seen, 5);
}

TEST_F(AcmeClientTest, BadNonceIsRetriedWithTheFreshNonce) {
  int calls = 0;
  transport_.On("/order/1", [&](const HttpRequest&) {
    return ++calls <= 2 ? ProblemResponse(400, "badNonce", "stale nonce")
                        : JsonResponse(200, OrderJson("ready"));
  });
  ASSERT_OK_AND_ASSIGN(Order o,
                       client_->GetOrder("https://ca.test/order/1", ctx_));
  EXPECT_EQ(o.status, AcmeStatus::kReady);
  EXPECT_EQ(calls, 3);
  // No extra HEAD: the error responses carried the nonces.
  EXPECT_EQ(transport_.Count("HEAD", "/new-nonce"), 1);
  EXPECT_TRUE(clock_.sleeps().empty());
}

// RFC 8555 §7.1.6: a status outside the RFC's is refused where the JSON is
// read, naming it and the object; so is an authorization without one.
TEST_F(AcmeClientTest, UnknownStatusIsRefusedNamingItAndTheObject) {
  transport_.On("/order/1", [](const HttpRequest&) {
    return JsonResponse(200, OrderJson("frozen"));
  });
  EXPECT_THAT(client_->GetOrder("https://ca.test/order/1", ctx_),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("CA sent an order with unknown status "
                                 "\"frozen\" at https://ca.test/order/1")));
  transport_.On("/authz/1", [](const HttpRequest&) {
    return JsonResponse(
        200,
        R"({"status":"pending","identifier":{"type":"dns","value":"a.test"},)"
        R"("challenges":[{"type":"dns-01","url":"https://ca.test/chal/1",)"
        R"("token":"t","status":"Valid"}]})");
  });
  EXPECT_THAT(client_->GetAuthorization("https://ca.test/authz/1", ctx_),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("CA sent a challenge with unknown status "
                                 "\"Valid\" at https://ca.test/chal/1")));
  transport_.On("/authz/2", [](const HttpRequest&) {
    return JsonResponse(
        200,
        R"({"identifier":{"type":"dns","value":"a.test"},"challenges":[]})");
  });
  EXPECT_THAT(client_->GetAuthorization("https://ca.test/authz/2", ctx_),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("CA sent a authorization without \"status\" "
                                 "at https://ca.test/authz/2")));
}

// Every status of RFC 8555 §7.1.6, by the name the CA sends.
TEST(AcmeStatusTest, EveryRfcStatusParsesBackToItsName) {
  for (const char* name : {"pending", "ready", "processing", "valid", "invalid",
                           "expired", "deactivated", "revoked"}) {
    std::optional<AcmeStatus> status = ParseAcmeStatus(name);
    ASSERT_TRUE(status.has_value()) << name;
    EXPECT_EQ(AcmeStatusName(*status), name);
  }
  EXPECT_EQ(ParseAcmeStatus(""), std::nullopt);
  EXPECT_EQ(ParseAcmeStatus("VALID"), std::nullopt);
}

TEST_F(AcmeClientTest, RateLimitedGoesUpWithItsRetryAfter) {
  transport_.On("/new-order", [](const HttpRequest&) {
    HttpResponse r =
        ProblemResponse(429, "rateLimited", "too many new orders recently");
    r.headers.emplace_back("retry-after", "3600");
    return r;
  });
  const absl::Time t0 = clock_.Now();
  absl::StatusOr<Order> o = client_->NewOrder({"a.test"}, {}, ctx_);
  EXPECT_THAT(o,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("rateLimited: too many new orders recently")));
  ASSERT_TRUE(RetryAfterOf(o.status()).has_value());
  EXPECT_EQ(*RetryAfterOf(o.status()), t0 + absl::Hours(1));
  // Not slept through inside the call, not repeated.
  EXPECT_EQ(Posts("/new-order"), 1);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(AcmeClientTest, ServiceUnavailableHonoursAShortRetryAfter) {
  int calls = 0;
  transport_.On("/authz/1", [&](const HttpRequest&) {
    if (++calls == 1) {
      HttpResponse r = ProblemResponse(503, "serverInternal", "maintenance");
      r.headers.emplace_back("retry-after", "2");
      return r;
    }
    return JsonResponse(
        200,
        R"({"status":"valid","identifier":{"type":"dns","value":"a.test"},"challenges":[]})");
  });
  ASSERT_OK(client_->GetAuthorization("https://ca.test/authz/1", ctx_));
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Seconds(2)));
}

TEST_F(AcmeClientTest, ServerErrorsBackOffWithJitterAndACap) {
  Reset({.max_transient_retries = 5,
         .transient_backoff = {.initial = absl::Seconds(1),
                               .max = absl::Seconds(4),
                               .jitter = 0.5}});
  transport_.On("/order/1", [](const HttpRequest&) {
    return ProblemResponse(500, "serverInternal", "database is down");
  });
  EXPECT_THAT(client_->GetOrder("https://ca.test/order/1", ctx_),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("serverInternal: database is down")));
  EXPECT_EQ(Posts("/order/1"), 6);
  const std::vector<absl::Duration> sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 5u);
  const absl::Duration caps[] = {absl::Seconds(1), absl::Seconds(2),
                                 absl::Seconds(4), absl::Seconds(4),
                                 absl::Seconds(4)};
  for (size_t i = 0; i < sleeps.size(); ++i) {
    EXPECT_GE(sleeps[i], caps[i] / 2) << i;
    EXPECT_LE(sleeps[i], caps[i]) << i;
  }
}

TEST_F(AcmeClientTest, PermanentErrorsAreTypedAndNotRetried) {
  struct Case {
    std::string type;
    int status;
    absl::StatusCode code;
  } cases[] = {
      {"malformed", 400, absl::StatusCode::kInvalidArgument},
      {"rejectedIdentifier", 400, absl::StatusCode::kFailedPrecondition},
      {"caa", 403, absl::StatusCode::kFailedPrecondition},
      {"unauthorized", 403, absl::StatusCode::kPermissionDenied},
      {"badCSR", 400, absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.type);
    const std::string path = "/order/" + c.type;
    transport_.On(path, [&](const HttpRequest&) {
      return ProblemResponse(c.status, c.type, "the CA's own words");
    });
    EXPECT_THAT(client_->GetOrder(std::string("https://ca.test") + path, ctx_),
                StatusIs(c.code, HasSubstr(c.type + ": the CA's own words")));
    EXPECT_EQ(Posts(path), 1);
  }
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(AcmeClientTest, SubproblemsNameTheIdentifiers) {
  transport_.On("/new-order", [](const HttpRequest&) {
    return JsonResponse(
        400,
        R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier",)"
        R"("detail":"some names are forbidden","subproblems":[)"
        R"({"type":"urn:ietf:params:acme:error:rejectedIdentifier",)"
        R"("detail":"policy forbids it","identifier":{"type":"dns","value":"bad.test"}}]})");
  });
  EXPECT_THAT(
      client_->NewOrder({"bad.test", "good.test"}, {}, ctx_),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("bad.test: rejectedIdentifier: policy forbids it")));
}

class FailingTransport : public HttpTransport {
 public:
  explicit FailingTransport(ScriptedTransport& inner) : inner_(inner) {}
  absl::StatusOr<HttpResponse> Send(const HttpRequest& r,
                                    const Context& ctx) override {
    if (r.method == "POST" && fail_next_ > 0) {
      --fail_next_;
      ++failed_;
      return absl::UnavailableError("connection reset");
    }
    return inner_.Send(r, ctx);
  }
  ScriptedTransport& inner_;
  int fail_next_ = 0;
  int failed_ = 0;
};

TEST_F(AcmeClientTest, LostResponsesAreRepeatedOnlyWhenSafe) {
  FailingTransport failing(transport_);
  AcmeClient client({.directory_url = "https://ca.test/dir"}, failing, clock_);
  client.SetAccountKey(*crypto::PrivateKey::Generate(crypto::KeyType::kEc256),
                       "https://ca.test/acct/1");
  transport_.On("/order/1", [](const HttpRequest&) {
    return JsonResponse(200, OrderJson("pending"));
  });
  transport_.On("/new-order", [](const HttpRequest&) {
    HttpResponse r = JsonResponse(201, OrderJson("pending"));
    r.headers.emplace_back("location", "https://ca.test/order/1");
    return r;
  });
  // POST-as-GET is safe to repeat.
  failing.fail_next_ = 1;
  EXPECT_OK(client.GetOrder("https://ca.test/order/1", ctx_));
  EXPECT_EQ(failing.failed_, 1);
  // A new order may have been created: not repeated, the caller decides.
  failing.fail_next_ = 1;
  EXPECT_THAT(
      client.NewOrder({"a.test"}, {}, ctx_),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connection reset")));
  EXPECT_EQ(transport_.Count("POST", "/new-order"), 0);
}

TEST_F(AcmeClientTest, PollingStartsFastAndBacksOff) {
  int calls = 0;
  transport_.On("/order/1", [&](const HttpRequest&) {
    return JsonResponse(200, OrderJson(++calls < 6 ? "pending" : "ready"));
  });
  ASSERT_OK_AND_ASSIGN(Order o, client_->PollOrder("https://ca.test/order/1",
                                                   {AcmeStatus::kReady}, ctx_));
  EXPECT_EQ(o.status, AcmeStatus::kReady);
  // A wait before every look, doubling.
  EXPECT_THAT(clock_.sleeps(),
              ElementsAre(absl::Milliseconds(15), absl::Milliseconds(30),
                          absl::Milliseconds(60), absl::Milliseconds(120),
                          absl::Milliseconds(240), absl::Milliseconds(480)));
}

TEST_F(AcmeClientTest, FirstPollWaitAdaptsToTheCa) {
  // This CA needs 100 ms. The first order takes several looks; after a few
  // orders the first look finds the order ready.
  absl::Time ready_at;
  transport_.On("/order/1", [&](const HttpRequest&) {
    return JsonResponse(
        200, OrderJson(clock_.Now() >= ready_at ? "ready" : "pending"));
  });
  std::vector<int> looks;
  for (int i = 0; i < 8; ++i) {
    const int before = Posts("/order/1");
    ready_at = clock_.Now() + absl::Milliseconds(100);
    ASSERT_OK(client_->PollOrder("https://ca.test/order/1",
                                 {AcmeStatus::kReady}, ctx_));
    looks.push_back(Posts("/order/1") - before);
  }
  EXPECT_EQ(looks[0], 3);  // at 15, 45, 105 ms
  EXPECT_THAT(std::vector<int>(looks.begin() + 3, looks.end()),
              ::testing::Each(1));
  // Another CA step (awaiting "valid") keeps its own estimate.
  transport_.On("/order/2", [](const HttpRequest&) {
    return JsonResponse(200, OrderJson("valid"));
  });
  const size_t before_valid = clock_.sleeps().size();
  ASSERT_OK(client_->PollOrder("https://ca.test/order/2", {AcmeStatus::kValid},
                               ctx_));
  EXPECT_EQ(clock_.sleeps()[before_valid], absl::Milliseconds(15));
}

TEST_F(AcmeClientTest, PollingHonoursRetryAfter) {
  int calls = 0;
  transport_.On("/order/1", [&](const HttpRequest&) {
    HttpResponse r =
        JsonResponse(200, OrderJson(++calls < 3 ? "processing" : "valid"));
    r.headers.emplace_back("retry-after", "3");
    return r;
  });
  ASSERT_OK(client_->PollOrder("https://ca.test/order/1", {AcmeStatus::kValid},
                               ctx_));
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Milliseconds(15),
                                           absl::Seconds(3), absl::Seconds(3)));
}

TEST_F(AcmeClientTest, PollingStopsAtTheDeadlineNamingTheState) {
  transport_.On("/order/1", [](const HttpRequest&) {
    return JsonResponse(200, OrderJson("processing"));
  });
  const Context ctx =
      Context::Background().WithDeadline(clock_.Now() + absl::Seconds(10));
  EXPECT_THAT(
      client_->PollOrder("https://ca.test/order/1", {AcmeStatus::kValid}, ctx),
      StatusIs(absl::StatusCode::kDeadlineExceeded,
               HasSubstr("still \"processing\"")));
  // It gave up without sleeping past the deadline.
  EXPECT_LE(clock_.Now(), ctx.deadline());
}

TEST_F(AcmeClientTest, InvalidOrderReportsTheChallengeError) {
  transport_.On("/order/1", [](const HttpRequest&) {
    return JsonResponse(200, OrderJson("invalid"));
  });
  transport_.On("/authz/1", [](const HttpRequest&) {
    return JsonResponse(
        200,
        R"({"status":"invalid","identifier":{"type":"dns","value":"a.test"},)"
        R"("challenges":[{"type":"dns-01","url":"https://ca.test/chal/1","token":"t",)"
        R"("status":"invalid","error":{"type":"urn:ietf:params:acme:error:unauthorized",)"
        R"("detail":"Incorrect TXT record \"x\" found at _acme-challenge.a.test"}}]})");
  });
  EXPECT_THAT(
      client_->PollOrder("https://ca.test/order/1", {AcmeStatus::kReady}, ctx_),
      StatusIs(
          absl::StatusCode::kFailedPrecondition,
          HasSubstr("a.test (dns-01): unauthorized: Incorrect TXT record")));
}

TEST_F(AcmeClientTest, RequestRateIsPacedByTheTokenBucket) {
  Reset({.requests_per_second = 10});
  transport_.On("/order/1", [](const HttpRequest&) {
    return JsonResponse(200, OrderJson("pending"));
  });
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 30; ++i) {
    ASSERT_OK(client_->GetOrder("https://ca.test/order/1", ctx_));
  }
  // 32 exchanges (directory, HEAD, 30 POSTs) at 10/s with a burst of 2.5:
  // at least 2.9 s must have passed.
  EXPECT_GE(clock_.Now() - t0, absl::Milliseconds(2900));
  EXPECT_LE(clock_.Now() - t0, absl::Milliseconds(3200));
}

TEST_F(AcmeClientTest, NewOrderWindowLimitRefusesWithTheNextSlot) {
  Reset({.new_orders_per_window = 2, .new_orders_window = absl::Hours(1)});
  transport_.On("/new-order", [](const HttpRequest&) {
    HttpResponse r = JsonResponse(201, OrderJson("pending"));
    r.headers.emplace_back("location", "https://ca.test/order/1");
    return r;
  });
  const absl::Time t0 = clock_.Now();
  ASSERT_OK(client_->NewOrder({"a.test"}, {}, ctx_));
  ASSERT_OK(client_->NewOrder({"a.test"}, {}, ctx_));
  absl::StatusOr<Order> third = client_->NewOrder({"a.test"}, {}, ctx_);
  EXPECT_THAT(third, StatusIs(absl::StatusCode::kResourceExhausted,
                              HasSubstr("2 new orders per 1h")));
  ASSERT_TRUE(RetryAfterOf(third.status()).has_value());
  EXPECT_GE(*RetryAfterOf(third.status()), t0 + absl::Hours(1));
  EXPECT_EQ(Posts("/new-order"), 2);
}

TEST_F(AcmeClientTest, AlreadyReplacedFallsBackToAPlainOrder) {
  std::vector<std::string> payloads;
  transport_.On("/new-order", [&](const HttpRequest& r) {
    payloads.push_back(r.body);
    if (payloads.size() == 1) {
      return ProblemResponse(409, "alreadyReplaced", "already replaced");
    }
    HttpResponse resp = JsonResponse(201, OrderJson("pending"));
    resp.headers.emplace_back("location", "https://ca.test/order/1");
    return resp;
  });
  ASSERT_OK(client_->NewOrder(
      {"a.test"}, {.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"}, ctx_));
  EXPECT_EQ(payloads.size(), 2u);
}

TEST_F(AcmeClientTest, NewAccountSignsWithJwkThenKid) {
  transport_.On("/new-account", [](const HttpRequest&) {
    HttpResponse r = JsonResponse(
        201, R"({"status":"valid","contact":["mailto:x@a.test"]})");
    r.headers.emplace_back("location", "https://ca.test/acct/7");
    return r;
  });
  transport_.On("/acct/7", [](const HttpRequest&) {
    return JsonResponse(200, R"({"status":"valid"})");
  });
  client_->SetAccountKey(
      *crypto::PrivateKey::Generate(crypto::KeyType::kEc384));
  ASSERT_OK_AND_ASSIGN(
      Account a, client_->NewAccount({.contacts = {"mailto:x@a.test"}}, ctx_));
  EXPECT_EQ(a.url, "https://ca.test/acct/7");
  EXPECT_EQ(client_->account_url(), "https://ca.test/acct/7");
  ASSERT_OK(client_->GetAccount(ctx_));
  std::vector<std::string> headers;
  for (const HttpRequest& r : transport_.requests()) {
    if (r.method == "POST") headers.push_back(ProtectedHeader(r.body));
  }
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_THAT(headers[0], HasSubstr(R"("alg":"ES384","jwk":{"crv":"P-384")"));
  EXPECT_THAT(headers[0], Not(HasSubstr("kid")));
  EXPECT_THAT(headers[1], HasSubstr(R"("kid":"https://ca.test/acct/7")"));
  EXPECT_THAT(headers[1], Not(HasSubstr("jwk")));
}

TEST(ProblemTest, RetryAfterFormats) {
  // An hour before the date below: within the one-day cap.
  const absl::Time now = absl::FromCivil(
      absl::CivilSecond(2015, 10, 21, 6, 28, 0), absl::UTCTimeZone());
  EXPECT_EQ(*ParseRetryAfter("120", now), now + absl::Seconds(120));
  EXPECT_EQ(*ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now),
            absl::FromCivil(absl::CivilSecond(2015, 10, 21, 7, 28, 0),
                            absl::UTCTimeZone()));
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", now).has_value());
}

TEST(ProblemTest, NonJsonBodiesKeepAnExcerpt) {
  HttpResponse r{.status = 502, .body = "<html>Bad Gateway</html>"};
  absl::Status s = ProblemStatus("new-order", r, absl::Now());
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("HTTP 502: error: <html>Bad Gateway</html>")));
}

TEST(ResourcesTest, LinkTargets) {
  const std::vector<std::string> headers = {
      R"(<https://ca.test/dir>;rel="index", <https://ca.test/cert/1/1>;rel="alternate")",
      R"(<https://ca.test/cert/1/2>; rel=alternate)",
      R"(<https://ca.test/other>;rel="up")"};
  EXPECT_THAT(
      LinkTargets(headers, "alternate"),
      ElementsAre("https://ca.test/cert/1/1", "https://ca.test/cert/1/2"));
  EXPECT_THAT(LinkTargets(headers, "index"),
              ElementsAre("https://ca.test/dir"));
}

TEST(ResourcesTest, OrderWithoutFinalizeIsAnErrorNamingTheUrl) {
  EXPECT_THAT(
      ParseOrder(R"({"status":"pending"})", "https://ca.test/order/9"),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("without \"finalize\" at https://ca.test/order/9")));
}

TEST(ResourcesTest, RenewalInfoWindow) {
  ASSERT_OK_AND_ASSIGN(
      RenewalInfo info,
      ParseRenewalInfo(
          R"({"suggestedWindow":{"start":"2025-01-02T04:00:00Z",)"
          R"("end":"2025-01-03T04:00:00Z"},"explanationURL":"https://ca.test/why"})"));
  EXPECT_EQ(info.window_end - info.window_start, absl::Hours(24));
  EXPECT_EQ(info.explanation_url, "https://ca.test/why");
  EXPECT_THAT(
      ParseRenewalInfo(R"({"suggestedWindow":{"start":"2025-01-03T04:00:00Z",)"
                       R"("end":"2025-01-02T04:00:00Z"}})"),
      StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace certfleet::acme
