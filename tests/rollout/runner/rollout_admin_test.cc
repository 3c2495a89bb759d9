// The operator's rollout commands end to end in one process
// (rollout_admin_fixture.h): rollout status, pause, resume and abort through
// the admin API and certfleetctl, their audit records, and agent identities
// refused.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/rollout/runner/rollout_admin_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::rollout::testing::RolloutAdminTest;
using ::certfleet::rollout::testing::RolloutFleet;
using ::certfleet::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

TEST_F(RolloutAdminTest, StatusShowsTheCanaryWave) {
  const int canary = StartRollout();
  ASSERT_GE(canary, 0);
  ASSERT_OK_AND_ASSIGN(v1::GetRolloutResponse status,
                       client_->GetRollout("web"));
  const v1::RolloutInfo& r = status.rollout();
  EXPECT_EQ(r.id(), f_.Active().id);
  EXPECT_EQ(r.kind(), "rollout");
  EXPECT_EQ(r.from_version(), "web/1");
  EXPECT_EQ(r.to_version(), "web/2");
  EXPECT_EQ(r.phase(), "delivering");
  EXPECT_EQ(r.wave(), 1);
  EXPECT_EQ(r.wave_count(), 3);  // TestPolicy: [1, 50%, 100%]
  ASSERT_THAT(r.hosts(), SizeIs(RolloutFleet::kAgents));
  EXPECT_EQ(r.host_counts().at("changing"), 1);
  EXPECT_EQ(r.host_counts().at("queued"), RolloutFleet::kAgents - 1);
  int in_wave = 0;
  for (const v1::RolloutHost& h : r.hosts()) {
    if (h.wave() != 1) continue;
    ++in_wave;
    EXPECT_EQ(h.agent_id(), RolloutFleet::AgentId(canary));
    EXPECT_EQ(h.target(), "www");
    EXPECT_EQ(h.pool(), absl::StrCat("p", canary % 3));
    EXPECT_EQ(h.state(), "changing");
    EXPECT_TRUE(h.online());
  }
  EXPECT_EQ(in_wave, 1);
  // Read-only: not audited.
  EXPECT_THAT(AdminAudit(), IsEmpty());
}

