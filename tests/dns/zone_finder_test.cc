#include "coordinator/dns/zone_finder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dns/fakes.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using FakeDns = ::certfleet::dns::testing::FakeDnsResolver;

constexpr char kResolver[] = "127.0.0.1:53";

class ZoneFinderTest : public ::testing::Test {
 protected:
  ZoneFinderTest() : dns_(&clock_), finder_(dns_, {kResolver}, clock_) {
    dns_.AddZone("example.test.");
    dns_.AddZone("sub.example.test.");
    dns_.AddZone("validation.test.");
  }

  FakeClock clock_;
  FakeDns dns_;
  ZoneFinder finder_;
  Context ctx_;
};

TEST_F(ZoneFinderTest, NameWithoutCnameIsItsOwnTarget) {
  auto t = finder_.FollowCname("_acme-challenge.Example.test", ctx_);
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(*t, "_acme-challenge.example.test.");
}

TEST_F(ZoneFinderTest, FollowsAChainToItsEnd) {
  dns_.AddRecord(FakeDns::Cname("_acme-challenge.www.example.test.",
                                "www.validation.test."));
  dns_.AddRecord(
      FakeDns::Cname("www.validation.test.", "final.validation.test."));
  auto t = finder_.FollowCname("_acme-challenge.www.example.test.", ctx_);
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(*t, "final.validation.test.");
}

TEST_F(ZoneFinderTest, NegativeCnameAnswerRevealsTheZone) {
  // The CNAME lookup's NXDOMAIN carries the zone's SOA (RFC 2308 §3), so
  // finding the zone afterwards needs no SOA query.
  ASSERT_THAT(
      finder_.FollowCname("_acme-challenge.deep.sub.example.test.", ctx_),
      IsOk());
  auto zone = finder_.FindZone("_acme-challenge.deep.sub.example.test.", ctx_);
  ASSERT_THAT(zone, IsOk());
  EXPECT_EQ(*zone, "sub.example.test.");
  EXPECT_EQ(finder_.soa_queries(), 0);
}

TEST_F(ZoneFinderTest, CnameLoopIsAFailedPreconditionNamingTheChain) {
  dns_.AddRecord(FakeDns::Cname("a.example.test.", "b.example.test."));
  dns_.AddRecord(FakeDns::Cname("b.example.test.", "a.example.test."));
  EXPECT_THAT(finder_.FollowCname("a.example.test.", ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("CNAME loop: a.example.test. -> "
                                 "b.example.test. -> a.example.test.")));
}

TEST_F(ZoneFinderTest, ChainLongerThanEightHopsIsRejected) {
  for (int i = 0; i < 12; ++i) {
    dns_.AddRecord(
        FakeDns::Cname("h" + std::to_string(i) + ".example.test.",
                       "h" + std::to_string(i + 1) + ".example.test."));
  }
  EXPECT_THAT(finder_.FollowCname("h0.example.test.", ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("longer than 8 hops: h0.example.test. -> ")));
}

TEST_F(ZoneFinderTest, FindsApexFromTheAuthoritySoa) {
  auto z = finder_.FindZone("_acme-challenge.a.b.c.example.test.", ctx_);
  ASSERT_THAT(z, IsOk());
  EXPECT_EQ(*z, "example.test.");
  auto sub = finder_.FindZone("_acme-challenge.sub.example.test.", ctx_);
  ASSERT_THAT(sub, IsOk());
  EXPECT_EQ(*sub, "sub.example.test.");
  auto apex = finder_.FindZone("validation.test", ctx_);
  ASSERT_THAT(apex, IsOk());
  EXPECT_EQ(*apex, "validation.test.");
}

TEST_F(ZoneFinderTest, WalksUpWhenAServerGivesNoZoneInformation) {
  // A resolver that answers a CNAME'd name with the CNAME only.
  dns_.SetHandler(
      [](const std::string& name, RrType,
         const std::string&) -> std::optional<absl::StatusOr<DnsAnswer>> {
        if (name != "alias.example.test.") return std::nullopt;
        DnsAnswer a;
        a.answer.push_back(FakeDns::Cname(name, "elsewhere.validation.test."));
        return a;
      });
  auto z = finder_.FindZone("alias.example.test.", ctx_);
  ASSERT_THAT(z, IsOk());
  EXPECT_EQ(*z, "example.test.");
  EXPECT_EQ(dns_.QueryCount("alias.example.test.", RrType::kSOA), 1);
  EXPECT_EQ(dns_.QueryCount("example.test.", RrType::kSOA), 1);
}

TEST_F(ZoneFinderTest, CachesResultsUntilTheTtl) {
  ASSERT_THAT(finder_.FindZone("_acme-challenge.h1.example.test.", ctx_),
              IsOk());
  ASSERT_THAT(finder_.FindZone("_acme-challenge.h1.example.test.", ctx_),
              IsOk());
  EXPECT_EQ(finder_.soa_queries(), 1);
  // Another name costs one query, not a walk.
  ASSERT_THAT(finder_.FindZone("_acme-challenge.h2.example.test.", ctx_),
              IsOk());
  EXPECT_EQ(finder_.soa_queries(), 2);
  clock_.Advance(absl::Minutes(5) + absl::Seconds(1));
  ASSERT_THAT(finder_.FindZone("_acme-challenge.h1.example.test.", ctx_),
              IsOk());
  EXPECT_EQ(finder_.soa_queries(), 3);
}

TEST_F(ZoneFinderTest, CacheStaysBounded) {
  ZoneFinder small(dns_, {kResolver}, clock_, {.max_cache_entries = 10});
  for (int i = 0; i < 50; ++i) {
    ASSERT_THAT(
        small.FindZone("h" + std::to_string(i) + ".example.test.", ctx_),
        IsOk());
  }
  EXPECT_LE(small.cache_size(), 10u);
}

TEST_F(ZoneFinderTest, TriesTheNextResolverWhenOneIsUnavailable) {
  dns_.SetServerDown("127.0.0.9:53", true);
  ZoneFinder finder(dns_, {"127.0.0.9:53", kResolver}, clock_);
  auto z = finder.FindZone("x.example.test.", ctx_);
  ASSERT_THAT(z, IsOk());
  EXPECT_EQ(*z, "example.test.");
}

TEST_F(ZoneFinderTest, AllResolversDownIsUnavailableNamingThem) {
  dns_.SetServerDown("127.0.0.8:53", true);
  dns_.SetServerDown("127.0.0.9:53", true);
  ZoneFinder finder(dns_, {"127.0.0.8:53", "127.0.0.9:53"}, clock_);
  EXPECT_THAT(
      finder.FindZone("x.example.test.", ctx_),
      StatusIs(absl::StatusCode::kUnavailable,
               AllOf(HasSubstr("127.0.0.8:53"), HasSubstr("127.0.0.9:53"))));
}

TEST_F(ZoneFinderTest, NameInNoZoneIsAFailedPrecondition) {
  EXPECT_THAT(finder_.FindZone("_acme-challenge.other.invalid.", ctx_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no zone found for "
                                 "_acme-challenge.other.invalid.")));
}

}  // namespace
}  // namespace certfleet::dns
