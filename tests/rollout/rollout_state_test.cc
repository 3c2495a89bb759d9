// The persisted rollout state: every field survives JSON, and a damaged
// document is refused naming the field.
#include "coordinator/rollout/rollout_state.h"

#include <string>
#include <vector>

#include "coordinator/rollout/controller.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rollout/sim_fleet.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::rollout::testing::Drive;
using ::certfleet::rollout::testing::SimFleet;
using ::certfleet::rollout::testing::StartRollout;
using ::certfleet::rollout::testing::T0;
using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RolloutStateTest, EveryStateFieldRoundTripsThroughJson) {
  RolloutState s;
  s.certificate = "web";
  s.kind = RolloutKind::kRollback;
  s.from_version = "web/3";
  s.to_version = "web/2";
  s.expedite = true;
  s.requested_by = "alice";
  s.phase = Phase::kPaused;
  s.paused_from = Phase::kBaking;
  s.wave = 2;
  s.created_at = T0() + absl::Nanoseconds(123456789);
  s.wave_started_at = T0() + absl::Minutes(1);
  s.bake_started_at = absl::InfiniteFuture();
  s.paused_at = T0() + absl::Minutes(3);
  s.finished_at = absl::InfinitePast();
  s.updated_at = T0() + absl::Minutes(4);
  s.urgent = true;
  s.waiting_for_window = true;
  s.window_opens_at = T0() + absl::Hours(20);
  s.offline_waiting = {"agt-a0/web", "agt-b0/web"};
  s.halt_reason = "n/a \"quoted\"";
  HostRecord h;
  h.agent_id = "agt-a0";
  h.target = "web";
  h.pool = "a";
  h.state = HostState::kReverting;
  h.wave = 1;
  h.online = true;
  h.delivered_at = T0() + absl::Seconds(6);
  h.healthy_at = T0() + absl::Seconds(7);
  h.failed_at = T0() + absl::Seconds(8);
  h.failure = "delivery of web/2 rejected: boom";
  h.reverted_at = T0() + absl::Seconds(9);
  h.revert_error = "still boom";
  s.hosts = {h, h, h};
  s.hosts[1].agent_id = "agt-b0";
  s.hosts[1].state = HostState::kUnchanged;
  s.hosts[2].agent_id = "agt-c0";
  s.hosts[2].state = HostState::kSkipped;
  s.hosts[2].stale = true;
  s.hosts[2].skip_reason = kSkipOperator;
  s.hosts[2].skipped_by = "admin:bob";
  s.hosts[2].skipped_at = T0() + absl::Seconds(10);

  ASSERT_OK_AND_ASSIGN(RolloutState back,
                       RolloutStateFromJson(RolloutStateToJson(s)));
  EXPECT_EQ(back, s);
}

// A state saved before hosts could be skipped has no "stale",
// "skip_reason", "skipped_by" nor "skipped_at": it reads with them unset.
TEST(RolloutStateTest, AStateFromBeforeSkippedHostsStillReads) {
  RolloutState s;
  s.certificate = "web";
  s.to_version = "web/3";
  HostRecord h;
  h.agent_id = "agt-a0";
  h.target = "web";
  h.state = HostState::kWaiting;
  s.hosts = {h};
  std::string json = RolloutStateToJson(s);
  for (const std::string field :
       {"\"stale\":false,", "\"skip_reason\":\"\",", "\"skipped_by\":\"\",",
        ",\"skipped_at\":\"infinite-past\""}) {
    ASSERT_NE(json.find(field), std::string::npos) << field << " in " << json;
    json.erase(json.find(field), field.size());
  }
  ASSERT_OK_AND_ASSIGN(RolloutState back, RolloutStateFromJson(json));
  EXPECT_EQ(back, s);
}

TEST(RolloutStateTest, DamagedStateIsDataLossNamingTheField) {
  const absl::Time t0 = T0();
  SimFleet fleet(t0, "web/2");
  RolloutController c = StartRollout(t0);
  std::vector<RolloutEvent> events;
  Drive(c, RolloutPolicy(), fleet, t0, t0 + absl::Minutes(1), absl::Minutes(1),
        events);
  const std::string json = RolloutStateToJson(c.state());

  std::string bad_state = json;
  const std::string changing = "\"state\":\"changing\"";
  ASSERT_NE(bad_state.find(changing), std::string::npos);
  bad_state.replace(bad_state.find(changing), changing.size(),
                    "\"state\":\"exploded\"");
  EXPECT_THAT(RolloutStateFromJson(bad_state),
              StatusIs(absl::StatusCode::kDataLoss,
                       "rollout state: field hosts[0].state: unknown value "
                       "\"exploded\""));

  std::string no_reason = json;
  const std::string reason = "\"halt_reason\":\"\",";
  ASSERT_NE(no_reason.find(reason), std::string::npos);
  no_reason.erase(no_reason.find(reason), reason.size());
  EXPECT_THAT(RolloutStateFromJson(no_reason),
              StatusIs(absl::StatusCode::kDataLoss,
                       "rollout state: field halt_reason: missing"));

  EXPECT_THAT(RolloutController::Restore(json.substr(0, json.size() / 2)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("rollout state: not valid JSON")));
}

}  // namespace
}  // namespace certfleet::rollout
