// Enrollment (token + CSR → identity) and identity renewal, over the real
// internal CA and tokens on an in-memory store.
#include "coordinator/identity/enrollment.h"

#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/certificate.h"
#include "common/crypto/kek.h"
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
using ::testing::MatchesRegex;
using testing::NewKey;
using testing::TamperedCsr;
using testing::VerifyForPurpose;

using Labels = std::map<std::string, std::string>;

class EnrollmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(
        ca_, InternalCa::LoadOrCreate(
                 store_, crypto::Kek::FromBytes(std::string(32, 'k')), clock_));
    enrollment_ = std::make_unique<EnrollmentService>(
        store_, *ca_, tokens_, clock_,
        EnrollmentOptions{.identity_lifetime = absl::Hours(24)});
  }

  std::string Token(const Labels& labels = {{"role", "web"},
                                            {"pool", "edge-eu"}}) {
    absl::StatusOr<std::string> token =
        tokens_.Create(labels, absl::Hours(1), "");
    EXPECT_OK(token);
    return token.ok() ? *token : "";
  }

  static std::string IdOf(const std::string& token) {
    return std::vector<std::string>(absl::StrSplit(token, '.'))[1];
  }

  store::TokenRecord StoredToken(const std::string& token) {
    absl::StatusOr<std::optional<store::TokenRecord>> r =
        store_.GetToken(IdOf(token));
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : store::TokenRecord{};
  }

  FakeClock clock_;
  store::InMemoryStore store_;
  BootstrapTokens tokens_{store_, clock_};
  std::unique_ptr<InternalCa> ca_;
  std::unique_ptr<EnrollmentService> enrollment_;
};

TEST_F(EnrollmentTest, ClaimingASubsetOfTheTokensLabelsEnrolls) {
  const std::string token = Token();
  const crypto::PrivateKey key = NewKey();
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::EnrollResult result,
      enrollment_->Enroll(token, CsrFor(key), "edge-1.example.test",
                          {{"role", "web"}}));
  EXPECT_THAT(result.agent_id, MatchesRegex("agt-[0-9a-f]{12}"));
  // The token's labels, not only those claimed.
  EXPECT_EQ(result.labels, (Labels{{"pool", "edge-eu"}, {"role", "web"}}));
  EXPECT_EQ(result.ca_pem, ca_->ca_pem());
  EXPECT_OK(VerifyForPurpose(result.certificate_pem, result.ca_pem,
                             X509_PURPOSE_SSL_CLIENT, clock_.Now()));
  EXPECT_TRUE(CertifiesKey(result.certificate_pem, key));
  ASSERT_OK_AND_ASSIGN(crypto::Certificate cert,
                       crypto::Certificate::FromPem(result.certificate_pem));
  EXPECT_EQ(cert.SubjectCommonName(), result.agent_id);

  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> agent,
                       store_.GetAgent(result.agent_id));
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->hostname, "edge-1.example.test");
  EXPECT_EQ(agent->labels, result.labels);
  EXPECT_EQ(agent->enrolled_at, clock_.Now());
  EXPECT_EQ(agent->last_seen_at, clock_.Now());
  EXPECT_EQ(agent->identity_serial, cert.SerialHex());
  EXPECT_EQ(agent->identity_not_after, clock_.Now() + absl::Hours(24));
  EXPECT_EQ(agent->token_id, IdOf(token));
  EXPECT_EQ(StoredToken(token).used_by, result.agent_id);

  // No claim at all is fine too; the token is gone by now.
  EXPECT_THAT(enrollment_->Enroll(token, CsrFor(key), "edge-1", {}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("was already used")));
}

TEST_F(EnrollmentTest, ALabelTheTokenDoesNotGrantIsRefusedByName) {
  const std::string token = Token();
  const std::string csr = CsrFor(NewKey());
  EXPECT_THAT(
      enrollment_->Enroll(token, csr, "edge-1",
                          {{"role", "web"}, {"env", "prod"}}),
      StatusIs(
          absl::StatusCode::kPermissionDenied,
          absl::StrCat("label env=prod is not granted by bootstrap token ",
                       IdOf(token), " (it grants: pool=edge-eu,role=web)")));
  EXPECT_THAT(enrollment_->Enroll(token, csr, "edge-1", {{"role", "db"}}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("label role=db is not granted")));
  // The token survives the refusals, and no agent was stored.
  EXPECT_EQ(StoredToken(token).used_at, absl::InfinitePast());
  EXPECT_THAT(store_.ListAgents(),
              ::testing::ResultOf([](const auto& l) { return l->size(); }, 0u));
  EXPECT_OK(enrollment_->Enroll(token, csr, "edge-1", {{"role", "web"}}));
}

