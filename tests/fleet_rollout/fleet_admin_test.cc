// Operators and hosts that come and go, across a real fleet (rollout_lab.h:
// 12 certfleet-agent processes, 6 behind nginx):
// - disabling an agent cuts its stream within a second; it gets no version
//   while disabled (its rollout skips it) and the version the rollout
//   reached once enabled;
// - a removed agent is refused for good (it cannot be re-enrolled either)
//   and leaves the rollout, which completes;
// - a relabel changes what an agent receives;
// - a host stopped for good holds its wave only until it is stale, and
//   gets the version when it comes back;
// - `rollout skip` releases a wave from an offline host at once.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fleet_rollout/rollout_lab.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::fleet_rollout {
namespace {

using ::certfleet::testing::WaitFor;
using rollout::Quantity;
using rollout::RolloutState;
using ::testing::HasSubstr;

constexpr absl::Duration kRolloutTimeout = absl::Seconds(90);

// Canary, half, everyone; one host of a pool at a time; a bake of 1 s.
rollout::RolloutPolicy Careful() {
  rollout::RolloutPolicy p;
  p.waves = {Quantity::Count(1), Quantity::Percent(50), Quantity::Percent(100)};
  p.pool_label = "pool";
  p.max_unavailable = Quantity::Count(1);
  p.bake_time = absl::Seconds(1);
  p.health_timeout = absl::Seconds(30);
  p.failure_threshold = Quantity::Count(1);
  return p;
}

class FleetAdminTest : public ::testing::Test {
 protected:
  void StartLab(LabOptions options = {}) {
    ASSERT_OK_AND_ASSIGN(lab_, RolloutLab::Start(Careful(), options));
    ASSERT_OK_AND_ASSIGN(v1_serial_, lab_->Served(0));
    // A host of pool p1 without nginx: never the canary (pool p0).
    for (const LabAgent& a : lab_->agents()) {
      if (a.pool == "p1" && a.nginx == nullptr) slot_ = a.slot;
    }
    ASSERT_GE(slot_, 0);
    id_ = lab_->agents()[slot_].agent_id;
  }

  bool Connected() { return lab_->hub().ConnectedAgents().count(id_) > 0; }

  // How long until the agent's stream is gone (real time); fails after 5 s.
  absl::Duration TimeUntilDisconnected(absl::Time since) {
    EXPECT_OK(WaitFor(
        absl::StrCat(id_, "'s stream to end"), [&] { return !Connected(); },
        since + absl::Seconds(5) - absl::Now()));
    return absl::Now() - since;
  }

  absl::Status LogSays(const std::string& text, absl::Duration timeout) {
    return WaitFor(
        absl::StrCat("the agent's log to say \"", text, "\""),
        [&] { return absl::StrContains(lab_->AgentLog(slot_), text); },
        timeout);
  }

  const rollout::HostRecord* Host(const RolloutState& s) {
    for (const rollout::HostRecord& h : s.hosts) {
      if (h.agent_id == id_) return &h;
    }
    return nullptr;
  }

  // The admin actions done by alice, oldest first.
  std::vector<std::string> AdminActions() {
    absl::StatusOr<std::vector<store::AuditRecord>> all =
        lab_->store().ListAudit({});
    EXPECT_OK(all);
    std::vector<std::string> out;
    if (!all.ok()) return out;
    for (auto it = all->rbegin(); it != all->rend(); ++it) {
      if (it->actor == "admin:alice") {
        out.push_back(absl::StrCat(it->action, " ", it->result));
      }
    }
    return out;
  }

