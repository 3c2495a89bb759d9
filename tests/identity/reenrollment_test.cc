// Re-enrollment: a bootstrap token made for an existing agent
// (BootstrapTokens::CreateForAgent) gives it a new identity and keeps
// everything else; the identity it replaces is refused from then on; a
// removed agent is never re-enrolled.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/certificate.h"
#include "common/crypto/kek.h"
#include "coordinator/identity/enrollment.h"
#include "coordinator/store/memory_store.h"
#include "gmock/gmock.h"
#include "tests/identity/identity_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::identity {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::StatusIs;
using testing::CertifiesKey;
using testing::CsrFor;
using ::testing::HasSubstr;
using testing::NewKey;

using Labels = std::map<std::string, std::string>;

class ReenrollmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(
        ca_, InternalCa::LoadOrCreate(
                 store_, crypto::Kek::FromBytes(std::string(32, 'k')), clock_));
    enrollment_ = std::make_unique<EnrollmentService>(
        store_, *ca_, tokens_, clock_,
        EnrollmentOptions{.identity_lifetime = absl::Hours(24)});
    ASSERT_OK_AND_ASSIGN(
        std::string token,
        tokens_.Create({{"role", "web"}, {"pool", "p0"}}, absl::Hours(1), ""));
    ASSERT_OK_AND_ASSIGN(
        first_, enrollment_->Enroll(token, CsrFor(NewKey()), "web-1", {}));
    enrolled_at_ = clock_.Now();
  }

  static std::string IdOf(const std::string& token) {
    return std::vector<std::string>(absl::StrSplit(token, '.'))[1];
  }

  store::AgentRecord Agent() {
    absl::StatusOr<std::optional<store::AgentRecord>> a =
        store_.GetAgent(first_.agent_id);
    EXPECT_TRUE(a.ok() && a->has_value());
    return a.ok() && a->has_value() ? **a : store::AgentRecord{};
  }

  void SetStatus(store::AgentStatus status) {
    ASSERT_OK(store_
                  .UpdateAgent(first_.agent_id,
                               [&](store::AgentRecord& a) {
                                 a.status = status;
                                 a.status_changed_by = "admin:alice";
                                 a.status_changed_at = clock_.Now();
                                 return absl::OkStatus();
                               })
                  .status());
  }

  FakeClock clock_;
  store::InMemoryStore store_;
  BootstrapTokens tokens_{store_, clock_};
  std::unique_ptr<InternalCa> ca_;
  std::unique_ptr<EnrollmentService> enrollment_;
  EnrollmentService::EnrollResult first_;
  absl::Time enrolled_at_;
};

TEST_F(ReenrollmentTest, KeepsTheIdLabelsTargetsAndHistoryWithANewIdentity) {
  ASSERT_OK(store_.PutTargetState({.agent_id = first_.agent_id,
                                   .target = "www",
                                   .certificate = "web",
                                   .desired_version_id = "web/2",
                                   .installed_version_id = "web/2"}));
  ASSERT_OK(store_.PutDesiredVersion(first_.agent_id, "www", "web", "web/2"));
  // Relabelled since it enrolled: the agent's labels now are what counts.
  ASSERT_OK(store_
                .UpdateAgent(first_.agent_id,
                             [](store::AgentRecord& a) {
                               a.labels = {{"role", "web"}, {"pool", "p1"}};
                               return absl::OkStatus();
                             })
                .status());
  clock_.Advance(absl::Hours(72));  // its identity expired meanwhile
  ASSERT_OK_AND_ASSIGN(
      std::string token,
      tokens_.CreateForAgent(first_.agent_id, absl::Hours(1), "web-1 is back"));
  ASSERT_OK_AND_ASSIGN(std::optional<store::TokenRecord> record,
                       store_.GetToken(IdOf(token)));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->for_agent, first_.agent_id);
  EXPECT_EQ(record->labels, (Labels{{"pool", "p1"}, {"role", "web"}}));

  const crypto::PrivateKey key = NewKey();
  ASSERT_OK_AND_ASSIGN(EnrollmentService::EnrollResult again,
                       enrollment_->Enroll(token, CsrFor(key), "web-1.rebuilt",
                                           {{"pool", "p1"}}));
  EXPECT_EQ(again.agent_id, first_.agent_id);
  EXPECT_TRUE(again.reenrolled);
  EXPECT_EQ(again.labels, (Labels{{"pool", "p1"}, {"role", "web"}}));
  EXPECT_NE(again.serial, first_.serial);
  EXPECT_TRUE(CertifiesKey(again.certificate_pem, key));
  ASSERT_OK_AND_ASSIGN(crypto::Certificate cert,
                       crypto::Certificate::FromPem(again.certificate_pem));
  EXPECT_EQ(cert.SubjectCommonName(), first_.agent_id);
  EXPECT_EQ(cert.SerialHex(), again.serial);

  const store::AgentRecord agent = Agent();
  EXPECT_EQ(agent.identity_serial, again.serial);
  EXPECT_EQ(agent.identity_not_after, cert.NotAfter());
  EXPECT_EQ(agent.enrolled_at, enrolled_at_);  // history kept
  EXPECT_EQ(agent.hostname, "web-1.rebuilt");
  EXPECT_EQ(agent.token_id, IdOf(token));
  EXPECT_EQ(agent.last_seen_at, clock_.Now());
  EXPECT_EQ(agent.status, store::AgentStatus::kActive);
  ASSERT_OK_AND_ASSIGN(std::vector<store::TargetStateRecord> targets,
                       store_.ListTargetStates(first_.agent_id));
  EXPECT_EQ(targets.size(), 1u);
  ASSERT_OK_AND_ASSIGN(std::vector<store::AgentRecord> agents,
                       store_.ListAgents());
  EXPECT_EQ(agents.size(), 1u);  // no ghost beside it
  ASSERT_OK_AND_ASSIGN(std::optional<store::TokenRecord> used,
                       store_.GetToken(IdOf(token)));
  EXPECT_EQ(used->used_by, first_.agent_id);

  // The replaced identity is refused; the new one renews.
  EXPECT_THAT(enrollment_->RenewIdentity(first_.agent_id, first_.serial,
                                         CsrFor(NewKey())),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("is not the agent's current one")));
  EXPECT_OK(enrollment_->RenewIdentity(first_.agent_id, again.serial,
                                       CsrFor(NewKey())));

  // Audited, naming both serials.
  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> audit,
                       store_.ListAudit({}));
  ASSERT_EQ(audit.size(), 2u);  // newest first
  EXPECT_EQ(audit[0].action, "agent.reenroll");
  EXPECT_EQ(audit[0].actor, absl::StrCat("bootstrap-token:", IdOf(token)));
  EXPECT_EQ(audit[0].detail,
            absl::StrCat("agent ", first_.agent_id,
                         " re-enrolled from host web-1.rebuilt: identity "
                         "serial ",
                         again.serial, " replaces ", first_.serial));
}

