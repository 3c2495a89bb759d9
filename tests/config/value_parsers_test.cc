// The value parsers behind the config loader: durations, ${VAR} expansion,
// DNS names and zones, IP endpoints, directory URLs, suggestions.
#include <map>
#include <string>

#include "common/yaml/addresses.h"
#include "common/yaml/duration.h"
#include "common/yaml/env_expand.h"
#include "common/yaml/yaml_reader.h"
#include "coordinator/config/dns_names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::config {
namespace {

using namespace ::certfleet::yaml;  // NOLINT: the generic parsers now in
                                    // common/yaml
using certfleet::testing::IsOk;
using certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(DurationTest, ParsesAbslUnitsAndDays) {
  EXPECT_EQ(*ParseConfigDuration("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseConfigDuration("30s"), absl::Seconds(30));
  EXPECT_EQ(*ParseConfigDuration("10m"), absl::Minutes(10));
  EXPECT_EQ(*ParseConfigDuration("12h"), absl::Hours(12));
  EXPECT_EQ(*ParseConfigDuration("30d"), absl::Hours(720));
  EXPECT_EQ(*ParseConfigDuration("1.5d"), absl::Hours(36));
  EXPECT_EQ(*ParseConfigDuration("1d12h30m"),
            absl::Hours(36) + absl::Minutes(30));
  EXPECT_EQ(*ParseConfigDuration(" 1h30m "), absl::Minutes(90));
  EXPECT_EQ(*ParseConfigDuration("0"), absl::ZeroDuration());
  EXPECT_EQ(*ParseConfigDuration("-2d"), -absl::Hours(48));
}

TEST(DurationTest, RefusesWhatIsNotADuration) {
  for (const char* bad :
       {"", "30", "d", "5x", "1h-5m", "inf", "ten minutes", "1..5s", "-"}) {
    EXPECT_THAT(ParseConfigDuration(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         absl::StrCat("\"", bad,
                                      "\" is not a duration (write a number "
                                      "and a unit: 250ms, 30s, 10m, 12h, "
                                      "30d)")))
        << bad;
  }
}

TEST(DurationTest, FlagDurationsMustBePositive) {
  EXPECT_EQ(*ParsePositiveDurationFlag("--ttl", "1d"), absl::Hours(24));
  EXPECT_THAT(ParsePositiveDurationFlag("--ttl", "0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--ttl: must be positive, got \"0\""));
  EXPECT_THAT(ParsePositiveDurationFlag("--timeout", "-5s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--timeout: must be positive, got \"-5s\""));
  EXPECT_THAT(ParsePositiveDurationFlag("--ttl", "30"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--ttl: \"30\" is not a duration (write a number and "
                       "a unit: 250ms, 30s, 10m, 12h, 30d)"));
}

TEST(DurationTest, FormatsWholeDaysAsDays) {
  EXPECT_EQ(FormatConfigDuration(absl::Hours(720)), "30d");
  EXPECT_EQ(FormatConfigDuration(absl::Hours(12)), "12h");
  EXPECT_EQ(FormatConfigDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(FormatConfigDuration(absl::Milliseconds(250)), "250ms");
  EXPECT_EQ(FormatConfigDuration(absl::ZeroDuration()), "0");
}

std::optional<std::string> FakeEnv(const std::string& name) {
  static const std::map<std::string, std::string> env = {
      {"PORT", "15353"}, {"DIR", "/srv/${NOT_EXPANDED}"}, {"EMPTY", ""}};
  auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

TEST(EnvExpandTest, ReplacesVariablesOnce) {
  EXPECT_EQ(*ExpandVariables("127.0.0.1:${PORT}", FakeEnv), "127.0.0.1:15353");
  EXPECT_EQ(*ExpandVariables("${DIR}/kek", FakeEnv),
            "/srv/${NOT_EXPANDED}/kek");
  EXPECT_EQ(*ExpandVariables("a${EMPTY}b", FakeEnv), "ab");
  EXPECT_EQ(*ExpandVariables("no variables", FakeEnv), "no variables");
}

TEST(EnvExpandTest, DollarEscapes) {
  EXPECT_EQ(*ExpandVariables("$${PORT}", FakeEnv), "${PORT}");
  EXPECT_EQ(*ExpandVariables("pa$$word", FakeEnv), "pa$word");
  EXPECT_EQ(*ExpandVariables("cost: 5$", FakeEnv), "cost: 5$");
  EXPECT_EQ(*ExpandVariables("$PORT", FakeEnv), "$PORT");
}

TEST(EnvExpandTest, Errors) {
  EXPECT_THAT(ExpandVariables("${MISSING}", FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "environment variable MISSING is not set"));
  EXPECT_THAT(ExpandVariables("${PORT", FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("without a closing")));
  EXPECT_THAT(ExpandVariables("${1X}", FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"${1X}\" is not a variable reference")));
  EXPECT_THAT(ExpandVariables("${}", FakeEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not a variable reference")));
}

TEST(DnsNamesTest, NormalizesCertificateNames) {
  EXPECT_EQ(*NormalizeCertificateName("WWW.Example.Test."), "www.example.test");
  EXPECT_EQ(*NormalizeCertificateName("*.example.test"), "*.example.test");
  EXPECT_EQ(*NormalizeCertificateName("localhost"), "localhost");
  EXPECT_EQ(*NormalizeCertificateName("xn--bcher-kva.example"),
            "xn--bcher-kva.example");
  EXPECT_THAT(NormalizeCertificateName("*"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("nothing after the wildcard")));
  EXPECT_THAT(NormalizeCertificateName("*.*.example.test"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"*\" is allowed only as the whole leftmost "
                                 "label")));
  EXPECT_THAT(NormalizeCertificateName("::1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is an IP address")));
  EXPECT_THAT(NormalizeCertificateName(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  // 63 is the longest label; 253 the longest name.
  EXPECT_THAT(NormalizeCertificateName(std::string(63, 'a') + ".test"), IsOk());
  std::string name253 = std::string(63, 'a') + "." + std::string(63, 'b') +
                        "." + std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(name253.size(), 253u);
  EXPECT_THAT(NormalizeCertificateName(name253), IsOk());
  EXPECT_THAT(NormalizeCertificateName(name253 + "d"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("longer than 253 characters")));
}

TEST(DnsNamesTest, NormalizesZones) {
  EXPECT_EQ(*NormalizeZone("Example.Test"), "example.test.");
  EXPECT_EQ(*NormalizeZone("example.test."), "example.test.");
  EXPECT_EQ(*NormalizeZone("_acme-challenge.example.test"),
            "_acme-challenge.example.test.");
  EXPECT_THAT(NormalizeZone("."), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("is the root zone")));
  EXPECT_THAT(NormalizeZone("*.example.test"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"*\" is allowed only")));
}

TEST(DnsNamesTest, IsInZone) {
  EXPECT_TRUE(IsInZone("example.test", "example.test."));
  EXPECT_TRUE(IsInZone("www.example.test", "example.test."));
  EXPECT_TRUE(IsInZone("*.example.test", "example.test."));
  EXPECT_TRUE(IsInZone("a.b.example.test", "b.example.test."));
  EXPECT_FALSE(IsInZone("badexample.test", "example.test."));
  EXPECT_FALSE(IsInZone("example.test", "www.example.test."));
  EXPECT_FALSE(IsInZone("*.example.test", "www.example.test."));
}

TEST(AddressesTest, ParsesIpPort) {
  EXPECT_EQ(ParseIpPort("127.0.0.1:5353", 53)->ToString(), "127.0.0.1:5353");
  EXPECT_EQ(ParseIpPort("127.0.0.1", 53)->ToString(), "127.0.0.1:53");
  EXPECT_EQ(ParseIpPort("[::1]:5353", 53)->ToString(), "[::1]:5353");
  EXPECT_EQ(ParseIpPort("[::1]", 53)->ToString(), "[::1]:53");
  EXPECT_EQ(ParseIpPort("::1", 53)->ToString(), "[::1]:53");
  EXPECT_EQ(ParseIpPort("[::1]:9464", std::nullopt)->ToString(), "[::1]:9464");
}

TEST(AddressesTest, RefusesBadEndpoints) {
  EXPECT_THAT(ParseIpPort("localhost:53", 53),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "\"localhost:53\" is not an IP address and port: host "
                       "names are not resolved, use an IP address"));
  EXPECT_THAT(ParseIpPort("127.0.0.1", std::nullopt),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the port is missing")));
  for (const char* bad : {"127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:", "127.0.0.1:x", "[::1]:-1"}) {
    EXPECT_THAT(ParseIpPort(bad, 53),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("the port must be a number from 1 to "
                                   "65535")))
        << bad;
  }
  EXPECT_THAT(ParseIpPort("[127.0.0.1]:53", 53),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not an IPv6 address in []")));
  EXPECT_THAT(ParseIpPort("[::1", 53),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"[\" without \"]\"")));
  EXPECT_THAT(ParseIpPort("", 53), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("it is empty")));
}

TEST(AddressesTest, DirectoryUrls) {
  EXPECT_THAT(
      CheckDirectoryUrl("https://acme-v02.api.letsencrypt.org/directory"),
      IsOk());
  EXPECT_THAT(CheckDirectoryUrl("HTTPS://ca.example/dir"), IsOk());
  EXPECT_THAT(CheckDirectoryUrl("https://[2001:db8::1]:8443/dir"), IsOk());
  EXPECT_THAT(CheckDirectoryUrl("http://127.0.0.1:14000/dir"), IsOk());
  EXPECT_THAT(CheckDirectoryUrl("http://LOCALHOST/dir"), IsOk());
  EXPECT_THAT(CheckDirectoryUrl("http://[::1]:14000/dir"), IsOk());
  EXPECT_THAT(CheckDirectoryUrl("http://127.0.0.2/dir"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must use https://")));
  EXPECT_THAT(CheckDirectoryUrl("http://localhost.evil.test/dir"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must use https://")));
  EXPECT_THAT(CheckDirectoryUrl("http://127.0.0.1@ca.example/dir"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("contains a user name")));
  EXPECT_THAT(
      CheckDirectoryUrl("https:///dir"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has no host")));
  EXPECT_THAT(CheckDirectoryUrl("https://ca.example:99999/dir"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has an invalid port")));
  EXPECT_THAT(CheckDirectoryUrl("https://ca.example:/dir"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has an invalid port")));
  EXPECT_THAT(CheckDirectoryUrl("https://ca.example/a dir"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("contains white space")));
  EXPECT_THAT(CheckDirectoryUrl("ftp://ca.example/dir"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not an https:// URL")));
}

TEST(EditDistanceTest, CountsEdits) {
  EXPECT_EQ(EditDistance("key_type", "key_type"), 0);
  EXPECT_EQ(EditDistance("keytype", "key_type"), 1);
  EXPECT_EQ(EditDistance("Key_Type", "key_type"), 2);
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("colour", "store"), 5);
}

}  // namespace
}  // namespace certfleet::config
