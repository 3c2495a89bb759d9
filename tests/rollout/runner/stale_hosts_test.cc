// RolloutRunner and hosts gone for good: an agent stopped forever holds its
// wave only until it is stale (agents.stale_after, judged from when its
// stream ended); the rollout then completes without it, and when it comes
// back it is sent the version the rollout reached. An operator's skip
// releases a wave at once; a removed agent leaves the rollout. The real
// AgentHub with fake streams, a manual fake clock.
#include <string>
#include <vector>

#include "coordinator/rollout/rollout_state.h"
#include "coordinator/rollout/runner/rollout_runner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rollout/runner/fleet_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::rollout::testing::RolloutFleet;
using ::certfleet::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int kGone = 5;  // the host stopped for good

class StaleHostsTest : public ::testing::Test {
 protected:
  // web/1 everywhere, agent kGone stops, web/2 rolls out through every
  // wave but the last, which waits for kGone.
  void RollOutWithoutTheGoneHost() {
    f_.AddVersion();
    ASSERT_OK(f_.runner->OnVersionStored("web", 1));
    f_.parts.hub->Flush();
    f_.AckAll("web/1");
    f_.Disconnect(kGone);
    f_.AddVersion();
    ASSERT_OK(f_.runner->OnVersionStored("web", 2));
    f_.parts.hub->Flush();
    for (int round = 0; round < 3; ++round) {
      f_.AckAll("web/2");
      f_.Step();
      f_.clock.Advance(absl::Minutes(5));
      f_.Step();
    }
    f_.AckAll("web/2");
    f_.Step();
  }

  rollout::RolloutState State() {
    absl::StatusOr<std::vector<store::RolloutRecord>> latest =
        f_.parts.store.ListRollouts({.limit = 1});
    EXPECT_TRUE(latest.ok() && latest->size() == 1);
    absl::StatusOr<rollout::RolloutState> s =
        rollout::RolloutStateFromJson((*latest)[0].state_json);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : rollout::RolloutState{};
  }

  const rollout::HostRecord& Host(const rollout::RolloutState& s, int i) {
    for (const rollout::HostRecord& h : s.hosts) {
      if (h.agent_id == RolloutFleet::AgentId(i)) return h;
    }
    ADD_FAILURE() << "agent " << i << " is not in the rollout";
    static const rollout::HostRecord kNone;
    return kNone;
  }

  RolloutFleet f_{absl::Hours(1)};
};

TEST_F(StaleHostsTest, AStoppedHostHoldsItsWaveOnlyUntilItIsStale) {
  RollOutWithoutTheGoneHost();
  rollout::RolloutState s = State();
  ASSERT_EQ(s.phase, rollout::Phase::kDelivering);
  EXPECT_EQ(Host(s, kGone).state, rollout::HostState::kWaiting);
  EXPECT_THAT(s.offline_waiting,
              Contains(RolloutFleet::AgentId(kGone) + "/www"));

  // 30 minutes after its stream ended (15 in the waves): not stale yet.
  f_.clock.Advance(absl::Minutes(15));
  f_.Step();
  EXPECT_EQ(State().phase, rollout::Phase::kDelivering);

  // An hour after its stream ended it is stale: the rollout completes
  // without it, and without a failure.
  f_.clock.Advance(absl::Minutes(30));
  f_.Step();
  s = State();
  ASSERT_EQ(s.phase, rollout::Phase::kComplete);
  EXPECT_EQ(Host(s, kGone).state, rollout::HostState::kSkipped);
  EXPECT_EQ(Host(s, kGone).skip_reason, rollout::kSkipStale);
  EXPECT_TRUE(Host(s, kGone).stale);
  for (const rollout::HostRecord& h : s.hosts) EXPECT_EQ(h.failure, "");
  EXPECT_THAT(f_.AuditActions(), Contains("rollout.host_skipped"));
  EXPECT_THAT(f_.AuditActions(), Contains("rollout.complete"));

  // Back a week later, serving web/1: it is sent web/2, the version its
  // rollout reached.
  f_.clock.Advance(absl::Hours(24 * 7));
  f_.Connect(kGone, "web/1");
  EXPECT_EQ(f_.LastBundle(kGone), "web/2");
}

TEST_F(StaleHostsTest, AnOperatorSkipReleasesTheWaveAtOnce) {
  RollOutWithoutTheGoneHost();
  ASSERT_EQ(State().phase, rollout::Phase::kDelivering);
  EXPECT_THAT(f_.runner->Skip("web", RolloutFleet::AgentId(3), "admin:alice"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("waits for none of its targets: www is "
                                 "healthy")));
  ASSERT_OK_AND_ASSIGN(
      store::RolloutRecord after,
      f_.runner->Skip("web", RolloutFleet::AgentId(kGone), "admin:alice"));
  EXPECT_EQ(after.phase, "complete");  // stepped at once
  const rollout::RolloutState s = State();
  EXPECT_EQ(Host(s, kGone).skip_reason, rollout::kSkipOperator);
  EXPECT_EQ(Host(s, kGone).skipped_by, "admin:alice");
  // Audited as the operator's.
  absl::StatusOr<std::vector<store::AuditRecord>> audit =
      f_.parts.store.ListAudit({});
  ASSERT_OK(audit.status());
  bool found = false;
  for (const store::AuditRecord& r : *audit) {
    if (r.action == "rollout.host_skipped") {
      found = true;
      EXPECT_EQ(r.actor, "admin:alice");
      EXPECT_THAT(r.detail, HasSubstr("was skipped by admin:alice"));
    }
  }
  EXPECT_TRUE(found);
  EXPECT_THAT(
      f_.runner->Skip("web", RolloutFleet::AgentId(kGone), "admin:alice"),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               "no rollout of web is in progress"));
}

TEST_F(StaleHostsTest, ARemovedAgentLeavesTheRolloutAtOnce) {
  RollOutWithoutTheGoneHost();
  ASSERT_OK(f_.parts.store
                .UpdateAgent(RolloutFleet::AgentId(kGone),
                             [](store::AgentRecord& a) {
                               a.status = store::AgentStatus::kRemoved;
                               return absl::OkStatus();
                             })
                .status());
  f_.Step();
  const rollout::RolloutState s = State();
  ASSERT_EQ(s.phase, rollout::Phase::kComplete);
  EXPECT_THAT(s.hosts, SizeIs(RolloutFleet::kAgents - 1));
  for (const rollout::HostRecord& h : s.hosts) {
    EXPECT_NE(h.agent_id, RolloutFleet::AgentId(kGone));
  }
}

}  // namespace
}  // namespace certfleet::rollout