TEST_F(RolloutAdminTest, NoRolloutIsNotFoundAndActionsFailThePrecondition) {
  EXPECT_THAT(
      client_->GetRollout("web"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no rollout of web")));
  EXPECT_THAT(client_->PauseRollout("web"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no rollout of web is in progress")));
  // The refused action is audited with its error.
  const std::vector<store::AuditRecord> audit = AdminAudit();
  ASSERT_THAT(audit, SizeIs(1));
  EXPECT_EQ(audit[0].action, "rollout.pause");
  EXPECT_EQ(audit[0].certificate, "web");
  EXPECT_THAT(
      audit[0].result,
      HasSubstr("FAILED_PRECONDITION: no rollout of web is in progress"));
}

TEST_F(RolloutAdminTest, PauseHoldsTheNextWaveAndResumeContinues) {
  const int canary = StartRollout();
  ASSERT_GE(canary, 0);
  f_.Ack(canary);
  f_.Step();
  ASSERT_EQ(f_.Active().phase, "baking");

  ASSERT_OK_AND_ASSIGN(v1::GetRolloutResponse paused,
                       client_->PauseRollout("web"));
  EXPECT_EQ(paused.rollout().phase(), "paused");
  EXPECT_EQ(paused.rollout().paused_from(), "baking");
  EXPECT_EQ(f_.Active().phase, "paused");
  // Pausing twice is refused by the controller.
  EXPECT_THAT(client_->PauseRollout("web"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the rollout of web is already paused")));

  // Far past the bake: nothing moves while paused.
  f_.clock.Advance(absl::Minutes(30));
  f_.Step();
  f_.Step();
  EXPECT_THAT(f_.Received("web/2"), ElementsAre(canary));
  EXPECT_EQ(f_.Active().phase, "paused");

  ASSERT_OK_AND_ASSIGN(v1::GetRolloutResponse resumed,
                       client_->ResumeRollout("web"));
  EXPECT_NE(resumed.rollout().phase(), "paused");
  f_.Step();
  f_.clock.Advance(absl::Minutes(5));
  f_.Step();
  EXPECT_THAT(f_.Received("web/2"), SizeIs(6));  // wave 2: 50% of 12
  EXPECT_EQ(f_.Active().phase, "delivering");

  const std::vector<store::AuditRecord> audit = AdminAudit();
  std::vector<std::string> actions;
  for (const store::AuditRecord& a : audit) actions.push_back(a.action);
  // The controller's events by alice, and each call with its result.
  EXPECT_THAT(actions, Contains("rollout.paused"));
  EXPECT_THAT(actions, Contains("rollout.resumed"));
  EXPECT_THAT(actions, Contains("rollout.pause"));
  EXPECT_THAT(actions, Contains("rollout.resume"));
  for (const store::AuditRecord& a : audit) {
    if (a.action == "rollout.resume") {
      EXPECT_EQ(a.result, "ok");
      EXPECT_THAT(a.detail, HasSubstr("web/1 -> web/2"));
    }
  }
}

TEST_F(RolloutAdminTest, AbortEndsTheRolloutAndKeepsNewTargetsOnTheOldVersion) {
  const int canary = StartRollout();
  ASSERT_GE(canary, 0);
  const std::string id = f_.Active().id;
  ASSERT_OK_AND_ASSIGN(v1::GetRolloutResponse aborted,
                       client_->AbortRollout("web"));
  EXPECT_EQ(aborted.rollout().id(), id);
  EXPECT_EQ(aborted.rollout().phase(), "aborted");
  EXPECT_TRUE(aborted.rollout().has_finished_at());
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> stored,
                       f_.parts.store.GetRollout(id));
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->finished);

  // Nothing more moves; status shows the latest (aborted) rollout.
  f_.clock.Advance(absl::Hours(1));
  f_.Step();
  EXPECT_THAT(f_.Received("web/2"), ElementsAre(canary));
  ASSERT_OK_AND_ASSIGN(v1::GetRolloutResponse status,
                       client_->GetRollout("web"));
  EXPECT_EQ(status.rollout().phase(), "aborted");
  // A new target gets what the fleet served before.
  f_.parts.PutAgent(RolloutFleet::AgentId(12), {{"role", "web"}});
  f_.Connect(12, "");
  EXPECT_EQ(f_.LastBundle(12), "web/1");
  // Aborting again: nothing in progress.
  EXPECT_THAT(client_->AbortRollout("web"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no rollout of web is in progress")));
  std::vector<std::string> actions;
  for (const store::AuditRecord& a : AdminAudit()) actions.push_back(a.action);
  EXPECT_THAT(actions,
              ElementsAre("rollout.aborted", "rollout.abort", "rollout.abort"));
}

TEST_F(RolloutAdminTest, AgentIdentityIsRefused) {
  StartRollout();
  std::unique_ptr<ctl::AdminClient> agent = ctl::AdminClient::Connect(
      Address(), IdentityFor(RolloutFleet::AgentId(0), /*agent=*/true),
      absl::Seconds(20));
  EXPECT_THAT(agent->PauseRollout("web"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(agent->GetRollout("web"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(f_.Active().phase, "delivering");
  EXPECT_THAT(AdminAudit(), IsEmpty());
}

TEST_F(RolloutAdminTest, CtlRolloutCommands) {
  const int canary = StartRollout();
  ASSERT_GE(canary, 0);
  ProcessResult r = Ctl({"rollout", "status", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  EXPECT_THAT(r.stdout_data,
              HasSubstr("phase:         delivering (wave 1 of 3)\n"));
  EXPECT_THAT(r.stdout_data, HasSubstr("versions:      web/1 -> web/2\n"));
  EXPECT_THAT(r.stdout_data,
              HasSubstr("hosts:         changing 1, queued 11\n"));
  EXPECT_THAT(r.stdout_data, HasSubstr("\nwave 1 of 3 (1 hosts)\n"));
  EXPECT_THAT(r.stdout_data, HasSubstr(absl::StrCat(
                                 RolloutFleet::AgentId(canary), "  www     p",
                                 canary % 3, "    changing  yes     -")));
  EXPECT_THAT(r.stdout_data, HasSubstr("\nnot in a wave (11 hosts)\n"));
  EXPECT_THAT(r.stdout_data, Not(HasSubstr("finished:")));  // unfinished

  r = Ctl({"-o", "json", "rollout", "status", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  const nlohmann::json j = nlohmann::json::parse(r.stdout_data);
  EXPECT_EQ(j["phase"], "delivering");
  EXPECT_EQ(j["wave"], 1);
  EXPECT_EQ(j["host_counts"]["changing"], 1);
  EXPECT_THAT(j["hosts"], SizeIs(RolloutFleet::kAgents));

  r = Ctl({"rollout", "pause", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  EXPECT_THAT(
      r.stdout_data,
      HasSubstr("phase:         paused (was delivering, wave 1 of 3)\n"));
  r = Ctl({"rollout", "pause", "web"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.stderr_data, HasSubstr("is already paused"));
  r = Ctl({"rollout", "resume", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  r = Ctl({"rollout", "abort", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("phase:         aborted"));
  r = Ctl({"rollout", "abort", "web"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.stderr_data, HasSubstr("no rollout of web is in progress"));
  r = Ctl({"rollout", "status", "nosuch"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.stderr_data, HasSubstr("no rollout of nosuch"));
  r = Ctl({"rollout", "pause"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_THAT(r.stderr_data, HasSubstr("rollout pause: which certificate?"));
  r = Ctl({"rollout", "restart", "web"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_THAT(r.stderr_data, HasSubstr("unknown subcommand \"restart\""));
}

}  // namespace
}  // namespace certfleet::rollout
