#include "coordinator/dns/propagation.h"

#include "absl/strings/str_cat.h"
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
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using FakeDns = ::certfleet::dns::testing::FakeDnsResolver;

constexpr char kResolver[] = "127.0.0.1:5300";
const TxtRecord kRecord{"_acme-challenge.example.test.", "abc"};

class PropagationTest : public ::testing::Test {
 protected:
  PropagationTest()
      : dns_(&clock_),
        finder_(dns_, {kResolver}, clock_),
        checker_(dns_, finder_,
                 {.resolvers = {kResolver},
                  .nameserver_port = 53,
                  .interval = absl::Seconds(2),
                  .timeout = absl::Seconds(10)},
                 clock_) {
    dns_.AddZone("example.test.");
    for (int i = 1; i <= 3; ++i) {
      const std::string host = absl::StrCat("ns", i, ".example.test.");
      dns_.AddRecord(FakeDns::Ns("example.test.", host));
      dns_.AddRecord(FakeDns::A(host, absl::StrCat("127.0.0.", i)));
    }
    start_ = clock_.Now();
  }

  // TXT queries sent to `server`, as offsets from the start.
  std::vector<absl::Duration> TxtQueryTimes(const std::string& server) {
    std::vector<absl::Duration> out;
    for (const auto& q : dns_.queries()) {
      if (q.type == RrType::kTXT && q.server == server) {
        out.push_back(q.time - start_);
      }
    }
    return out;
  }

  FakeClock clock_;
  FakeDns dns_;
  ZoneFinder finder_;
  PropagationChecker checker_;
  absl::Time start_;
};

TEST_F(PropagationTest, SucceedsAtOnceWhenEveryServerHasTheValue) {
  dns_.AddRecord(FakeDns::Txt(kRecord.fqdn, "other-order"));
  dns_.AddRecord(FakeDns::Txt(kRecord.fqdn, kRecord.value));
  auto waited = checker_.WaitForRecords({kRecord}, Context());
  ASSERT_THAT(waited, IsOk());
  EXPECT_EQ(*waited, absl::ZeroDuration());
  EXPECT_TRUE(clock_.sleeps().empty());
  for (const char* s : {"127.0.0.1:53", "127.0.0.2:53", "127.0.0.3:53"}) {
    EXPECT_THAT(TxtQueryTimes(s), ElementsAre(absl::ZeroDuration())) << s;
  }
}

TEST_F(PropagationTest, PollsEveryIntervalUntilTheLastServerHasIt) {
  dns_.AddRecord(FakeDns::Txt(kRecord.fqdn, kRecord.value));
  // ns2 lags: it serves the new value only from t+5s.
  dns_.SetHandler(
      [&](const std::string& name, RrType type, const std::string& server)
          -> std::optional<absl::StatusOr<DnsAnswer>> {
        if (server != "127.0.0.2:53" || type != RrType::kTXT ||
            clock_.Now() >= start_ + absl::Seconds(5)) {
          return std::nullopt;
        }
        DnsAnswer a;
        a.authoritative = true;
        a.answer.push_back(FakeDns::Txt(name, "old-value"));
        return a;
      });
  auto waited = checker_.WaitForRecords({kRecord}, Context());
  ASSERT_THAT(waited, IsOk());
  EXPECT_EQ(*waited, absl::Seconds(6));
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Seconds(2), absl::Seconds(2),
                                           absl::Seconds(2)));
  EXPECT_THAT(TxtQueryTimes("127.0.0.2:53"),
              ElementsAre(absl::ZeroDuration(), absl::Seconds(2),
                          absl::Seconds(4), absl::Seconds(6)));
  // Servers that were ready are not asked again.
  EXPECT_THAT(TxtQueryTimes("127.0.0.1:53"), ElementsAre(absl::ZeroDuration()));
}