TEST_F(EnrollmentTest, ABadCsrLeavesTheTokenUsable) {
  const std::string token = Token();
  const crypto::PrivateKey key = NewKey();
  EXPECT_THAT(
      enrollment_->Enroll(token, TamperedCsr(CsrFor(key)), "edge-1", {}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("CSR signature does not verify")));
  EXPECT_THAT(
      enrollment_->Enroll(token, "", "edge-1", {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed CSR")));
  EXPECT_EQ(StoredToken(token).used_at, absl::InfinitePast());
  EXPECT_OK(enrollment_->Enroll(token, CsrFor(key), "edge-1", {}));
}

TEST_F(EnrollmentTest, BadTokensAndHostnames) {
  const std::string csr = CsrFor(NewKey());
  EXPECT_THAT(
      enrollment_->Enroll("cft1.0123456789abcdef."
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          csr, "edge-1", {}),
      StatusIs(absl::StatusCode::kPermissionDenied, "unknown bootstrap token"));
  EXPECT_THAT(enrollment_->Enroll("nonsense", csr, "edge-1", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("malformed bootstrap token")));
  const std::string token = Token();
  EXPECT_THAT(enrollment_->Enroll(token, csr, "", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "hostname must be 1-253 characters"));
  EXPECT_THAT(enrollment_->Enroll(token, csr, "edge 1", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("printable ASCII without spaces")));
  EXPECT_EQ(StoredToken(token).used_at, absl::InfinitePast());
  clock_.Advance(absl::Hours(2));
  EXPECT_THAT(
      enrollment_->Enroll(token, csr, "edge-1", {}),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("expired at")));
}

TEST_F(EnrollmentTest, RenewalIssuesAFreshIdentityAndRecordsIt) {
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::EnrollResult enrolled,
      enrollment_->Enroll(Token(), CsrFor(NewKey()), "edge-1", {}));
  clock_.Advance(absl::Hours(17));
  const crypto::PrivateKey new_key = NewKey();
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::Renewed renewed,
      enrollment_->RenewIdentity(enrolled.agent_id, enrolled.serial,
                                 CsrFor(new_key)));
  const std::string& pem = renewed.certificate_pem;
  EXPECT_TRUE(CertifiesKey(pem, new_key));
  EXPECT_OK(VerifyForPurpose(pem, ca_->ca_pem(), X509_PURPOSE_SSL_CLIENT,
                             clock_.Now()));
  ASSERT_OK_AND_ASSIGN(crypto::Certificate cert,
                       crypto::Certificate::FromPem(pem));
  ASSERT_OK_AND_ASSIGN(crypto::Certificate old,
                       crypto::Certificate::FromPem(enrolled.certificate_pem));
  EXPECT_EQ(old.SerialHex(), enrolled.serial);
  EXPECT_NE(cert.SerialHex(), old.SerialHex());
  EXPECT_EQ(renewed.serial, cert.SerialHex());
  EXPECT_EQ(renewed.not_after, cert.NotAfter());
  EXPECT_EQ(cert.NotAfter(), clock_.Now() + absl::Hours(24));
  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> agent,
                       store_.GetAgent(enrolled.agent_id));
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->identity_serial, cert.SerialHex());
  EXPECT_EQ(agent->identity_not_after, cert.NotAfter());
  EXPECT_EQ(agent->last_seen_at, clock_.Now());
  EXPECT_EQ(agent->enrolled_at, clock_.Now() - absl::Hours(17));

  EXPECT_THAT(
      enrollment_->RenewIdentity("agt-000000000000", "01", CsrFor(new_key)),
      StatusIs(absl::StatusCode::kNotFound,
               "agent agt-000000000000 is not enrolled"));
  EXPECT_THAT(enrollment_->RenewIdentity(enrolled.agent_id, renewed.serial,
                                         TamperedCsr(CsrFor(new_key))),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A refused renewal changes nothing.
  EXPECT_EQ((**store_.GetAgent(enrolled.agent_id)).identity_serial,
            cert.SerialHex());
}

// After a renewal the previous certificate renews nothing: neither the
// agent's own old copy nor a thief's.
TEST_F(EnrollmentTest, TheCertificateARenewalReplacedIsRefused) {
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::EnrollResult enrolled,
      enrollment_->Enroll(Token(), CsrFor(NewKey()), "edge-1", {}));
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::Renewed renewed,
      enrollment_->RenewIdentity(enrolled.agent_id, enrolled.serial,
                                 CsrFor(NewKey())));
  EXPECT_THAT(
      enrollment_->RenewIdentity(enrolled.agent_id, enrolled.serial,
                                 CsrFor(NewKey())),
      StatusIs(absl::StatusCode::kPermissionDenied,
               absl::StrCat("agent ", enrolled.agent_id,
                            ": identity certificate serial ", enrolled.serial,
                            " is not the agent's current one (it was renewed "
                            "or re-enrolled since): renewal refused")));
  EXPECT_EQ((**store_.GetAgent(enrolled.agent_id)).identity_serial,
            renewed.serial);
  // The current one still renews.
  EXPECT_OK(enrollment_->RenewIdentity(enrolled.agent_id, renewed.serial,
                                       CsrFor(NewKey())));
}

