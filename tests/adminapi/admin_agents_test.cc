// Whether each agent is connected, as the admin API reports it: over the
// real server, one of two enrolled agents holding a stream through the hub
// is connected (since its stream opened) and the other is not; a
// coordinator without an agent service reports none connected; one that
// only knows the number connected leaves each agent's flag unset.
#include <memory>

#include "absl/strings/str_split.h"
#include "coordinator/adminapi/admin_views.h"
#include "ctl/ctl_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/adminapi/admin_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::adminapi::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kOnline[] = "agt-000000000001";
constexpr char kOffline[] = "agt-000000000002";

// A stream that goes nowhere: the hub only needs something to send to.
class NullChannel : public delivery::AgentChannel {
 public:
  void Send(const v1::CoordinatorMessage&) override {}
  void Close(const absl::Status&) override {}
};

class AdminAgentsTest : public AdminApiTest {
 protected:
  void SetUp() override {
    c_.PutAgent(kOnline, {{"role", "web"}});
    c_.PutAgent(kOffline, {{"role", "web"}});
    client_ = ClientFor(AdminIdentityFor("alice"));
  }

  // kOnline opens its stream at the clock's now.
  absl::Time ConnectOnline() {
    const absl::Time at = clock_.Now();
    c_.hub->Attach(kOnline, delivery::testing::kTestIdentitySerial, channel_);
    c_.hub->Flush();
    return at;
  }

  std::shared_ptr<NullChannel> channel_ = std::make_shared<NullChannel>();
  std::unique_ptr<ctl::AdminClient> client_;
};

TEST_F(AdminAgentsTest, OneConnectedThroughTheHubTheOtherNot) {
  ASSERT_OK_AND_ASSIGN(v1::ListAgentsResponse before, client_->ListAgents());
  ASSERT_EQ(before.agents_size(), 2);
  for (const v1::AgentInfo& a : before.agents()) {
    ASSERT_TRUE(a.has_connected()) << a.id();
    EXPECT_FALSE(a.connected()) << a.id();
    EXPECT_FALSE(a.has_connected_since()) << a.id();
  }

  const absl::Time since = ConnectOnline();
  clock_.Advance(absl::Minutes(3));
  ASSERT_OK_AND_ASSIGN(v1::ListAgentsResponse r, client_->ListAgents());
  ASSERT_EQ(r.agents_size(), 2);
  const v1::AgentInfo& online = r.agents(0);
  const v1::AgentInfo& offline = r.agents(1);
  ASSERT_EQ(online.id(), kOnline);
  ASSERT_EQ(offline.id(), kOffline);
  ASSERT_TRUE(online.has_connected());
  EXPECT_TRUE(online.connected());
  EXPECT_EQ(TimeFromProtoOrPast(online.connected_since()), since);
  ASSERT_TRUE(offline.has_connected());
  EXPECT_FALSE(offline.connected());
  EXPECT_FALSE(offline.has_connected_since());

  ASSERT_OK_AND_ASSIGN(v1::GetAgentResponse one, client_->GetAgent(kOnline));
  EXPECT_TRUE(one.agent().connected());
  EXPECT_EQ(TimeFromProtoOrPast(one.agent().connected_since()), since);
  ASSERT_OK_AND_ASSIGN(one, client_->GetAgent(kOffline));
  ASSERT_TRUE(one.agent().has_connected());
  EXPECT_FALSE(one.agent().connected());

  ASSERT_OK_AND_ASSIGN(v1::GetStatusResponse s, client_->GetStatus());
  EXPECT_EQ(s.agents(), 2);
  EXPECT_EQ(s.agents_connected(), 1);

  // The stream ends: no longer connected.
  c_.hub->Detach(kOnline, channel_.get());
  c_.hub->Flush();
  ASSERT_OK_AND_ASSIGN(one, client_->GetAgent(kOnline));
  ASSERT_TRUE(one.agent().has_connected());
  EXPECT_FALSE(one.agent().connected());
  EXPECT_FALSE(one.agent().has_connected_since());
}

