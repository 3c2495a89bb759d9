// The agent actions through the admin API (mTLS, audit): disable cuts the
// agent's stream and refuses it until enabled; remove refuses it for good
// (and its re-enrollment); relabel replaces its labels; a token re-enrolls
// an existing agent. Every action is audited, failures included; agents
// list says each agent's state.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "coordinator/adminapi/admin_views.h"
#include "ctl/ctl_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/adminapi/admin_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::adminapi::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr char kAgent[] = "agt-0000000000a1";
constexpr char kOther[] = "agt-0000000000a2";

class Channel : public delivery::AgentChannel {
 public:
  void Send(const v1::CoordinatorMessage&) override {}
  void Close(const absl::Status& why) override {
    absl::MutexLock lock(&mu_);
    closed_ = why;
  }
  std::optional<absl::Status> closed() const {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

 private:
  mutable absl::Mutex mu_;
  std::optional<absl::Status> closed_ ABSL_GUARDED_BY(mu_);
};

class AdminAgentActionsTest : public AdminApiTest {
 protected:
  void SetUp() override {
    c_.PutAgent(kAgent, {{"role", "web"}});
    c_.PutAgent(kOther, {{"role", "web"}});
    client_ = ClientFor(AdminIdentityFor("alice"));
  }

  std::shared_ptr<Channel> Connect(const std::string& id) {
    auto channel = std::make_shared<Channel>();
    c_.hub->Attach(id, delivery::testing::kTestIdentitySerial, channel);
    c_.hub->Flush();
    return channel;
  }

  // The audit records of admin alice, oldest first.
  std::vector<store::AuditRecord> Audit() {
    absl::StatusOr<std::vector<store::AuditRecord>> all =
        c_.store.ListAudit({});
    EXPECT_OK(all);
    std::vector<store::AuditRecord> out;
    if (!all.ok()) return out;
    for (auto it = all->rbegin(); it != all->rend(); ++it) {
      if (it->actor == "admin:alice") out.push_back(*it);
    }
    return out;
  }

  std::map<std::string, std::string> States() {
    absl::StatusOr<v1::ListAgentsResponse> r = client_->ListAgents();
    EXPECT_OK(r);
    std::map<std::string, std::string> out;
    if (!r.ok()) return out;
    for (const v1::AgentInfo& a : r->agents()) out[a.id()] = a.state();
    return out;
  }

  std::unique_ptr<ctl::AdminClient> client_;
};

TEST_F(AdminAgentActionsTest, DisableCutsTheStreamUntilEnabled) {
  std::shared_ptr<Channel> stream = Connect(kAgent);
  ASSERT_EQ(c_.hub->connected(), 1u);
  ASSERT_OK_AND_ASSIGN(v1::AgentActionResponse r,
                       client_->DisableAgent(kAgent, "ticket 9"));
  EXPECT_EQ(r.previous_status(), "active");
  EXPECT_EQ(r.agent().status(), "disabled");
  EXPECT_EQ(r.agent().state(), "disabled");
  EXPECT_EQ(r.agent().status_changed_by(), "admin:alice");
  EXPECT_EQ(TimeFromProtoOrPast(r.agent().status_changed_at()), clock_.Now());
  // The stream was closed before the call returned.
  ASSERT_TRUE(stream->closed().has_value());
  EXPECT_EQ(stream->closed()->code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(c_.hub->connected(), 0u);
  // Refused while disabled; disabling again changes nothing.
  EXPECT_TRUE(Connect(kAgent)->closed().has_value());
  ASSERT_OK_AND_ASSIGN(r, client_->DisableAgent(kAgent, ""));
  EXPECT_EQ(r.previous_status(), "disabled");
  EXPECT_THAT(States(), (std::map<std::string, std::string>{
                            {kAgent, "disabled"}, {kOther, "disconnected"}}));

  ASSERT_OK_AND_ASSIGN(r, client_->EnableAgent(kAgent));
  EXPECT_EQ(r.previous_status(), "disabled");
  EXPECT_EQ(r.agent().status(), "active");
  std::shared_ptr<Channel> back = Connect(kAgent);
  EXPECT_FALSE(back->closed().has_value());
  EXPECT_EQ(States()[kAgent], "connected");

  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].action, "agent.disable");
  EXPECT_EQ(audit[0].result, "ok");
  EXPECT_EQ(audit[0].detail,
            absl::StrCat("disable agent ", kAgent,
                         " (reason: \"ticket 9\"): was active, now disabled"));
  EXPECT_EQ(audit[1].detail, absl::StrCat("disable agent ", kAgent,
                                          ": was disabled, now disabled"));
  EXPECT_EQ(audit[2].action, "agent.enable");
  EXPECT_EQ(audit[2].detail, absl::StrCat("enable agent ", kAgent,
                                          ": was disabled, now active"));
}