// The agent and a thief holding a copy of its certificate renew at the same
// moment: exactly one of them gets the next identity.
TEST_F(EnrollmentTest, TwoRenewalsOfOneCertificateRaceAndOneWins) {
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::EnrollResult enrolled,
      enrollment_->Enroll(Token(), CsrFor(NewKey()), "edge-1", {}));
  const std::string csr_a = CsrFor(NewKey());
  const std::string csr_b = CsrFor(NewKey());
  for (int round = 0; round < 10; ++round) {
    const std::string current =
        (**store_.GetAgent(enrolled.agent_id)).identity_serial;
    absl::StatusOr<EnrollmentService::Renewed> a, b;
    std::thread ta([&] {
      a = enrollment_->RenewIdentity(enrolled.agent_id, current, csr_a);
    });
    std::thread tb([&] {
      b = enrollment_->RenewIdentity(enrolled.agent_id, current, csr_b);
    });
    ta.join();
    tb.join();
    ASSERT_NE(a.ok(), b.ok()) << a.status() << " / " << b.status();
    const absl::StatusOr<EnrollmentService::Renewed>& lost = a.ok() ? b : a;
    EXPECT_THAT(lost.status(),
                StatusIs(absl::StatusCode::kPermissionDenied,
                         HasSubstr("is not the agent's current")));
    EXPECT_EQ((**store_.GetAgent(enrolled.agent_id)).identity_serial,
              (a.ok() ? a : b)->serial);
  }
}

TEST_F(EnrollmentTest, ADisabledOrRemovedAgentIsNotRenewed) {
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::EnrollResult enrolled,
      enrollment_->Enroll(Token(), CsrFor(NewKey()), "edge-1", {}));
  for (store::AgentStatus status :
       {store::AgentStatus::kDisabled, store::AgentStatus::kRemoved}) {
    ASSERT_OK(store_
                  .UpdateAgent(enrolled.agent_id,
                               [&](store::AgentRecord& a) {
                                 a.status = status;
                                 return absl::OkStatus();
                               })
                  .status());
    EXPECT_THAT(enrollment_->RenewIdentity(enrolled.agent_id, enrolled.serial,
                                           CsrFor(NewKey())),
                StatusIs(absl::StatusCode::kPermissionDenied,
                         absl::StrCat("agent ", enrolled.agent_id, " is ",
                                      store::AgentStatusName(status),
                                      ": its identity is not renewed")));
    EXPECT_EQ((**store_.GetAgent(enrolled.agent_id)).identity_serial,
              enrolled.serial);
  }
}

TEST_F(EnrollmentTest, EnrollmentIsAuditedAsTheTokensAction) {
  const std::string token = Token();
  ASSERT_OK_AND_ASSIGN(
      EnrollmentService::EnrollResult enrolled,
      enrollment_->Enroll(token, CsrFor(NewKey()), "edge-1", {}));
  ASSERT_OK_AND_ASSIGN(std::vector<store::AuditRecord> audit,
                       store_.ListAudit({}));
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].actor, absl::StrCat("bootstrap-token:", IdOf(token)));
  EXPECT_EQ(audit[0].action, "agent.enroll");
  EXPECT_EQ(audit[0].result, "ok");
  EXPECT_EQ(audit[0].detail,
            absl::StrCat("agent ", enrolled.agent_id,
                         " enrolled from host edge-1, labels "
                         "pool=edge-eu,role=web, identity serial ",
                         enrolled.serial));
}

TEST(NeedsRenewalTest, WhenLessThanAThirdOfTheLifetimeRemains) {
  const absl::Time start = absl::FromUnixSeconds(1'800'000'000);
  const absl::Time end = start + absl::Hours(24);
  EXPECT_FALSE(EnrollmentService::NeedsRenewal(start, end, start));
  EXPECT_FALSE(
      EnrollmentService::NeedsRenewal(start, end, start + absl::Hours(15)));
  // Exactly a third left: not yet.
  EXPECT_FALSE(
      EnrollmentService::NeedsRenewal(start, end, start + absl::Hours(16)));
  EXPECT_TRUE(EnrollmentService::NeedsRenewal(
      start, end, start + absl::Hours(16) + absl::Seconds(1)));
  EXPECT_TRUE(EnrollmentService::NeedsRenewal(start, end, end));
  EXPECT_TRUE(
      EnrollmentService::NeedsRenewal(start, end, end + absl::Hours(1)));
}

}  // namespace
}  // namespace certfleet::identity
