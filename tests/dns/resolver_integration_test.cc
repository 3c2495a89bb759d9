// LdnsResolver against BIND9: answers, NXDOMAIN, truncation to TCP, and the
// errors of a server that is not there.
#include "absl/strings/str_cat.h"
#include "coordinator/dns/ldns_resolver.h"
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
using ::certfleet::testing::IsOk;
using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

Context Ctx() {
  return Context().WithDeadline(absl::Now() + absl::Seconds(10));
}

TEST(ResolverIntegrationTest, AnswersCarryRecordsAndFlags) {
  CF_SHARED_BIND(bind);
  LdnsResolver resolver({.recursion_desired = false});
  auto soa =
      resolver.Query("Example.Test", RrType::kSOA, bind.address(), Ctx());
  ASSERT_THAT(soa, IsOk());
  EXPECT_EQ(soa->rcode, kRcodeNoError);
  EXPECT_TRUE(soa->authoritative);
  ASSERT_THAT(soa->answer, SizeIs(1));
  EXPECT_EQ(soa->answer[0],
            (Rr{"example.test.", RrType::kSOA, 60, "ns1.example.test."}));

  auto ns = resolver.Query("example.test.", RrType::kNS, bind.address(), Ctx());
  ASSERT_THAT(ns, IsOk());
  EXPECT_THAT(ns->answer, ElementsAre(Rr{"example.test.", RrType::kNS, 60,
                                         "ns1.example.test."}));
  EXPECT_THAT(ns->additional, ElementsAre(Rr{"ns1.example.test.", RrType::kA,
                                             60, "127.0.0.1"}));

  auto cname = resolver.Query("_acme-challenge.delegated.example.test.",
                              RrType::kCNAME, bind.address(), Ctx());
  ASSERT_THAT(cname, IsOk());
  EXPECT_THAT(
      cname->answer,
      ElementsAre(Rr{"_acme-challenge.delegated.example.test.", RrType::kCNAME,
                     60, "_acme-challenge.delegated.validation.test."}));

  auto missing = resolver.Query("nothing.example.test.", RrType::kTXT,
                                bind.address(), Ctx());
  ASSERT_THAT(missing, IsOk());
  EXPECT_EQ(missing->rcode, kRcodeNxDomain);
  EXPECT_THAT(missing->answer, IsEmpty());
  ASSERT_THAT(missing->authority, SizeIs(1));
  EXPECT_EQ(missing->authority[0].name, "example.test.");
  EXPECT_EQ(missing->authority[0].type, RrType::kSOA);
}

TEST(ResolverIntegrationTest, TruncatedAnswerIsFetchedOverTcp) {
  CF_SHARED_BIND(bind);
  auto provider = Rfc2136Provider::Create(
      "lab-bind", ProviderOptions(bind, bind.keys()[0]));
  ASSERT_THAT(provider, IsOk());
  const std::string name = "_acme-challenge.many.example.test.";
  std::vector<TxtRecord> records;
  for (int i = 0; i < 60; ++i) {
    // 43 characters, like a real DNS-01 value: 60 of them exceed 1232 bytes.
    records.push_back({name, absl::StrCat(std::string(40, 'v'), 100 + i)});
  }
  ASSERT_THAT((*provider)->Present("example.test.", records, Ctx()), IsOk());
  LdnsResolver resolver({.recursion_desired = false});
  auto a = resolver.Query(name, RrType::kTXT, bind.address(), Ctx());
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->answer, SizeIs(60));
}

TEST(ResolverIntegrationTest, ClosedPortIsUnavailableNamingTheServer) {
  auto port = harness::PickFreePort();
  ASSERT_THAT(port, IsOk());
  const std::string server = absl::StrCat("127.0.0.1:", *port);
  LdnsResolver resolver;
  EXPECT_THAT(
      resolver.Query("example.test.", RrType::kSOA, server, Ctx()),
      StatusIs(absl::StatusCode::kUnavailable,
               AllOf(HasSubstr("DNS query example.test. SOA at " + server),
                     HasSubstr("no answer (connection refused)"),
                     HasSubstr("after 2 tries"))));
}

TEST(ResolverIntegrationTest, PassedDeadlineIsDeadlineExceeded) {
  CF_SHARED_BIND(bind);
  LdnsResolver resolver;
  EXPECT_THAT(
      resolver.Query("example.test.", RrType::kSOA, bind.address(),
                     Context().WithDeadline(absl::Now() - absl::Seconds(1))),
      StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr(bind.address())));
}

TEST(ResolverIntegrationTest, HostNamesAreRefusedInsteadOfResolved) {
  LdnsResolver resolver;
  EXPECT_THAT(
      resolver.Query("example.test.", RrType::kSOA, "localhost:53", Ctx()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("numeric IP")));
}

}  // namespace
}  // namespace certfleet::dns