TEST_F(ReenrollmentTest, OnlyTheAgentsOwnLabelsMayBeClaimed) {
  ASSERT_OK_AND_ASSIGN(
      std::string token,
      tokens_.CreateForAgent(first_.agent_id, absl::Hours(1), ""));
  EXPECT_THAT(
      enrollment_->Enroll(token, CsrFor(NewKey()), "web-1", {{"role", "db"}}),
      StatusIs(
          absl::StatusCode::kPermissionDenied,
          absl::StrCat("label role=db is not granted by agent ",
                       first_.agent_id, " (it grants: pool=p0,role=web)")));
  EXPECT_EQ(Agent().identity_serial, first_.serial);
  // The token survives the refusal.
  EXPECT_OK(enrollment_->Enroll(token, CsrFor(NewKey()), "web-1", {}));
}

TEST_F(ReenrollmentTest, ADisabledAgentIsReenrolledButStaysDisabled) {
  SetStatus(store::AgentStatus::kDisabled);
  ASSERT_OK_AND_ASSIGN(
      std::string token,
      tokens_.CreateForAgent(first_.agent_id, absl::Hours(1), ""));
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::EnrollResult again,
      enrollment_->Enroll(token, CsrFor(NewKey()), "web-1", {}));
  EXPECT_EQ(Agent().identity_serial, again.serial);
  EXPECT_EQ(Agent().status, store::AgentStatus::kDisabled);
  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> audit,
                       store_.ListAudit({}));
  EXPECT_THAT(audit[0].detail, HasSubstr("; the agent stays disabled"));
}

TEST_F(ReenrollmentTest, ARemovedAgentIsNeverReenrolled) {
  // A token made before the removal does not bring it back either.
  ASSERT_OK_AND_ASSIGN(
      std::string token,
      tokens_.CreateForAgent(first_.agent_id, absl::Hours(1), ""));
  SetStatus(store::AgentStatus::kRemoved);
  EXPECT_THAT(tokens_.CreateForAgent(first_.agent_id, absl::Hours(1), ""),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("was removed by admin:alice at ")));
  EXPECT_THAT(enrollment_->Enroll(token, CsrFor(NewKey()), "web-1", {}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       absl::StrCat("agent ", first_.agent_id,
                                    " was removed by admin:alice; a removed "
                                    "agent is never re-enrolled (enroll the "
                                    "host as a new agent)")));
  EXPECT_EQ(Agent().identity_serial, first_.serial);
  ASSERT_OK_AND_ASSIGN(std::optional<store::TokenRecord> record,
                       store_.GetToken(IdOf(token)));
  EXPECT_EQ(record->used_at, absl::InfinitePast());
}

TEST_F(ReenrollmentTest, UnknownAgents) {
  EXPECT_THAT(
      tokens_.CreateForAgent("agt-000000000000", absl::Hours(1), ""),
      StatusIs(absl::StatusCode::kNotFound, "no agent agt-000000000000"));
  EXPECT_THAT(tokens_.CreateForAgent(first_.agent_id, absl::ZeroDuration(), ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not positive")));
  // A token naming an agent that is gone (a store restored from an older
  // backup).
  ASSERT_OK_AND_ASSIGN(
      std::string token,
      tokens_.CreateForAgent(first_.agent_id, absl::Hours(1), ""));
  ASSERT_OK_AND_ASSIGN(std::optional<store::TokenRecord> record,
                       store_.GetToken(IdOf(token)));
  record->for_agent = "agt-0000000000ff";
  ASSERT_OK(store_.PutToken(*record));
  EXPECT_THAT(enrollment_->Enroll(token, CsrFor(NewKey()), "web-1", {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       absl::StrCat("bootstrap token ", IdOf(token),
                                    " re-enrolls agent agt-0000000000ff, "
                                    "which does not exist")));
}

}  // namespace
}  // namespace certfleet::identity
