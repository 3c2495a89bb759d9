// Rfc2136Provider against a real BIND9: adds, exact deletes, TSIG
// algorithms, rejected keys and update coalescing.
#include <thread>

#include "absl/strings/str_cat.h"
#include "coordinator/dns/providers/rfc2136_provider.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dns/bind_test_env.h"
#include "tests/harness/free_port.h"
#include "tests/harness/server_process.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::dns::testing::ProviderOptions;
using ::certfleet::dns::testing::TxtAt;
using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kZone[] = "example.test.";

Context Ctx() {
  return Context().WithDeadline(absl::Now() + absl::Seconds(10));
}

std::unique_ptr<Rfc2136Provider> MakeProvider(const Rfc2136Options& options) {
  auto p = Rfc2136Provider::Create("lab-bind", options);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

TEST(Rfc2136IntegrationTest, PresentAddsBothValuesAtOneNameInOneUpdate) {
  CF_SHARED_BIND(bind);
  auto provider = MakeProvider(ProviderOptions(bind, bind.keys()[0]));
  const std::string name = "_acme-challenge.both.example.test.";
  ASSERT_THAT(
      provider->Present(kZone, {{name, "wildcard-value"}, {name, "apex-value"}},
                        Ctx()),
      IsOk());
  EXPECT_EQ(provider->updates_sent(), 1);
  EXPECT_THAT(TxtAt(bind, name), ElementsAre("apex-value", "wildcard-value"));
}

TEST(Rfc2136IntegrationTest, CleanUpRemovesExactlyTheGivenValue) {
  CF_SHARED_BIND(bind);
  auto provider = MakeProvider(ProviderOptions(bind, bind.keys()[0]));
  const std::string name = "_acme-challenge.cleanup.example.test.";
  ASSERT_THAT(provider->Present(kZone, {{name, "keep"}, {name, "drop"}}, Ctx()),
              IsOk());
  ASSERT_THAT(provider->CleanUp(kZone, {{name, "drop"}}, Ctx()), IsOk());
  EXPECT_THAT(TxtAt(bind, name), ElementsAre("keep"));
  // Already gone is fine (RFC 2136 §3.4.2.4: deleting a missing RR is a
  // no-op).
  EXPECT_THAT(provider->CleanUp(kZone, {{name, "drop"}}, Ctx()), IsOk());
  ASSERT_THAT(provider->CleanUp(kZone, {{name, "keep"}}, Ctx()), IsOk());
  EXPECT_THAT(TxtAt(bind, name), IsEmpty());
}

TEST(Rfc2136IntegrationTest, ValuesLongerThan255BytesSurviveTheRoundTrip) {
  CF_SHARED_BIND(bind);
  auto provider = MakeProvider(ProviderOptions(bind, bind.keys()[0]));
  const std::string name = "_acme-challenge.long.example.test.";
  const std::string value(600, 'x');
  ASSERT_THAT(provider->Present(kZone, {{name, value}}, Ctx()), IsOk());
  EXPECT_THAT(TxtAt(bind, name), ElementsAre(value));
  ASSERT_THAT(provider->CleanUp(kZone, {{name, value}}, Ctx()), IsOk());
  EXPECT_THAT(TxtAt(bind, name), IsEmpty());
}

class TsigAlgorithmIntegrationTest
    : public ::testing::TestWithParam<const char*> {};

TEST_P(TsigAlgorithmIntegrationTest, UpdatesAreAcceptedAndRepliesVerified) {
  CF_SHARED_BIND(bind);
  auto key = bind.key(GetParam());
  ASSERT_THAT(key, IsOk());
  auto provider = MakeProvider(ProviderOptions(bind, *key));
  const std::string name =
      absl::StrCat("_acme-challenge.", GetParam(), ".example.test.");
  ASSERT_THAT(provider->Present(kZone, {{name, key->algorithm}}, Ctx()),
              IsOk());
  EXPECT_THAT(TxtAt(bind, name), ElementsAre(key->algorithm));
  ASSERT_THAT(provider->CleanUp(kZone, {{name, key->algorithm}}, Ctx()),
              IsOk());
  EXPECT_THAT(TxtAt(bind, name), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(All, TsigAlgorithmIntegrationTest,
                         ::testing::Values("certfleet", "k384", "k512"));

TEST(Rfc2136IntegrationTest, WrongSecretIsPermissionDeniedAndWritesNothing) {
  CF_SHARED_BIND(bind);
  Rfc2136Options options = ProviderOptions(bind, bind.keys()[0]);
  options.tsig_secret = "AAAAdRHgDrAU6QRZfAe8pZ4H+odiribZsWKLNvZjxxE=";
  auto provider = MakeProvider(options);
  const std::string name = "_acme-challenge.badsig.example.test.";
  EXPECT_THAT(
      provider->Present(kZone, {{name, "v"}}, Ctx()),
      StatusIs(
          absl::StatusCode::kPermissionDenied,
          AllOf(HasSubstr(absl::StrCat(
                    "rfc2136 provider \"lab-bind\": update of zone "
                    "example.test. at ",
                    bind.address(), " rejected: NOTAUTH, TSIG error BADSIG")),
                HasSubstr("wrong secret or algorithm"))));
  EXPECT_THAT(TxtAt(bind, name), IsEmpty());
}

TEST(Rfc2136IntegrationTest, UnknownKeyNameIsPermissionDeniedNamingIt) {
  CF_SHARED_BIND(bind);
  Rfc2136Options options = ProviderOptions(bind, bind.keys()[0]);
  options.tsig_key_name = "nokey";
  auto provider = MakeProvider(options);
  const std::string name = "_acme-challenge.badkey.example.test.";
  EXPECT_THAT(provider->Present(kZone, {{name, "v"}}, Ctx()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       AllOf(HasSubstr("rejected: NOTAUTH, TSIG error BADKEY"),
                             HasSubstr("does not know key \"nokey.\""))));
  EXPECT_THAT(TxtAt(bind, name), IsEmpty());
}

TEST(Rfc2136IntegrationTest, ZoneTheServerDoesNotServeIsFailedPrecondition) {
  CF_SHARED_BIND(bind);
  auto provider = MakeProvider(ProviderOptions(bind, bind.keys()[0]));
  EXPECT_THAT(
      provider->Present("elsewhere.test.",
                        {{"_acme-challenge.elsewhere.test.", "v"}}, Ctx()),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("update of zone elsewhere.test. at ")));
}

TEST(Rfc2136IntegrationTest, RecordOutsideTheZoneIsInvalidArgument) {
  CF_SHARED_BIND(bind);
  auto provider = MakeProvider(ProviderOptions(bind, bind.keys()[0]));
  EXPECT_THAT(
      provider->Present(kZone, {{"_acme-challenge.other.test.", "v"}}, Ctx()),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("_acme-challenge.other.test. is not in zone "
                         "example.test.")));
}

TEST(Rfc2136IntegrationTest, NothingListeningIsUnavailable) {
  CF_SHARED_BIND(bind);
  auto port = harness::PickFreePort();
  ASSERT_THAT(port, IsOk());
  Rfc2136Options options = ProviderOptions(bind, bind.keys()[0]);
  options.server = absl::StrCat("127.0.0.1:", *port);
  auto provider = MakeProvider(options);
  EXPECT_THAT(
      provider->Present(kZone, {{"_acme-challenge.example.test.", "v"}}, Ctx()),
      StatusIs(
          absl::StatusCode::kUnavailable,
          AllOf(HasSubstr(options.server), HasSubstr("connection refused"))));
}

TEST(Rfc2136IntegrationTest, ConcurrentCallsAreCoalescedIntoFewUpdates) {
  CF_SHARED_BIND(bind);
  auto provider = MakeProvider(ProviderOptions(bind, bind.keys()[0]));
  constexpr int kCalls = 50;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      results[i] = provider->Present(
          kZone,
          {{absl::StrCat("_acme-challenge.h", i, ".batch.example.test."),
            absl::StrCat("value-", i)}},
          Ctx());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCalls; ++i) EXPECT_THAT(results[i], IsOk()) << i;
  EXPECT_LT(provider->updates_sent(), kCalls);
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_THAT(TxtAt(bind, absl::StrCat("_acme-challenge.h", i,
                                         ".batch.example.test.")),
                ElementsAre(absl::StrCat("value-", i)));
  }
  RecordProperty("updates_sent", static_cast<int>(provider->updates_sent()));
}

}  // namespace
}  // namespace certfleet::dns
