// A coordinator that hangs — frozen by SIGSTOP, a paused VM, a partition
// that drops packets — keeps its TCP connections open and answers nothing.
// The agent must notice within seconds and move to another coordinator:
// the coordinator sends a heartbeat every limits.heartbeat_interval, and
// the agent gives a stream up after three intervals of silence, then does
// not dial the silent coordinator first again. A TcpProxy in front of the
// server stands for the hung coordinator: Cut() silences it without closing
// anything, exactly what the agent sees of a frozen process.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agentapi/e2e_fixture.h"
#include "tests/harness/tcp_proxy.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agentapi::testing {
namespace {

using ::certfleet::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AgentFailoverTest : public AgentApiE2eTest {
 protected:
  void SetUp() override {
    server_limits_.heartbeat_interval = absl::Milliseconds(500);
    // The hub announces the interval in its Welcome: its copy of the limits.
    c_.RestartHub(server_limits_);
    StartServer();
  }
};

TEST_F(AgentFailoverTest, AHungCoordinatorIsLeftWithinThreeHeartbeats) {
  ASSERT_OK_AND_ASSIGN(auto hung, harness::TcpProxy::Start(Address()));
  ASSERT_OK_AND_ASSIGN(auto healthy, harness::TcpProxy::Start(Address()));
  coordinators_ = {hung->address(), healthy->address()};
  ASSERT_OK(EnrollAgent({{"role", "web"}}).status());
  StartAgent();
  ASSERT_OK(WaitFor("the agent's first connection, to the hung coordinator",
                    [&] { return session_observer_.connects() == 1; }));
  ASSERT_THAT(session_observer_.connected_to(), ElementsAre(hung->address()));

  // Idle, the stream lives on: heartbeats keep it.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(session_observer_.connects(), 1);
  EXPECT_TRUE(session_observer_.disconnects().empty());

  const absl::Time cut = absl::Now();
  hung->Cut();
  ASSERT_OK(WaitFor(
      "the agent to move off the cut coordinator",
      [&] { return session_observer_.connects() == 2; }, absl::Seconds(10)));
  const absl::Duration took = absl::Now() - cut;
  EXPECT_THAT(session_observer_.connected_to(),
              ElementsAre(hung->address(), healthy->address()));
  // Three intervals of silence (1.5 s) from the last heartbeat, which came
  // up to one interval before the cut; then a reconnection.
  EXPECT_GE(took, absl::Milliseconds(1000));
  EXPECT_LT(took, absl::Seconds(4)) << took;
  ASSERT_FALSE(session_observer_.disconnects().empty());
  EXPECT_THAT(session_observer_.disconnects().front(),
              HasSubstr("heard nothing for 1.5s"));
  EXPECT_OK(WaitFor("the hub to count the agent connected",
                    [&] { return c_.hub->connected() == 1; }));

  // The healthy coordinator's stream ends (a restart): the agent comes back
  // to it, not to the silent one, which would hang again.
  const size_t ended = session_observer_.disconnects().size();
  StopServer();
  StartServer(port_);
  ASSERT_OK(WaitFor(
      "the agent to come back to the restarted coordinator",
      [&] { return session_observer_.connects() == 3; }, absl::Seconds(10)));
  EXPECT_EQ(session_observer_.connected_to().back(), healthy->address());
  for (size_t i = ended; i < session_observer_.disconnects().size(); ++i) {
    EXPECT_THAT(session_observer_.disconnects()[i],
                ::testing::Not(HasSubstr("heard nothing")));
  }
}

TEST_F(AgentFailoverTest, ACoordinatorThatNeverWelcomesIsLeft) {
  ASSERT_OK_AND_ASSIGN(auto hung, harness::TcpProxy::Start(Address()));
  hung->Cut();  // accepts the connection, never forwards a byte
  coordinators_ = {hung->address(), Address()};
  ASSERT_OK(EnrollAgent({{"role", "web"}}).status());
  StartAgent();
  // The welcome limit is 10 s; then the next coordinator.
  ASSERT_OK(WaitFor(
      "the agent to connect after the welcome limit",
      [&] { return session_observer_.connects() == 1; }, absl::Seconds(15)));
  EXPECT_THAT(session_observer_.connected_to(), ElementsAre(Address()));
  ASSERT_FALSE(session_observer_.disconnects().empty());
  EXPECT_THAT(session_observer_.disconnects().front(),
              HasSubstr("(not even a welcome)"));
}

}  // namespace
}  // namespace certfleet::agentapi::testing
