// Rollback through the admin API and certfleetctl over the 12-agent fleet
// (rollout_admin_fixture.h): to the previous version, expedited or in waves
// superseding an active rollout; refused for a revoked or unknown version;
// audited.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rollout/runner/rollout_admin_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::rollout {
namespace {

using ::certfleet::rollout::testing::RolloutAdminTest;
using ::certfleet::rollout::testing::RolloutFleet;
using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST_F(RolloutAdminTest,
       ExpeditedRollbackRestoresThePreviousVersionEverywhere) {
  CompleteRollout();
  ASSERT_OK_AND_ASSIGN(v1::GetRolloutResponse back,
                       client_->Rollback("web", 0, /*expedite=*/true));
  const v1::RolloutInfo& r = back.rollout();
  EXPECT_EQ(r.kind(), "rollback");
  EXPECT_EQ(r.from_version(), "web/2");
  EXPECT_EQ(r.to_version(), "web/1");
  EXPECT_TRUE(r.expedite());
  EXPECT_EQ(r.requested_by(), "admin:alice");
  EXPECT_EQ(r.phase(), "delivering");
  EXPECT_EQ(r.wave_count(), 1);
  f_.parts.hub->Flush();
  // All at once.
  for (int i = 0; i < RolloutFleet::kAgents; ++i) {
    EXPECT_EQ(f_.LastBundle(i), "web/1") << "agent " << i;
  }
  f_.AckAll("web/1");
  f_.Step();
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> done,
                       f_.parts.store.GetRollout(r.id()));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->phase, "complete");
  // A new target gets the version rolled back to, not the newest.
  f_.parts.PutAgent(RolloutFleet::AgentId(12), {{"role", "web"}});
  f_.Connect(12, "");
  EXPECT_EQ(f_.LastBundle(12), "web/1");

  const std::vector<store::AuditRecord> audit = AdminAudit();
  ASSERT_THAT(audit, SizeIs(2));
  EXPECT_EQ(audit[0].action, "rollout.created");
  EXPECT_EQ(audit[1].action, "rollout.rollback");
  EXPECT_EQ(audit[1].result, "ok");
  EXPECT_THAT(audit[1].detail,
              HasSubstr("roll back to the previous version, expedited"));
}

TEST_F(RolloutAdminTest, RollbackInWavesSupersedesTheActiveRollout) {
  const int canary = StartRollout();
  ASSERT_GE(canary, 0);
  const std::string old_id = f_.Active().id;
  ASSERT_OK_AND_ASSIGN(v1::GetRolloutResponse back,
                       client_->Rollback("web", 0, /*expedite=*/false));
  EXPECT_EQ(back.rollout().kind(), "rollback");
  EXPECT_EQ(back.rollout().from_version(), "web/2");
  EXPECT_EQ(back.rollout().to_version(), "web/1");
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> old,
                       f_.parts.store.GetRollout(old_id));
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->phase, "aborted");
  // The canary's delivery of web/2 was still in flight: it is called back,
  // and every host already serves web/1, so the rollback is done at once.
  f_.parts.hub->Flush();
  EXPECT_EQ(f_.LastBundle(canary), "web/1");
  EXPECT_EQ(back.rollout().host_counts().at("unchanged"),
            RolloutFleet::kAgents);
  EXPECT_EQ(back.rollout().phase(), "complete");
  f_.Ack(canary);
  f_.Step();
  f_.clock.Advance(absl::Hours(1));
  f_.Step();
  EXPECT_EQ(f_.LastBundle(canary), "web/1");
  std::vector<std::string> actions;
  for (const store::AuditRecord& a : AdminAudit()) actions.push_back(a.action);
  EXPECT_THAT(actions, ElementsAre("rollout.created", "rollout.rollback"));
}

TEST_F(RolloutAdminTest, RollbackToARevokedOrUnknownVersionIsRefused) {
  CompleteRollout();
  ASSERT_OK(f_.parts.store.MarkVersionRevoked("web", 1, f_.clock.Now(),
                                              "keyCompromise"));
  EXPECT_THAT(
      client_->Rollback("web", 0, false),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("revoked")));
  EXPECT_THAT(client_->Rollback("web", 7, false),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("certificate web has no version 7")));
  EXPECT_THAT(client_->Rollback("web", 2, false),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the fleet already serves web/2")));
  // Nothing moved: no rollout started.
  ASSERT_OK_AND_ASSIGN(std::optional<store::RolloutRecord> active,
                       f_.parts.store.ActiveRollout("web"));
  EXPECT_FALSE(active.has_value());
  std::vector<std::string> results;
  for (const store::AuditRecord& a : AdminAudit()) {
    // A refusal names the reason in its result.
    results.push_back(absl::StrCat(a.action, " ", a.result.substr(0, 19)));
  }
  EXPECT_THAT(results, ElementsAre("rollout.refused cannot roll back we",
                                   "rollout.rollback FAILED_PRECONDITION",
                                   "rollout.rollback NOT_FOUND: certific",
                                   "rollout.rollback FAILED_PRECONDITION"));
}

TEST_F(RolloutAdminTest, CtlRollback) {
  CompleteRollout();
  ProcessResult r = Ctl({"rollback", "web", "--to", "web/1", "--expedite"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.stderr_data;
  EXPECT_THAT(r.stdout_data, HasSubstr("(rollback, expedited)\n"));
  EXPECT_THAT(r.stdout_data, HasSubstr("versions:      web/2 -> web/1\n"));
  r = Ctl({"rollback", "web", "--to", "9"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.stderr_data, HasSubstr("certificate web has no version 9"));
  r = Ctl({"rollback", "web", "--to", "api/1"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_THAT(r.stderr_data,
              HasSubstr("--to: \"api/1\" is not a version of web"));
  r = Ctl({"rollout", "status", "web", "--expedite"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_THAT(r.stderr_data,
              HasSubstr("--to and --expedite belong to `rollback`"));
}

}  // namespace
}  // namespace certfleet::rollout
