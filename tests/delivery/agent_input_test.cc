// What the agent listener accepts: the grammars of names, the bound on
// free text, the checks of each message, and the rate limiters.
#include "coordinator/delivery/agent_input.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "coordinator/delivery/rate_limits.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::delivery {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(AgentInputTest, HostNamesAreDnsLike) {
  for (const char* good :
       {"web-1", "web-1.example.test", "ip-10-0-0-1.ec2.internal", "WIN_HOST",
        "localhost"}) {
    EXPECT_TRUE(IsHostname(good)) << good;
  }
  std::string longest;
  for (int i = 0; i < 4; ++i)
    absl::StrAppend(&longest, std::string(62, 'a'), ".");
  longest += "b";  // 4 × 63 + 1 = 253
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_TRUE(IsHostname(longest));
  for (const std::string& bad :
       {std::string(""), longest + "c", std::string(64, 'a') + ".test",
        std::string("a..b"), std::string(".a"), std::string("a."),
        std::string("host name"), std::string("host\nINFO forged line"),
        std::string("h\x1b[31mred"), std::string("h\xc3\xa9te")}) {
    EXPECT_FALSE(IsHostname(bad)) << Quoted(bad);
  }
}

TEST(AgentInputTest, AgentTextIsBoundedAndPrintable) {
  EXPECT_EQ(AgentText("exit 1: nginx: [emerg] cannot load", 1024),
            "exit 1: nginx: [emerg] cannot load");
  EXPECT_EQ(AgentText("line 1\nline 2\r\x1b[2J\x7f", 1024),
            "line 1 line 2  [2J ");
  EXPECT_EQ(AgentText("bad \xff byte, C1 \xc2\x85, ok \xc3\xa9", 1024),
            "bad ? byte, C1  , ok \xc3\xa9");
  const std::string cut = AgentText(std::string(5000, 'e'), 1024);
  EXPECT_EQ(cut.size(), 1024u);
  EXPECT_EQ(cut, std::string(1021, 'e') + "\xe2\x80\xa6");
  // Never cut inside a character: "é" is two bytes.
  std::string accents;
  for (int i = 0; i < 10; ++i) accents += "\xc3\xa9";
  EXPECT_EQ(AgentText(accents, 8), "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
}

// A known step is its stable name; a step this coordinator does not know
// (a later agent's) is still recorded, made safe and bounded.
TEST(AgentInputTest, ReportedStepIsTheStepsNameOrSafeText) {
  EXPECT_EQ(ReportedStep("reload"), "reload");
  EXPECT_EQ(ReportedStep("unknown"), "unknown");
  EXPECT_EQ(ReportedStep(""), "");
  EXPECT_EQ(ReportedStep("pre-swap\nhook"), "pre-swap hook");
  EXPECT_EQ(ReportedStep(std::string(100, 's')).size(), 64u);
}

TEST(AgentInputTest, QuotedEscapesAndCuts) {
  EXPECT_EQ(Quoted("a\nb"), "\"a\\nb\"");
  EXPECT_EQ(Quoted(std::string(100, 'x')),
            absl::StrCat("\"", std::string(64, 'x'), "\"..."));
}

v1::AgentMessage InventoryOf(int targets) {
  v1::AgentMessage m;
  for (int i = 0; i < targets; ++i) {
    m.mutable_inventory()->add_targets()->set_name(absl::StrCat("t", i));
  }
  return m;
}

TEST(AgentInputTest, InventoryOverTheTargetLimitIsResourceExhausted) {
  AgentLimits limits;
  limits.max_targets_per_agent = 3;
  EXPECT_OK(CheckAgentMessage(InventoryOf(3), limits));
  EXPECT_THAT(CheckAgentMessage(InventoryOf(4), limits),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("lists 4 targets; an agent may have at "
                                 "most 3")));
}

