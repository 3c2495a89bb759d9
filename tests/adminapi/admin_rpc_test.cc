// What each admin call returns over the real server and client: status
// counts, certificates with their state, versions newest first with
// revocation, agents with their targets, NOT_FOUND for unknown names, and
// bootstrap tokens that a new agent can enroll with.
#include "absl/strings/str_cat.h"
#include "common/crypto/csr.h"
#include "coordinator/adminapi/admin_views.h"
#include "coordinator/identity/tokens.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adminapi/admin_fixture.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::adminapi::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AdminRpcTest : public AdminApiTest {
 protected:
  void SetUp() override {
    StoreFleet();
    client_ = ClientFor(AdminIdentityFor("alice"));
  }
  std::unique_ptr<ctl::AdminClient> client_;
};

TEST_F(AdminRpcTest, StatusCountsCertificatesAndAgents) {
  ASSERT_OK_AND_ASSIGN(v1::GetStatusResponse s, client_->GetStatus());
  EXPECT_EQ(s.caller(), "alice");
  EXPECT_EQ(s.version(), "0.1.0");
  EXPECT_EQ(TimeFromProtoOrPast(s.now()), clock_.Now());
  EXPECT_EQ(s.certificates(), 2);
  EXPECT_EQ(s.certificates_issued(), 1);   // web
  EXPECT_EQ(s.certificates_failing(), 1);  // api
  EXPECT_EQ(s.certificates_expired(), 0);
  EXPECT_EQ(s.agents(), 1);
  EXPECT_TRUE(s.agent_service());
  EXPECT_EQ(s.agents_connected(), 0);

  // web/2 lives 30 days.
  clock_.Advance(absl::Hours(24 * 31));
  ASSERT_OK_AND_ASSIGN(s, client_->GetStatus());
  EXPECT_EQ(s.certificates_expired(), 1);
}

TEST_F(AdminRpcTest, ListCertificatesGivesNewestVersionAndState) {
  ASSERT_OK_AND_ASSIGN(v1::ListCertificatesResponse r,
                       client_->ListCertificates());
  ASSERT_EQ(r.certificates_size(), 2);
  const v1::CertificateSummary& api = r.certificates(0);
  EXPECT_EQ(api.name(), "api");
  EXPECT_TRUE(api.configured());
  EXPECT_EQ(api.latest_version(), 0);
  EXPECT_THAT(api.names(), ElementsAre("api.example.test"));
  EXPECT_EQ(api.consecutive_failures(), 3);
  EXPECT_EQ(api.last_error(), "rateLimited: slow down");
  EXPECT_EQ(TimeFromProtoOrPast(api.next_attempt_at()),
            clock_.Now() + absl::Hours(1));
  const v1::CertificateSummary& web = r.certificates(1);
  EXPECT_EQ(web.name(), "web");
  EXPECT_EQ(web.issuer(), "test");
  EXPECT_EQ(web.latest_version(), 2);
  EXPECT_EQ(web.serial(), "1a02");
  EXPECT_EQ(web.key_type(), "ec256");
  EXPECT_EQ(TimeFromProtoOrPast(web.renew_at()),
            clock_.Now() + absl::Hours(480));
  EXPECT_FALSE(web.order_in_flight());
}

TEST_F(AdminRpcTest, CertificateNoLongerConfiguredIsListedWhileItHasVersions) {
  c_.AddVersion("old", "0b01", clock_.Now());
  ASSERT_OK(c_.store.PutCertificateState({.name = "old"}));
  ASSERT_OK_AND_ASSIGN(v1::ListCertificatesResponse r,
                       client_->ListCertificates());
  ASSERT_EQ(r.certificates_size(), 3);
  EXPECT_EQ(r.certificates(1).name(), "old");
  EXPECT_FALSE(r.certificates(1).configured());
  EXPECT_EQ(r.certificates(1).latest_version(), 1);
  ASSERT_OK_AND_ASSIGN(v1::GetStatusResponse s, client_->GetStatus());
  EXPECT_EQ(s.certificates(), 2);  // configured ones only
}