  std::unique_ptr<RolloutLab> lab_;
  std::string v1_serial_;
  int slot_ = -1;
  std::string id_;
};

TEST_F(FleetAdminTest, DisableCutsTheAgentWithinASecondAndEnableRestoresIt) {
  ASSERT_NO_FATAL_FAILURE(StartLab());
  ASSERT_TRUE(Connected());
  const absl::Time t0 = absl::Now();
  ASSERT_OK(lab_->admin().DisableAgent(id_, "suspected compromise").status());
  const absl::Duration cut = TimeUntilDisconnected(t0);
  EXPECT_LT(cut, absl::Seconds(1));
  printf("disabled agent's stream cut after %s\n",
         absl::FormatDuration(cut).c_str());
  EXPECT_OK(
      LogSays(absl::StrCat("agent ", id_, " is disabled"), absl::Seconds(5)))
      << lab_->AgentLog(slot_);

  // A rollout while it is disabled: it gets nothing, and the rollout does
  // not wait for it.
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK_AND_ASSIGN(RolloutState s, lab_->LatestState());
  ASSERT_NE(Host(s), nullptr);
  EXPECT_EQ(Host(s)->state, rollout::HostState::kSkipped);
  EXPECT_EQ(Host(s)->skip_reason, rollout::kSkipDisabled);
  for (const rollout::HostRecord& h : s.hosts) EXPECT_EQ(h.failure, "");
  EXPECT_EQ(*lab_->Served(slot_), v1_serial_);
  // It keeps trying (with backoff) and stays refused.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_FALSE(Connected());
  EXPECT_EQ(*lab_->Served(slot_), v1_serial_);

  ASSERT_OK(lab_->admin().EnableAgent(id_).status());
  ASSERT_OK(lab_->WaitServes(slot_, v2.serial, absl::Seconds(20)));
  EXPECT_TRUE(Connected());
  EXPECT_THAT(AdminActions(),
              ::testing::ElementsAre("agent.disable ok", "agent.enable ok"));
}

TEST_F(FleetAdminTest, ARemovedAgentIsRefusedForGoodAndLeavesTheRollout) {
  ASSERT_NO_FATAL_FAILURE(StartLab());
  const absl::Time t0 = absl::Now();
  ASSERT_OK(lab_->admin().RemoveAgent(id_, "decommissioned").status());
  EXPECT_LT(TimeUntilDisconnected(t0), absl::Seconds(1));
  EXPECT_OK(LogSays("its identity is refused for good", absl::Seconds(5)))
      << lab_->AgentLog(slot_);

  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK_AND_ASSIGN(RolloutState s, lab_->LatestState());
  EXPECT_EQ(Host(s), nullptr);  // it left the rollout
  EXPECT_EQ(s.hosts.size(), RolloutLab::kAgents - 1u);
  EXPECT_EQ(*lab_->Served(slot_), v1_serial_);
  for (const LabAgent& a : lab_->agents()) {
    if (a.slot == slot_) continue;
    EXPECT_OK(lab_->WaitServes(a.slot, v2.serial, absl::Seconds(5)));
  }
  // Still running, still refused; and it cannot be re-enrolled.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_FALSE(Connected());
  EXPECT_THAT(lab_->tokens().CreateForAgent(id_, absl::Hours(1), ""),
              ::certfleet::testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition,
                  HasSubstr("a removed agent is never re-enrolled")));
  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> record,
                       lab_->store().GetAgent(id_));
  ASSERT_TRUE(record.has_value());  // kept, for the audit trail
  EXPECT_TRUE(record->status == store::AgentStatus::kRemoved);
  EXPECT_THAT(AdminActions(), ::testing::ElementsAre("agent.remove ok"));
}

TEST_F(FleetAdminTest, ARelabelChangesWhatTheAgentReceives) {
  ASSERT_NO_FATAL_FAILURE(StartLab());
  ASSERT_OK(lab_->admin()
                .RelabelAgent(id_, {{"role", "db"}, {"pool", "p1"}})
                .status());

  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK_AND_ASSIGN(RolloutState s, lab_->LatestState());
  EXPECT_EQ(Host(s), nullptr);  // no longer a target of web
  EXPECT_EQ(*lab_->Served(slot_), v1_serial_);
  EXPECT_TRUE(Connected());  // a relabel keeps the stream

  ASSERT_OK(lab_->admin()
                .RelabelAgent(id_, {{"role", "web"}, {"pool", "p1"}})
                .status());
  ASSERT_OK(lab_->WaitServes(slot_, v2.serial, absl::Seconds(20)));
  EXPECT_THAT(AdminActions(),
              ::testing::ElementsAre("agent.relabel ok", "agent.relabel ok"));
}

