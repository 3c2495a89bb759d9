// Revocable identities with the real agent session over the real agent
// service: a disabled agent's stream is cut within a second and it gets
// nothing until it is enabled; a re-enrolled agent keeps its id and its old
// identity is refused.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "coordinator/identity/enrollment.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agentapi/e2e_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agentapi::testing {
namespace {

using ::certfleet::testing::WaitFor;
using ::testing::Contains;
using ::testing::HasSubstr;

class IdentityRevocationTest : public AgentApiE2eTest {
 protected:
  void SetStatus(store::AgentStatus status) {
    ASSERT_OK(c_.store
                  .UpdateAgent(agent_id_,
                               [&](store::AgentRecord& a) {
                                 a.status = status;
                                 return absl::OkStatus();
                               })
                  .status());
    c_.hub->AgentChanged(agent_id_);  // as the admin API does
  }
  absl::Status Installed(const std::string& serial) {
    return WaitFor(
        absl::StrCat("www recorded as serving serial ", serial, ", healthy"),
        [&] {
          std::optional<store::TargetStateRecord> s = WwwState();
          return s && s->serial == serial && s->healthy;
        });
  }
};

TEST_F(IdentityRevocationTest, DisablingCutsTheAgentWithinASecondUntilEnabled) {
  const delivery::testing::StoredVersion v1 =
      c_.AddVersion("web", "1a01", absl::Now());
  ASSERT_OK(EnrollAgent({{"role", "web"}}).status());
  StartAgent();
  ASSERT_OK(Installed(v1.serial));
  ASSERT_EQ(session_observer_.connects(), 1);

  const absl::Time disabled_at = absl::Now();
  SetStatus(store::AgentStatus::kDisabled);
  ASSERT_OK(
      WaitFor("the disabled agent's stream ended with PERMISSION_DENIED", [&] {
        for (const std::string& why : session_observer_.disconnects()) {
          if (absl::StrContains(why, "PERMISSION_DENIED")) return true;
        }
        return false;
      }));
  const absl::Duration cut = absl::Now() - disabled_at;
  EXPECT_LT(cut, absl::Seconds(1));
  EXPECT_THAT(session_observer_.disconnects().front(),
              HasSubstr(absl::StrCat("agent ", agent_id_, " is disabled")));

  // While disabled it keeps retrying (backoff) and is refused every time;
  // a new version does not reach it.
  const delivery::testing::StoredVersion v2 =
      c_.AddVersion("web", "1a02", absl::Now());
  c_.hub->NotifyVersion("web");
  ASSERT_OK(WaitFor("the disabled agent to be refused again", [&] {
    return session_observer_.disconnects().size() >= 2;
  }));
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->connected(), 0u);
  EXPECT_EQ(ServedSerial(), v1.serial);
  EXPECT_EQ(session_observer_.connects(), 1);

  SetStatus(store::AgentStatus::kActive);
  ASSERT_OK(Installed(v2.serial));
  EXPECT_EQ(ServedSerial(), v2.serial);
  EXPECT_EQ(session_observer_.connects(), 2);
}

// A host whose identity is lost (expired while it was off) is enrolled
// again with a token for its agent id: same agent, new identity; the old
// identity is refused from then on.
TEST_F(IdentityRevocationTest,
       AReenrolledAgentKeepsItsIdAndItsOldIdentityIsRefused) {
  ASSERT_OK_AND_ASSIGN(agent::Identity old, EnrollAgent({{"role", "web"}}));
  ASSERT_OK_AND_ASSIGN(
      std::string token,
      c_.tokens.CreateForAgent(old.agent_id, absl::Hours(1), "rebuilt"));
  ASSERT_OK_AND_ASSIGN(agent::Identity again, EnrollWith(token, {}));
  EXPECT_EQ(again.agent_id, old.agent_id);
  EXPECT_NE(again.cert_pem, old.cert_pem);
  ASSERT_OK_AND_ASSIGN(auto agents, c_.store.ListAgents());
  EXPECT_EQ(agents.size(), 1u);  // no ghost beside it

  RawStream previous(
      Address(),
      {.ca_pem = old.ca_pem, .key_pem = old.key_pem, .cert_pem = old.cert_pem});
  previous.Write(HelloMessage());
  EXPECT_FALSE(previous.Read().has_value());
  const grpc::Status refused = previous.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  RawStream current(Address(), {.ca_pem = again.ca_pem,
                                .key_pem = again.key_pem,
                                .cert_pem = again.cert_pem});
  current.Write(HelloMessage());
  std::optional<v1::CoordinatorMessage> welcome = current.Read();
  ASSERT_TRUE(welcome.has_value());
  EXPECT_EQ(welcome->welcome().agent_id(), old.agent_id);
}

// A stream of the old identity that is open when the agent is re-enrolled
// (a thief's) is cut at once.
TEST_F(IdentityRevocationTest, ReenrollmentCutsAnOpenStreamOfTheOldIdentity) {
  ASSERT_OK_AND_ASSIGN(agent::Identity old, EnrollAgent({{"role", "web"}}));
  RawStream thief(
      Address(),
      {.ca_pem = old.ca_pem, .key_pem = old.key_pem, .cert_pem = old.cert_pem});
  thief.Write(HelloMessage());
  ASSERT_TRUE(thief.Read().has_value());  // welcome: still current
  ASSERT_OK_AND_ASSIGN(
      std::string token,
      c_.tokens.CreateForAgent(old.agent_id, absl::Hours(1), ""));
  ASSERT_OK(EnrollWith(token, {}).status());
  EXPECT_FALSE(thief.Read().has_value());
  const grpc::Status cut = thief.Finish();
  EXPECT_EQ(cut.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(cut.error_message(), HasSubstr("is not the agent's current"));
}

}  // namespace
}  // namespace certfleet::agentapi::testing