TEST_F(AdminRpcTest, GetCertificateListsVersionsNewestFirst) {
  ASSERT_OK_AND_ASSIGN(v1::GetCertificateResponse r,
                       client_->GetCertificate("web"));
  EXPECT_EQ(r.certificate().name(), "web");
  ASSERT_EQ(r.versions_size(), 2);
  const v1::CertificateVersion& v2 = r.versions(0);
  EXPECT_EQ(v2.version(), 2);
  EXPECT_EQ(v2.serial(), "1a02");
  EXPECT_FALSE(v2.revoked());
  EXPECT_EQ(v2.key_type(), "ec256");
  EXPECT_THAT(v2.names(), ElementsAre("www.example.test"));
  // X.509 keeps whole seconds.
  const absl::Time now =
      absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(TimeFromProtoOrPast(v2.not_before()), now - absl::Hours(1));
  EXPECT_EQ(TimeFromProtoOrPast(v2.not_after()), now + absl::Hours(24 * 30));
  const v1::CertificateVersion& v1 = r.versions(1);
  EXPECT_EQ(v1.version(), 1);
  EXPECT_EQ(v1.serial(), "1a01");
  EXPECT_TRUE(v1.revoked());
  EXPECT_EQ(v1.revocation_reason(), "superseded");
  EXPECT_EQ(TimeFromProtoOrPast(v1.revoked_at()),
            clock_.Now() - absl::Hours(1));

  ASSERT_OK_AND_ASSIGN(r, client_->GetCertificate("api"));
  EXPECT_EQ(r.versions_size(), 0);
  EXPECT_THAT(
      client_->GetCertificate("nope"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no certificate nope")));
  EXPECT_THAT(
      client_->GetCertificate(""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name is empty")));
}

TEST_F(AdminRpcTest, AgentsComeWithTheirTargets) {
  ASSERT_OK_AND_ASSIGN(v1::ListAgentsResponse list, client_->ListAgents());
  ASSERT_EQ(list.agents_size(), 1);
  ASSERT_OK_AND_ASSIGN(v1::GetAgentResponse one,
                       client_->GetAgent("agt-000000000001"));
  for (const v1::AgentInfo& a : {list.agents(0), one.agent()}) {
    EXPECT_EQ(a.id(), "agt-000000000001");
    EXPECT_EQ(a.hostname(), "agt-000000000001.example.test");
    EXPECT_EQ(a.labels().at("role"), "web");
    EXPECT_EQ(TimeFromProtoOrPast(a.last_seen()), clock_.Now());
    ASSERT_EQ(a.targets_size(), 1);
    EXPECT_EQ(a.targets(0).target(), "www");
    EXPECT_EQ(a.targets(0).certificate(), "web");
    EXPECT_EQ(a.targets(0).installed_version(), "web/2");
    EXPECT_EQ(a.targets(0).desired_version(), "web/2");
    EXPECT_EQ(a.targets(0).serial(), "1a02");
    EXPECT_TRUE(a.targets(0).healthy());
    EXPECT_EQ(a.targets(0).health_detail(), "200 OK");
  }
  EXPECT_THAT(client_->GetAgent("agt-00000000beef"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no agent agt-00000000beef")));
}

TEST_F(AdminRpcTest, CreatedTokenEnrollsAnAgent) {
  ASSERT_OK_AND_ASSIGN(v1::CreateTokenResponse t,
                       client_->CreateToken({{"role", "web"}, {"pool", "b"}},
                                            absl::Minutes(30), "rack 7"));
  EXPECT_THAT(t.token(), HasSubstr(absl::StrCat("cft1.", t.id(), ".")));
  EXPECT_EQ(TimeFromProtoOrPast(t.expires_at()),
            clock_.Now() + absl::Minutes(30));
  EXPECT_EQ(t.labels().at("pool"), "b");
  ASSERT_OK_AND_ASSIGN(auto record, c_.store.GetToken(t.id()));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->description, "rack 7");

  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(std::string csr, crypto::BuildCsrDer(key, {"new"}));
  ASSERT_OK_AND_ASSIGN(auto enrolled,
                       c_.enrollment->Enroll(t.token(), csr, "web-9",
                                             {{"role", "web"}, {"pool", "b"}}));
  ASSERT_OK_AND_ASSIGN(v1::GetAgentResponse agent,
                       client_->GetAgent(enrolled.agent_id));
  EXPECT_EQ(agent.agent().hostname(), "web-9");
  EXPECT_EQ(agent.agent().labels().at("pool"), "b");

  // Without a ttl: the configured default (2 h in the fixture).
  ASSERT_OK_AND_ASSIGN(
      t, client_->CreateToken({{"role", "web"}}, std::nullopt, ""));
  EXPECT_EQ(TimeFromProtoOrPast(t.expires_at()), clock_.Now() + absl::Hours(2));
}

TEST_F(AdminRpcTest, BadTokenRequestsAreInvalidArguments) {
  EXPECT_THAT(client_->CreateToken({}, std::nullopt, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("labels are required")));
  EXPECT_THAT(client_->CreateToken({{"role", "web"}}, absl::Seconds(-5), ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ttl must be positive")));
  EXPECT_THAT(client_->CreateToken({{"Bad Key", "x"}}, std::nullopt, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(auto tokens, c_.store.ListTokens());
  EXPECT_TRUE(tokens.empty());
}

TEST(AdminViewsTest, NeverAndUndecidedTimesAreLeftUnset) {
  google::protobuf::Timestamp ts;
  for (absl::Time t :
       {absl::InfinitePast(), absl::InfiniteFuture(), absl::UnixEpoch()}) {
    TimeToProto(t, &ts);
    EXPECT_EQ(ts.seconds(), 0);
    EXPECT_EQ(ts.nanos(), 0);
    EXPECT_EQ(TimeFromProtoOrPast(ts), absl::InfinitePast());
  }
  const absl::Time t = absl::FromUnixNanos(1700000000123456789);
  TimeToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), 1700000000);
  EXPECT_EQ(ts.nanos(), 123456789);
  EXPECT_EQ(TimeFromProtoOrPast(ts), t);
}

}  // namespace
}  // namespace certfleet::adminapi::testing
