// ParseDnsReply: the parsing half of LdnsResolver::Query, on hand-made wire
// bytes (RFC 1035 §4.1) — owner names canonical through compression
// pointers, TXT character-strings joined, the EDNS extended RCODE folded
// in, records of other types skipped, and bytes that are not a DNS message
// refused.
#include <string>

#include "coordinator/dns/ldns_resolver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certfleet::dns {
namespace {

using ::testing::ElementsAre;

// A reply to "Example.Test. TXT" with `answers` answer records after the
// question (whose owner names point back at the question's name, 0xc00c).
std::string Reply(int answers, const std::string& records) {
  std::string m("\x12\x34\x84\x00\x00\x01\x00", 7);
  m.push_back(static_cast<char>(answers));
  m.append("\x00\x00\x00\x00", 4);
  m.append(
      "\x07"
      "Example"
      "\x04"
      "Test"
      "\x00",
      14);
  m.append("\x00\x10\x00\x01", 4);  // TXT IN
  return m + records;
}

TEST(ParseDnsReplyTest, ReadsTxtAndCnameRecords) {
  std::string txt("\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c\x00\x07", 12);
  txt.append(
      "\x03"
      "abc"
      "\x02"
      "de",
      7);  // two character-strings
  std::string cname("\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x06", 12);
  cname.append(
      "\x04"
      "Next"
      "\xc0\x0c",
      7);
  std::string mx("\xc0\x0c\x00\x0f\x00\x01\x00\x00\x00\x3c\x00\x04", 12);
  mx.append("\x00\x0a\xc0\x0c", 4);  // skipped: not a type DNS-01 needs
  const std::optional<DnsAnswer> a = ParseDnsReply(Reply(3, txt + cname + mx));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->rcode, kRcodeNoError);
  EXPECT_TRUE(a->authoritative);
  EXPECT_THAT(a->answer, ElementsAre(Rr{.name = "example.test.",
                                        .type = RrType::kTXT,
                                        .ttl = 60,
                                        .data = "abcde"},
                                     Rr{.name = "example.test.",
                                        .type = RrType::kCNAME,
                                        .ttl = 60,
                                        .data = "next.example.test."}));
}

TEST(ParseDnsReplyTest, FoldsTheExtendedRcodeIn) {
  // OPT (RFC 6891 §6.1.3): extended RCODE 1 over a header RCODE of 0 is 16.
  std::string m = Reply(0, std::string("\x00\x00\x29\x04\xd0\x01\x00\x00\x00"
                                       "\x00\x00",
                                       11));
  m[11] = 1;  // ARCOUNT
  const std::optional<DnsAnswer> a = ParseDnsReply(m);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->rcode, 16);
}

TEST(ParseDnsReplyTest, RefusesWhatIsNotADnsMessage) {
  EXPECT_FALSE(ParseDnsReply("").has_value());
  EXPECT_FALSE(ParseDnsReply("\x12\x34\x84").has_value());
  // One answer announced, none present.
  EXPECT_FALSE(ParseDnsReply(Reply(1, "")).has_value());
  // A compression pointer to itself.
  EXPECT_FALSE(
      ParseDnsReply(
          Reply(1, std::string(
                       "\xc0\x1e\x00\x10\x00\x01\x00\x00\x00\x3c\x00\x00", 12)))
          .has_value());
}

}  // namespace
}  // namespace certfleet::dns