TEST_F(PropagationTest, TimeoutNamesEachServerNotReadyAndWhatItAnswered) {
  dns_.AddRecord(FakeDns::Txt(kRecord.fqdn, kRecord.value));
  dns_.AddRecordAt("127.0.0.2:53", FakeDns::Txt("ignored.example.test.", "x"));
  dns_.SetHandler(
      [](const std::string& name, RrType type, const std::string& server)
          -> std::optional<absl::StatusOr<DnsAnswer>> {
        if (server != "127.0.0.2:53" || type != RrType::kTXT)
          return std::nullopt;
        DnsAnswer a;
        a.authoritative = true;
        a.answer.push_back(FakeDns::Txt(name, "old-value"));
        return a;
      });
  dns_.SetServerDown("127.0.0.3:53", true);
  auto waited = checker_.WaitForRecords({kRecord}, Context());
  EXPECT_THAT(
      waited,
      StatusIs(absl::StatusCode::kDeadlineExceeded,
               "DNS propagation timed out after 10s: "
               "_acme-challenge.example.test. TXT \"abc\" not seen at "
               "ns2.example.test. (127.0.0.2:53): answered \"old-value\"; at "
               "ns3.example.test. (127.0.0.3:53): no answer (timeout)"));
  EXPECT_EQ(clock_.Now() - start_, absl::Seconds(10));
  // Immediately, then every 2 s, and a last look at the deadline.
  EXPECT_EQ(TxtQueryTimes("127.0.0.2:53").front(), absl::ZeroDuration());
  EXPECT_EQ(TxtQueryTimes("127.0.0.2:53").size(), 6u);
}

TEST_F(PropagationTest, ShorterContextDeadlineWins) {
  dns_.SetServerDown("127.0.0.3:53", true);
  const Context ctx = Context().WithDeadline(start_ + absl::Seconds(3));
  EXPECT_THAT(checker_.WaitForRecords({kRecord}, ctx),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       AllOf(HasSubstr("timed out after 3s"),
                             HasSubstr("ns1.example.test. (127.0.0.1:53): "
                                       "answered NXDOMAIN"))));
}

TEST_F(PropagationTest, CancellationStopsTheWait) {
  auto cancel = std::make_shared<Cancellation>();
  cancel->Cancel();
  EXPECT_THAT(
      checker_.WaitForRecords({kRecord}, Context().WithCancellation(cancel)),
      StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(PropagationTest, ResolvesNameServersWithoutGlue) {
  dns_.AddRecord(FakeDns::Txt(kRecord.fqdn, kRecord.value));
  dns_.SetHandler(
      [](const std::string& name, RrType type,
         const std::string&) -> std::optional<absl::StatusOr<DnsAnswer>> {
        if (type != RrType::kNS) return std::nullopt;
        DnsAnswer a;
        a.authoritative = true;
        a.answer.push_back(FakeDns::Ns(name, "ns1.example.test."));
        return a;  // no additional section
      });
  ASSERT_THAT(checker_.WaitForRecords({kRecord}, Context()), IsOk());
  EXPECT_EQ(dns_.QueryCount("ns1.example.test.", RrType::kA), 1);
  EXPECT_THAT(TxtQueryTimes("127.0.0.1:53"), ElementsAre(absl::ZeroDuration()));
  EXPECT_TRUE(TxtQueryTimes("127.0.0.2:53").empty());
}

TEST_F(PropagationTest, ZoneWithoutNameServersTimesOutSayingSo) {
  dns_.AddZone("bare.test.");
  EXPECT_THAT(
      checker_.WaitForRecords({{"_acme-challenge.bare.test.", "v"}}, Context()),
      StatusIs(absl::StatusCode::kDeadlineExceeded,
               HasSubstr("_acme-challenge.bare.test. TXT \"v\": name "
                         "servers of zone bare.test. unknown: zone "
                         "bare.test. has no NS records")));
}

TEST_F(PropagationTest, NameServersAreCachedAcrossCalls) {
  dns_.AddRecord(FakeDns::Txt(kRecord.fqdn, kRecord.value));
  ASSERT_THAT(checker_.WaitForRecords({kRecord}, Context()), IsOk());
  ASSERT_THAT(checker_.WaitForRecords({kRecord}, Context()), IsOk());
  EXPECT_EQ(dns_.QueryCount("example.test.", RrType::kNS), 1);
}

TEST_F(PropagationTest, SameValueTwiceIsCheckedOnce) {
  dns_.AddRecord(FakeDns::Txt(kRecord.fqdn, kRecord.value));
  ASSERT_THAT(checker_.WaitForRecords({kRecord, kRecord}, Context()), IsOk());
  EXPECT_EQ(TxtQueryTimes("127.0.0.1:53").size(), 1u);
}

}  // namespace
}  // namespace certfleet::dns
