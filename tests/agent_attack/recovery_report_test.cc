// A version rolled back by the agent's crash recovery is reported to the
// coordinator as that target's last failure (the install it interrupted
// never sent a DeliveryResult), in every inventory — across restarts — until
// a later install of the target succeeds. Real certfleet-agent processes,
// killed at a failpoint (common/failpoint.h).
#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent_attack/attack_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agent_attack {
namespace {

using ::certfleet::testing::ReadFileOrDie;
using ::certfleet::testing::WaitFor;
using ::certfleet::testing::WriteFileOrDie;
using ::testing::HasSubstr;

class RecoveryReportTest : public AttackTest {
 protected:
  // The www entry of the first inventory sent after the `after`-th one.
  v1::TargetState NextWwwState(int after) {
    v1::TargetState www;
    EXPECT_OK(WaitFor(
        absl::StrCat("an inventory after the ", after, "th"),
        [&] {
          int seen = 0;
          for (const v1::AgentMessage& m : coordinator_->Received()) {
            if (!m.has_inventory() || ++seen <= after) continue;
            if (m.inventory().targets_size() > 0) {
              www = m.inventory().targets(0);
              return true;
            }
          }
          return false;
        },
        kWait));
    return www;
  }
};

TEST_F(RecoveryReportTest,
       ARollbackByRecoveryIsReportedUntilAnInstallSucceeds) {
  const std::string www = RootDir("srv/www");
  WriteFileOrDie(File("health.sh"),
                 "#!/bin/sh\n"
                 "if [ \"$CERTFLEET_EXPECTED_SERIAL\" = 5e02 ]; then\n"
                 "  echo 'serves the wrong certificate' >&2; exit 1\n"
                 "fi\n",
                 0755);
  WriteConfig(
      www, absl::StrCat("    health:\n      - command: [\"", File("health.sh"),
                        "\"]\n    health_timeout: 1s\n"));
  StartAgent();
  ASSERT_TRUE(Deliver("www", 1).ok());
  StopAgent();

  // Killed right after reloading onto web/2: no delivery result was sent.
  StartAgent("agent.reloaded");
  ASSERT_OK(coordinator_->SendBundle(MakeBundle("www", 2), kWait));
  ASSERT_OK(WaitFor(
      "the agent to die at its failpoint", [&] { return !agent_->Running(); },
      kWait));
  agent_.reset();
  EXPECT_FALSE(
      coordinator_->WaitForResult("www", "web/2", absl::Milliseconds(1)).ok());

  // The next start checks web/2, which fails, and rolls back to web/1.
  int seen = Inventories();
  StartAgent();
  v1::TargetState www_state = NextWwwState(seen);
  EXPECT_EQ(www_state.version_id(), "web/1");
  ASSERT_TRUE(www_state.has_last_failure()) << www_state.ShortDebugString();
  EXPECT_EQ(www_state.last_failure().version_id(), "web/2");
  EXPECT_EQ(www_state.last_failure().failed_step(), "health");
  EXPECT_THAT(www_state.last_failure().error(),
              HasSubstr("serves the wrong certificate"));
  EXPECT_TRUE(www_state.last_failure().rolled_back());
  ASSERT_OK_AND_ASSIGN(
      crypto::Certificate served,
      crypto::Certificate::FromPem(ReadFileOrDie(www + "/fullchain.pem")));
  EXPECT_EQ(served.SerialHex(), "5e01");

  // Still reported after another restart.
  StopAgent();
  seen = Inventories();
  StartAgent();
  www_state = NextWwwState(seen);
  EXPECT_EQ(www_state.last_failure().version_id(), "web/2");

  // A later install succeeds: the failure is no longer reported.
  ASSERT_TRUE(Deliver("www", 3).ok());
  StopAgent();
  seen = Inventories();
  StartAgent();
  www_state = NextWwwState(seen);
  EXPECT_EQ(www_state.version_id(), "web/3");
  EXPECT_FALSE(www_state.has_last_failure()) << www_state.ShortDebugString();
}

}  // namespace
}  // namespace certfleet::agent_attack