// A host stopped for good: its wave waits while it is only offline, the
// rollout completes once it is stale, and it gets the version back when it
// is started again.
TEST_F(FleetAdminTest, AHostStoppedForGoodHoldsTheRolloutOnlyUntilStale) {
  ASSERT_NO_FATAL_FAILURE(StartLab({.stale_after = absl::Hours(1)}));
  lab_->StopAgent(slot_);
  TimeUntilDisconnected(absl::Now());
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  const std::string waiting_for = absl::StrCat(id_, "/www");
  ASSERT_OK(lab_->WaitForState(
      [&](const RolloutState& s) {
        int healthy = 0;
        for (const rollout::HostRecord& h : s.hosts) {
          healthy += h.state == rollout::HostState::kHealthy;
        }
        return s.offline_waiting == std::vector<std::string>{waiting_for} &&
               healthy == RolloutLab::kAgents - 1;
      },
      "waiting for the stopped host alone", kRolloutTimeout));
  absl::SleepFor(absl::Seconds(2));
  ASSERT_OK_AND_ASSIGN(RolloutState s, lab_->LatestState());
  EXPECT_EQ(s.phase, rollout::Phase::kDelivering);  // not stale yet

  lab_->clock().Shift(absl::Hours(1));
  ASSERT_OK(lab_->WaitForPhase("complete", absl::Seconds(10)));
  ASSERT_OK_AND_ASSIGN(s, lab_->LatestState());
  ASSERT_NE(Host(s), nullptr);
  EXPECT_EQ(Host(s)->state, rollout::HostState::kSkipped);
  EXPECT_EQ(Host(s)->skip_reason, rollout::kSkipStale);
  for (const rollout::HostRecord& h : s.hosts) EXPECT_EQ(h.failure, "");
  ASSERT_OK_AND_ASSIGN(v1::ListAgentsResponse agents,
                       lab_->admin().ListAgents());
  for (const v1::AgentInfo& a : agents.agents()) {
    EXPECT_EQ(a.state(), a.id() == id_ ? "stale" : "connected") << a.id();
  }

  ASSERT_OK(lab_->StartAgent(slot_));
  ASSERT_OK(lab_->WaitServes(slot_, v2.serial, absl::Seconds(20)));
}

TEST_F(FleetAdminTest, RolloutSkipReleasesAWaveFromAnOfflineHost) {
  ASSERT_NO_FATAL_FAILURE(StartLab());
  lab_->StopAgent(slot_);
  TimeUntilDisconnected(absl::Now());
  ASSERT_OK_AND_ASSIGN(LabVersion v2, lab_->Publish());
  const std::string waiting_for = absl::StrCat(id_, "/www");
  ASSERT_OK(lab_->WaitForState(
      [&](const RolloutState& s) {
        return s.offline_waiting == std::vector<std::string>{waiting_for};
      },
      "waiting for the stopped host", kRolloutTimeout));

  ASSERT_OK(lab_->admin().SkipRolloutHost("web", id_).status());
  ASSERT_OK(lab_->WaitForPhase("complete", kRolloutTimeout));
  ASSERT_OK_AND_ASSIGN(RolloutState s, lab_->LatestState());
  ASSERT_NE(Host(s), nullptr);
  EXPECT_EQ(Host(s)->skip_reason, rollout::kSkipOperator);
  EXPECT_EQ(Host(s)->skipped_by, "admin:alice");
  EXPECT_THAT(AdminActions(), ::testing::ElementsAre("rollout.host_skipped ok",
                                                     "rollout.skip ok"));

  ASSERT_OK(lab_->StartAgent(slot_));
  ASSERT_OK(lab_->WaitServes(slot_, v2.serial, absl::Seconds(20)));
}

}  // namespace
}  // namespace certfleet::fleet_rollout
