#include "coordinator/dns/dns_name.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::dns {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(DnsNameTest, CanonicalNameLowersAndAddsOneDot) {
  EXPECT_EQ(CanonicalName("_ACME-Challenge.Example.TEST"),
            "_acme-challenge.example.test.");
  EXPECT_EQ(CanonicalName("example.test.."), "example.test.");
  EXPECT_EQ(CanonicalName(""), ".");
  EXPECT_EQ(CanonicalName("."), ".");
}

TEST(DnsNameTest, IsInZoneRespectsLabelBoundaries) {
  EXPECT_TRUE(IsInZone("a.example.test.", "example.test."));
  EXPECT_TRUE(IsInZone("example.test.", "example.test."));
  EXPECT_FALSE(IsInZone("badexample.test.", "example.test."));
  EXPECT_FALSE(IsInZone("test.", "example.test."));
  EXPECT_TRUE(IsInZone("anything.", "."));
}

TEST(DnsNameTest, ParentNameWalksToTheRoot) {
  EXPECT_EQ(ParentName("a.b.test."), "b.test.");
  EXPECT_EQ(ParentName("test."), ".");
  EXPECT_EQ(ParentName("."), "");
}

TEST(DnsNameTest, ParsesNumericAddressesOnly) {
  auto v4 = ParseHostPort("127.0.0.1:5353");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->ip, "127.0.0.1");
  EXPECT_EQ(v4->port, 5353);
  auto v6 = ParseHostPort("[::1]:53");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ip, "::1");
  EXPECT_EQ(JoinHostPort("::1", 53), "[::1]:53");
  EXPECT_EQ(JoinHostPort("127.0.0.2", 53), "127.0.0.2:53");
  EXPECT_THAT(
      ParseHostPort("ns1.example.test:53"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("numeric IP")));
  EXPECT_THAT(
      ParseHostPort("127.0.0.1"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ip:port")));
  EXPECT_THAT(ParseHostPort("127.0.0.1:0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
}

}  // namespace
}  // namespace certfleet::dns