TEST_F(AdminAgentActionsTest, RemoveIsForGood) {
  std::shared_ptr<Channel> stream = Connect(kAgent);
  ASSERT_OK_AND_ASSIGN(v1::AgentActionResponse r,
                       client_->RemoveAgent(kAgent, "decommissioned"));
  EXPECT_EQ(r.agent().status(), "removed");
  EXPECT_EQ(r.agent().state(), "removed");
  ASSERT_TRUE(stream->closed().has_value());
  EXPECT_THAT(stream->closed()->message(), HasSubstr("was removed"));
  EXPECT_TRUE(Connect(kAgent)->closed().has_value());

  // Nothing brings it back: not enable, not a relabel, not a token.
  EXPECT_THAT(client_->EnableAgent(kAgent),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("was removed by admin:alice at ")));
  EXPECT_THAT(client_->DisableAgent(kAgent, ""),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(client_->RelabelAgent(kAgent, {{"role", "db"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot be relabelled")));
  EXPECT_THAT(client_->CreateToken({}, std::nullopt, "", kAgent),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("a removed agent is never re-enrolled")));
  // The record stays, for the audit trail; removing again is harmless.
  ASSERT_OK_AND_ASSIGN(v1::GetAgentResponse got, client_->GetAgent(kAgent));
  EXPECT_EQ(got.agent().status(), "removed");
  ASSERT_OK_AND_ASSIGN(r, client_->RemoveAgent(kAgent, ""));
  EXPECT_EQ(r.previous_status(), "removed");

  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_EQ(audit.size(), 6u);
  EXPECT_EQ(audit[0].action, "agent.remove");
  EXPECT_EQ(audit[0].detail,
            absl::StrCat("remove agent ", kAgent,
                         " (reason: \"decommissioned\"): was active, now "
                         "removed"));
  EXPECT_EQ(audit[1].action, "agent.enable");
  EXPECT_THAT(audit[1].result, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_EQ(audit[4].action, "token.create");
  EXPECT_THAT(audit[4].result, HasSubstr("FAILED_PRECONDITION"));
}

TEST_F(AdminAgentActionsTest, RelabelReplacesTheLabels) {
  ASSERT_OK_AND_ASSIGN(
      v1::AgentActionResponse r,
      client_->RelabelAgent(kAgent, {{"role", "db"}, {"pool", "p2"}}));
  EXPECT_EQ(
      (std::map<std::string, std::string>(r.agent().labels().begin(),
                                          r.agent().labels().end())),
      (std::map<std::string, std::string>{{"pool", "p2"}, {"role", "db"}}));
  EXPECT_EQ((std::map<std::string, std::string>(r.previous_labels().begin(),
                                                r.previous_labels().end())),
            (std::map<std::string, std::string>{{"role", "web"}}));
  EXPECT_EQ((**c_.store.GetAgent(kAgent)).labels.at("role"), "db");

  EXPECT_THAT(client_->RelabelAgent(kAgent, {{"role", "d b"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("RelabelAgent: label role: value \"d b\"")));
  EXPECT_THAT(client_->RelabelAgent(kAgent, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("labels are required")));
  EXPECT_THAT(client_->RelabelAgent("agt-00000000dead", {{"role", "db"}}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("RelabelAgent: no agent agt-00000000dead")));
  EXPECT_EQ((**c_.store.GetAgent(kAgent)).labels.at("role"), "db");

  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_EQ(audit.size(), 4u);
  EXPECT_EQ(audit[0].action, "agent.relabel");
  EXPECT_EQ(audit[0].detail,
            absl::StrCat("relabel agent ", kAgent,
                         " to pool=p2,role=db: was active, now active; labels "
                         "were role=web"));
  EXPECT_THAT(audit[1].result, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(audit[3].result, HasSubstr("NOT_FOUND"));
}

// A relabel out of a certificate's selection forgets the version the
// target was to serve, in the store, whether or not the agent is connected.
TEST_F(AdminAgentActionsTest,
       RelabelOutOfACertificateForgetsItsDesiredVersion) {
  ASSERT_OK(c_.store.PutTargetState({.agent_id = kOther,
                                     .target = "www",
                                     .certificate = "web",
                                     .desired_version_id = "web/1",
                                     .installed_version_id = "web/1"}));
  ASSERT_OK(c_.store.PutDesiredVersion(kOther, "www", "web", "web/1"));
  ASSERT_EQ(c_.store.TargetState(kOther, "www")->desired_version_id, "web/1");
  ASSERT_OK(client_->RelabelAgent(kOther, {{"role", "db"}}).status());
  ASSERT_TRUE(c_.store.TargetState(kOther, "www").has_value());
  EXPECT_EQ(c_.store.TargetState(kOther, "www")->desired_version_id, "");
  EXPECT_EQ(c_.store.TargetState(kOther, "www")->installed_version_id, "web/1");
}

TEST_F(AdminAgentActionsTest, ATokenReenrollsAnExistingAgent) {
  ASSERT_OK_AND_ASSIGN(
      v1::CreateTokenResponse t,
      client_->CreateToken({}, absl::Minutes(30), "web-1 is back", kAgent));
  EXPECT_EQ(t.for_agent(), kAgent);
  EXPECT_EQ(t.labels().at("role"), "web");
  ASSERT_OK_AND_ASSIGN(std::optional<store::TokenRecord> stored,
                       c_.store.GetToken(t.id()));
  EXPECT_EQ(stored->for_agent, kAgent);
  EXPECT_EQ(stored->expires_at, clock_.Now() + absl::Minutes(30));
  EXPECT_THAT(ctl::FormatToken(t, /*json=*/false),
              HasSubstr(absl::StrCat("agent     ", kAgent, " (re-enrolled")));

  EXPECT_THAT(client_->CreateToken({{"role", "db"}}, std::nullopt, "", kAgent),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("labels cannot be given with for_agent")));
  EXPECT_THAT(client_->CreateToken({}, std::nullopt, "", "agt-00000000dead"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("CreateToken: no agent agt-00000000dead")));
  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].action, "token.create");
  EXPECT_EQ(audit[0].detail,
            absl::StrCat("re-enroll agent ", kAgent,
                         ", ttl 30m, description \"web-1 is back\", token id ",
                         t.id(), ", labels role=web"));
}

// agents list: connected, disconnected, stale (not seen for stale_after),
// disabled, removed — in the table's STATE column and in JSON.
TEST_F(AdminAgentActionsTest, AgentsListSaysEachAgentsState) {
  std::shared_ptr<Channel> stream = Connect(kAgent);
  EXPECT_THAT(States(), (std::map<std::string, std::string>{
                            {kAgent, "connected"}, {kOther, "disconnected"}}));
  clock_.Advance(absl::Hours(2));
  EXPECT_THAT(States(), (std::map<std::string, std::string>{
                            {kAgent, "connected"}, {kOther, "stale"}}));
  c_.hub->Detach(kAgent, stream.get());
  c_.hub->Flush();
  clock_.Advance(absl::Minutes(59));
  EXPECT_EQ(States()[kAgent], "disconnected");
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(States()[kAgent], "stale");

  ASSERT_OK(client_->DisableAgent(kOther, "").status());
  ASSERT_OK_AND_ASSIGN(v1::ListAgentsResponse r, client_->ListAgents());
  const std::vector<std::string> lines =
      absl::StrSplit(ctl::FormatAgents(r, /*json=*/false), '\n');
  ASSERT_GE(lines.size(), 3u);
  EXPECT_THAT(lines[0], MatchesRegex("AGENT +HOSTNAME +STATE +LABELS .*"));
  const size_t column = lines[0].find("STATE");
  EXPECT_EQ(lines[1].substr(column, 6), "stale ");
  EXPECT_EQ(lines[2].substr(column, 9), "disabled ");
  const nlohmann::json j =
      nlohmann::json::parse(ctl::FormatAgents(r, /*json=*/true));
  EXPECT_EQ(j["agents"][1]["state"], "disabled");
  EXPECT_EQ(j["agents"][1]["status"], "disabled");
  EXPECT_EQ(j["agents"][1]["status_changed_by"], "admin:alice");

  ASSERT_OK_AND_ASSIGN(v1::GetAgentResponse one, client_->GetAgent(kOther));
  EXPECT_THAT(ctl::FormatAgent(one, /*json=*/false),
              MatchesRegex("(.|\n)*state +disabled \\(by admin:alice at "
                           "[0-9T:Z-]+\\)\n(.|\n)*"));
}

TEST(AgentActionFormatTest, OneLineSaysWhatChanged) {
  v1::AgentActionResponse r;
  r.mutable_agent()->set_id("agt-000000000001");
  r.mutable_agent()->set_status("disabled");
  r.set_previous_status("active");
  EXPECT_EQ(ctl::FormatAgentAction(r, ctl::Command::kAgentsDisable, false),
            "agent agt-000000000001 disabled (was active): its stream is "
            "closed and it is refused until `certfleetctl agents enable "
            "agt-000000000001`\n");
  (*r.mutable_previous_labels())["role"] = "web";
  (*r.mutable_agent()->mutable_labels())["role"] = "db";
  EXPECT_EQ(ctl::FormatAgentAction(r, ctl::Command::kAgentsRelabel, false),
            "agent agt-000000000001 relabelled: role=web -> role=db\n");
  const nlohmann::json j = nlohmann::json::parse(
      ctl::FormatAgentAction(r, ctl::Command::kAgentsRelabel, true));
  EXPECT_EQ(j["previous_status"], "active");
  EXPECT_EQ(j["previous_labels"]["role"], "web");
  EXPECT_EQ(j["agent"]["labels"]["role"], "db");
}

}  // namespace
}  // namespace certfleet::adminapi::testing