TEST(AgentInputTest, EveryNameOfEveryMessageIsChecked) {
  const AgentLimits limits;
  v1::AgentMessage hello;
  hello.mutable_hello()->set_hostname("web-1");
  EXPECT_OK(CheckAgentMessage(hello, limits));
  hello.mutable_hello()->set_hostname("");
  EXPECT_OK(CheckAgentMessage(hello, limits));
  hello.mutable_hello()->set_hostname("web-1\nW forged");
  EXPECT_THAT(CheckAgentMessage(hello, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Hello.hostname \"web-1\\nW forged\"")));

  v1::AgentMessage inventory = InventoryOf(1);
  v1::TargetState* t = inventory.mutable_inventory()->mutable_targets(0);
  t->set_version_id("web/2");
  t->set_serial("1A02ff");
  t->mutable_last_failure()->set_version_id("web/3");
  EXPECT_OK(CheckAgentMessage(inventory, limits));
  t->set_name("../../etc");
  EXPECT_THAT(CheckAgentMessage(inventory, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Inventory target name \"../../etc\"")));
  t->set_name("t0");
  t->set_version_id("web/2\n");
  EXPECT_THAT(CheckAgentMessage(inventory, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("target t0 version_id")));
  t->set_version_id("web/2");
  t->set_serial("zz");
  EXPECT_THAT(CheckAgentMessage(inventory, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("target t0 serial")));
  t->set_serial(std::string(65, 'a'));
  EXPECT_FALSE(CheckAgentMessage(inventory, limits).ok());
  t->set_serial("1a");
  t->mutable_last_failure()->set_version_id("../x");
  EXPECT_THAT(CheckAgentMessage(inventory, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("last_failure.version_id")));

  v1::AgentMessage result;
  result.mutable_result()->set_target("www");
  result.mutable_result()->set_version_id("web/1");
  result.mutable_result()->set_nonce("0123abcd");
  EXPECT_OK(CheckAgentMessage(result, limits));
  result.mutable_result()->set_nonce("");
  EXPECT_THAT(CheckAgentMessage(result, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("DeliveryResult nonce")));
  result.mutable_result()->set_nonce(std::string(65, 'a'));
  EXPECT_FALSE(CheckAgentMessage(result, limits).ok());
  result.mutable_result()->set_nonce("1");
  result.mutable_result()->set_version_id("");
  EXPECT_THAT(CheckAgentMessage(result, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("DeliveryResult version_id")));
  result.mutable_result()->set_version_id("web/1");
  result.mutable_result()->set_target(std::string(65, 'w'));
  EXPECT_THAT(CheckAgentMessage(result, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("DeliveryResult target")));

  v1::AgentMessage health;
  health.mutable_health()->set_target("www");
  EXPECT_OK(CheckAgentMessage(health, limits));
  health.mutable_health()->set_target("w\x1bw");
  EXPECT_THAT(CheckAgentMessage(health, limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("HealthReport target \"w\\x1bw\"")));
}

TEST(RateLimitsTest, BucketRefillsAndLogsOnlyTheFirstRefusal) {
  ::certfleet::testing::FakeClock clock;
  KeyedRateLimiter limiter({.burst = 2, .refill_every = absl::Seconds(10)}, 10,
                           clock);
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_TRUE(limiter.Take("a").allowed);
  KeyedRateLimiter::Decision refused = limiter.Take("a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_TRUE(refused.first_refusal);
  EXPECT_EQ(refused.retry_after, absl::Seconds(10));
  clock.Advance(absl::Seconds(4));
  refused = limiter.Take("a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_FALSE(refused.first_refusal);
  EXPECT_EQ(refused.retry_after, absl::Seconds(6));
  EXPECT_TRUE(limiter.Take("b").allowed);  // keys are separate
  clock.Advance(absl::Seconds(6));
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_TRUE(limiter.Take("a").first_refusal);
}

TEST(RateLimitsTest, RefundGivesATokenBack) {
  ::certfleet::testing::FakeClock clock;
  KeyedRateLimiter limiter({.burst = 1, .refill_every = absl::Hours(1)}, 10,
                           clock);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(limiter.Take("ok").allowed) << i;
    limiter.Refund("ok");
  }
  EXPECT_TRUE(limiter.Take("ok").allowed);
  EXPECT_FALSE(limiter.Take("ok").allowed);
}

TEST(RateLimitsTest, FullTableForgetsIdleKeysElseRefusesNewOnes) {
  ::certfleet::testing::FakeClock clock;
  KeyedRateLimiter limiter({.burst = 1, .refill_every = absl::Seconds(1)}, 2,
                           clock);
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_TRUE(limiter.Take("b").allowed);
  EXPECT_FALSE(limiter.Take("c").allowed);  // a and b are still counting
  EXPECT_EQ(limiter.keys(), 2u);
  clock.Advance(absl::Seconds(1));  // both full again: forgotten for c
  EXPECT_TRUE(limiter.Take("c").allowed);
  EXPECT_EQ(limiter.keys(), 1u);
}

TEST(RateLimitsTest, SourceAddressKeys) {
  EXPECT_EQ(SourceAddressKey("ipv4:10.0.0.7:51234"), "10.0.0.7");
  EXPECT_EQ(SourceAddressKey("ipv6:[2001:db8:1:2:3:4:5:6]:51234"),
            "2001:db8:1:2::/64");
  EXPECT_EQ(SourceAddressKey("ipv6:%5B2001:db8:1:2::9%5D:443"),
            "2001:db8:1:2::/64");
  EXPECT_EQ(SourceAddressKey("ipv6:[fe80::1%25eth0]:1"), "fe80::/64");
  EXPECT_EQ(SourceAddressKey("ipv6:[::ffff:10.0.0.7]:51234"), "10.0.0.7");
  EXPECT_EQ(SourceAddressKey("unix:/run/x.sock"), "unix:/run/x.sock");
  EXPECT_EQ(SourceAddressKey(std::string(100, 'x')).size(), 64u);
}

}  // namespace
}  // namespace certfleet::delivery
