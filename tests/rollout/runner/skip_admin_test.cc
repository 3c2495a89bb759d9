// `certfleetctl rollout skip CERT AGENT` through the admin API: the active
// rollout stops waiting for the agent, moves on at once, shows the host as
// skipped, and the action is audited (refusals too).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/rollout/runner/rollout_admin_fixture.h"

namespace certfleet::rollout::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST_F(RolloutAdminTest, CtlRolloutSkipReleasesTheCanaryWave) {
  const int canary = StartRollout();
  ASSERT_GE(canary, 0);
  const std::string agent = RolloutFleet::AgentId(canary);
  // The canary goes away before it reports: the wave would wait for it
  // until its health timeout failed it (and halted the rollout).
  f_.Disconnect(canary);

  ProcessResult r = Ctl({"rollout", "skip", "web", "agt-0000000000ff"});
  EXPECT_EQ(r.exit_code, 1) << r.stderr_data;
  EXPECT_THAT(r.stderr_data, HasSubstr("SkipRolloutHost: rollout ro-"));
  EXPECT_THAT(r.stderr_data,
              HasSubstr("agent agt-0000000000ff has no target in the rollout "
                        "of web to web/2"));

  r = Ctl({"rollout", "skip", "web", agent});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("skipped (by admin:alice)"));
  EXPECT_THAT(r.stdout_data, HasSubstr("skipped 1"));
  // Moved on: the second wave has started.
  EXPECT_THAT(r.stdout_data, HasSubstr("delivering (wave 2 of 3)"));

  r = Ctl({"-o", "json", "rollout", "status", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  const nlohmann::json j = nlohmann::json::parse(r.stdout_data);
  bool found = false;
  for (const nlohmann::json& h : j["hosts"]) {
    if (h["agent_id"] != agent) continue;
    found = true;
    EXPECT_EQ(h["state"], "skipped");
    EXPECT_EQ(h["skip_reason"], "operator");
    EXPECT_EQ(h["skipped_by"], "admin:alice");
  }
  EXPECT_TRUE(found);

  const std::vector<store::AuditRecord> audit = AdminAudit();
  ASSERT_GE(audit.size(), 2u);
  EXPECT_EQ(audit[0].action, "rollout.skip");  // the refusal, first
  EXPECT_THAT(audit[0].result, HasSubstr("NOT_FOUND"));
  bool skip_ok = false;
  for (const store::AuditRecord& a : audit) {
    if (a.action == "rollout.skip" && a.result == "ok") {
      skip_ok = true;
      EXPECT_THAT(a.detail, HasSubstr(absl::StrCat("stop waiting for agent ",
                                                   agent, ": rollout ro-")));
      EXPECT_THAT(a.detail, HasSubstr("now delivering"));
    }
  }
  EXPECT_TRUE(skip_ok);
}

TEST_F(RolloutAdminTest, SkipWithoutARolloutIsRefused) {
  EXPECT_THAT(client_->SkipRolloutHost("web", RolloutFleet::AgentId(1)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no rollout of web is in progress")));
  EXPECT_THAT(client_->SkipRolloutHost("web", ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("agent_id is empty")));
}

}  // namespace
}  // namespace certfleet::rollout::testing