// The table's STATE column (which replaced CONNECTED) says connected or
// disconnected; JSON keeps "connected".
TEST_F(AdminAgentsTest, TableAndJsonShowTheStateColumn) {
  const absl::Time since = ConnectOnline();
  ASSERT_OK_AND_ASSIGN(v1::ListAgentsResponse r, client_->ListAgents());
  const std::vector<std::string> lines =
      absl::StrSplit(ctl::FormatAgents(r, /*json=*/false), '\n');
  ASSERT_GE(lines.size(), 3u);
  EXPECT_THAT(lines[0], MatchesRegex("AGENT +HOSTNAME +STATE +LABELS .*"));
  const size_t column = lines[0].find("STATE");
  EXPECT_EQ(lines[1].substr(0, 16), kOnline);
  EXPECT_EQ(lines[1].substr(column, 10), "connected ");
  EXPECT_EQ(lines[2].substr(0, 16), kOffline);
  EXPECT_EQ(lines[2].substr(column, 13), "disconnected ");

  const nlohmann::json j =
      nlohmann::json::parse(ctl::FormatAgents(r, /*json=*/true));
  EXPECT_EQ(j["agents"][0]["connected"], true);
  EXPECT_EQ(j["agents"][0]["connected_since"],
            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", since, absl::UTCTimeZone()));
  EXPECT_EQ(j["agents"][0]["state"], "connected");
  EXPECT_EQ(j["agents"][1]["connected"], false);
  EXPECT_EQ(j["agents"][1]["state"], "disconnected");
  EXPECT_TRUE(j["agents"][1]["connected_since"].is_null());

  ASSERT_OK_AND_ASSIGN(v1::GetAgentResponse one, client_->GetAgent(kOnline));
  EXPECT_THAT(
      ctl::FormatAgent(one, /*json=*/false),
      HasSubstr(absl::StrCat(
          "connected  yes, since ",
          absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", since, absl::UTCTimeZone()),
          "\n")));
  ASSERT_OK_AND_ASSIGN(one, client_->GetAgent(kOffline));
  EXPECT_THAT(ctl::FormatAgent(one, /*json=*/false),
              HasSubstr("connected  no\n"));
}

TEST_F(AdminAgentsTest, WithoutAnAgentServiceNoneIsConnected) {
  ConnectOnline();  // the hub has it, but this backend has no agent service
  AdminBackend none(c_.store, c_.tokens, clock_,
                    {.certificates = c_.certificates});
  ASSERT_OK_AND_ASSIGN(v1::ListAgentsResponse r, none.ListAgents());
  ASSERT_EQ(r.agents_size(), 2);
  for (const v1::AgentInfo& a : r.agents()) {
    ASSERT_TRUE(a.has_connected()) << a.id();
    EXPECT_FALSE(a.connected()) << a.id();
  }
  ASSERT_OK_AND_ASSIGN(v1::GetStatusResponse s, none.GetStatus("alice"));
  EXPECT_FALSE(s.agent_service());
  EXPECT_EQ(s.agents_connected(), 0);
}

// A coordinator that does not say (an older one): neither yes nor no.
TEST(AgentsFormatTest, StateUnknownIsADash) {
  v1::ListAgentsResponse r;
  v1::AgentInfo* a = r.add_agents();
  a->set_id("agt-000000000001");
  a->set_hostname("web-1");
  const std::string table = ctl::FormatAgents(r, /*json=*/false);
  const std::vector<std::string> lines = absl::StrSplit(table, '\n');
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1].substr(lines[0].find("STATE"), 2), "- ");
  EXPECT_TRUE(nlohmann::json::parse(
                  ctl::FormatAgents(r, /*json=*/true))["agents"][0]["connected"]
                  .is_null());
}

}  // namespace
}  // namespace certfleet::adminapi::testing
