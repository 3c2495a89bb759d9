// The audit log of the admin API over the real server and client: every
// mutating call (token.create, certificate.renew) is recorded with who,
// what, when and how it ended, failures included, never the token secret;
// read-only calls are not; ListAudit filters. RenewCertificate marks the
// certificate due for the scheduler and wakes it; agent identities are
// refused both new calls.
#include "coordinator/adminapi/admin_audit.h"

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "coordinator/adminapi/admin_views.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adminapi/admin_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::adminapi::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

class AdminAuditTest : public AdminApiTest {
 protected:
  void SetUp() override {
    StoreFleet();
    client_ = ClientFor(AdminIdentityFor("alice"));
  }

  std::vector<store::AuditRecord> Audit(store::AuditFilter filter = {}) {
    absl::StatusOr<std::vector<store::AuditRecord>> r =
        c_.store.ListAudit(filter);
    EXPECT_OK(r);
    return r.ok() ? *r : std::vector<store::AuditRecord>{};
  }

  std::unique_ptr<ctl::AdminClient> client_;
};

TEST_F(AdminAuditTest, TokenCreateIsAuditedWithoutTheSecret) {
  ASSERT_OK_AND_ASSIGN(v1::CreateTokenResponse t,
                       client_->CreateToken({{"role", "web"}, {"pool", "b"}},
                                            absl::Minutes(30), "rack 7"));
  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_THAT(audit, SizeIs(1));
  const store::AuditRecord& r = audit[0];
  EXPECT_EQ(r.actor, "admin:alice");
  EXPECT_EQ(r.action, "token.create");
  EXPECT_EQ(r.certificate, "");
  EXPECT_EQ(r.result, "ok");
  EXPECT_EQ(r.at, clock_.Now());
  EXPECT_EQ(r.detail, absl::StrCat("labels pool=b,role=web, ttl 30m, "
                                   "description \"rack 7\", token id ",
                                   t.id()));
  // The secret part of "cft1.<id>.<secret>" appears nowhere.
  const std::string secret = t.token().substr(t.token().rfind('.') + 1);
  ASSERT_FALSE(secret.empty());
  EXPECT_THAT(r.detail, Not(HasSubstr(secret)));
}

TEST_F(AdminAuditTest, FailedTokenCreateIsAuditedWithTheError) {
  EXPECT_THAT(client_->CreateToken({{"role", "web"}}, absl::Seconds(-5), ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_THAT(audit, SizeIs(1));
  EXPECT_EQ(audit[0].actor, "admin:alice");
  EXPECT_EQ(audit[0].action, "token.create");
  EXPECT_EQ(audit[0].result,
            "INVALID_ARGUMENT: CreateToken: ttl must be positive, got -5s");
  EXPECT_EQ(audit[0].detail, "labels role=web, ttl -5s");
}

TEST_F(AdminAuditTest, ReadOnlyCallsAreNotAudited) {
  ASSERT_OK(client_->GetStatus().status());
  ASSERT_OK(client_->ListCertificates().status());
  ASSERT_OK(client_->GetCertificate("web").status());
  EXPECT_THAT(client_->GetCertificate("nope"),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(client_->ListAgents().status());
  ASSERT_OK(client_->GetAgent("agt-000000000001").status());
  ASSERT_OK(client_->ListAudit(absl::InfinitePast(), "", 0).status());
  EXPECT_THAT(Audit(), IsEmpty());
}

TEST_F(AdminAuditTest, RenewMarksTheCertificateDueAndWakesTheScheduler) {
  std::atomic<int> wakes{0};
  AdminBackend backend(
      c_.store, c_.tokens, clock_,
      {.certificates = c_.certificates, .wake_scheduler = [&] { ++wakes; }});
  const absl::Time planned = clock_.Now() + absl::Hours(24 * 20);
  ASSERT_OK_AND_ASSIGN(v1::RenewCertificateResponse r,
                       backend.RenewCertificate(
                           [] {
                             v1::RenewCertificateRequest q;
                             q.set_name("web");
                             return q;
                           }(),
                           "alice"));
  EXPECT_EQ(wakes.load(), 1);
  EXPECT_EQ(r.certificate(), "web");
  EXPECT_EQ(r.current_version(), 2);
  EXPECT_FALSE(r.order_in_flight());
  EXPECT_EQ(TimeFromProtoOrPast(r.previous_renew_at()), planned);
  EXPECT_EQ(TimeFromProtoOrPast(r.requested_at()), clock_.Now());
  ASSERT_OK_AND_ASSIGN(std::optional<store::CertificateState> state,
                       c_.store.GetCertificateState("web"));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->renew_at, absl::InfinitePast());

  // A failing certificate: its backoff is lifted, its failure count kept.
  ASSERT_OK_AND_ASSIGN(r, client_->RenewCertificate("api"));
  EXPECT_EQ(r.current_version(), 0);
  ASSERT_OK_AND_ASSIGN(state, c_.store.GetCertificateState("api"));
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->renew_at, absl::InfinitePast());
  EXPECT_EQ(state->next_attempt_at, absl::InfinitePast());
  EXPECT_EQ(state->consecutive_failures, 3);

  ASSERT_OK_AND_ASSIGN(v1::GetCertificateResponse web,
                       client_->GetCertificate("web"));
  EXPECT_TRUE(web.certificate().renewal_requested());
  EXPECT_EQ(TimeFromProtoOrPast(web.certificate().renew_at()),
            absl::InfinitePast());

  // Only the call through the server is audited (the backend alone is not
  // the API).
  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_THAT(audit, SizeIs(1));
  EXPECT_EQ(audit[0].actor, "admin:alice");
  EXPECT_EQ(audit[0].action, "certificate.renew");
  EXPECT_EQ(audit[0].certificate, "api");
  EXPECT_EQ(audit[0].result, "ok");
  EXPECT_EQ(audit[0].detail, "renew now, no version issued yet");
}

// Only the leader orders: a follower refuses a renewal by saying where to
// send it, and changes nothing (its store write would be fenced anyway).
TEST_F(AdminAuditTest, RenewOnAReplicaThatDoesNotLeadSaysToAskTheLeader) {
  std::atomic<int> wakes{0};
  bool leads = false;
  AdminBackend backend(c_.store, c_.tokens, clock_,
                       {.certificates = c_.certificates,
                        .wake_scheduler = [&] { ++wakes; },
                        .leading = [&] { return leads; }});
  v1::RenewCertificateRequest q;
  q.set_name("web");
  EXPECT_THAT(backend.RenewCertificate(q, "alice"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("this coordinator does not lead: renewals "
                                 "are ordered by the leader; send the "
                                 "command to it")));
  EXPECT_EQ(wakes.load(), 0);
  ASSERT_OK_AND_ASSIGN(std::optional<store::CertificateState> state,
                       c_.store.GetCertificateState("web"));
  ASSERT_TRUE(state.has_value());
  EXPECT_NE(state->renew_at, absl::InfinitePast());

  leads = true;  // elected
  ASSERT_OK(backend.RenewCertificate(q, "alice").status());
  EXPECT_EQ(wakes.load(), 1);
}

TEST_F(AdminAuditTest, RenewOfAnUnknownCertificateIsNotFoundAndAudited) {
  EXPECT_THAT(
      client_->RenewCertificate("nope"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no certificate nope")));
  // No longer configured, but versions stored.
  c_.AddVersion("old", "0b01", clock_.Now());
  EXPECT_THAT(client_->RenewCertificate("old"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("certificate old is no longer in the "
                                 "configuration")));
  EXPECT_THAT(
      client_->RenewCertificate(""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name is empty")));
  ASSERT_OK_AND_ASSIGN(auto states, c_.store.ListCertificateStates());
  for (const store::CertificateState& s : states) {
    EXPECT_NE(s.renew_at, absl::InfinitePast()) << s.name;
  }
  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_THAT(audit, SizeIs(3));
  // Newest first.
  EXPECT_EQ(audit[2].certificate, "nope");
  EXPECT_THAT(audit[2].result, HasSubstr("NOT_FOUND: no certificate nope"));
  EXPECT_EQ(audit[1].certificate, "old");
  EXPECT_THAT(audit[1].result, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(audit[0].result, HasSubstr("INVALID_ARGUMENT"));
}

TEST_F(AdminAuditTest, RenewWithAnOrderInFlightSaysSo) {
  store::OrderRecord order;
  order.cert_name = "web";
  order.issuer = "test";
  order.order_url = "https://ca.test/order/1";
  ASSERT_OK(c_.store.PutOrder(order));
  ASSERT_OK_AND_ASSIGN(v1::RenewCertificateResponse r,
                       client_->RenewCertificate("web"));
  EXPECT_TRUE(r.order_in_flight());
  const std::vector<store::AuditRecord> audit = Audit();
  ASSERT_THAT(audit, SizeIs(1));
  EXPECT_EQ(audit[0].detail, "renew now, an order was already in flight");
}

TEST_F(AdminAuditTest, ListAuditFiltersBySinceCertificateAndLimit) {
  const absl::Time t0 = clock_.Now();
  ASSERT_OK(client_->RenewCertificate("web").status());
  clock_.Advance(absl::Hours(1));
  ASSERT_OK(client_->CreateToken({{"role", "web"}}, std::nullopt, "").status());
  clock_.Advance(absl::Hours(1));
  ASSERT_OK(client_->RenewCertificate("api").status());
  clock_.Advance(absl::Hours(1));
  ASSERT_OK(client_->RenewCertificate("web").status());

  ASSERT_OK_AND_ASSIGN(v1::ListAuditResponse all,
                       client_->ListAudit(absl::InfinitePast(), "", 0));
  ASSERT_EQ(all.events_size(), 4);
  EXPECT_FALSE(all.truncated());
  EXPECT_EQ(TimeFromProtoOrPast(all.events(0).at()), t0 + absl::Hours(3));
  EXPECT_EQ(all.events(0).certificate(), "web");
  EXPECT_EQ(all.events(2).action(), "token.create");
  EXPECT_EQ(all.events(2).actor(), "admin:alice");
  EXPECT_GT(all.events(0).id(), all.events(1).id());

  ASSERT_OK_AND_ASSIGN(v1::ListAuditResponse web,
                       client_->ListAudit(absl::InfinitePast(), "web", 0));
  ASSERT_EQ(web.events_size(), 2);
  EXPECT_EQ(TimeFromProtoOrPast(web.events(1).at()), t0);

  ASSERT_OK_AND_ASSIGN(v1::ListAuditResponse recent,
                       client_->ListAudit(t0 + absl::Hours(1), "", 0));
  ASSERT_EQ(recent.events_size(), 3);
  EXPECT_EQ(recent.events(2).action(), "token.create");

  ASSERT_OK_AND_ASSIGN(v1::ListAuditResponse two,
                       client_->ListAudit(absl::InfinitePast(), "", 2));
  ASSERT_EQ(two.events_size(), 2);
  EXPECT_TRUE(two.truncated());
  EXPECT_EQ(two.events(1).certificate(), "api");

  EXPECT_THAT(client_->ListAudit(absl::InfinitePast(), "", -1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("limit must not be negative")));
}

TEST_F(AdminAuditTest, AgentIdentitiesAreRefusedTheNewCallsAndNotAudited) {
  const ctl::AdminIdentity agent = AgentIdentityFor("agt-000000000001");
  auto stub = RawStub(agent.key_pem, agent.cert_pem);
  {
    grpc::ClientContext context;
    v1::RenewCertificateRequest request;
    request.set_name("web");
    v1::RenewCertificateResponse response;
    const grpc::Status s = stub->RenewCertificate(&context, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(s.error_message(),
                HasSubstr("agent identities cannot use the admin API"));
  }
  {
    grpc::ClientContext context;
    v1::ListAuditResponse response;
    const grpc::Status s =
        stub->ListAudit(&context, v1::ListAuditRequest(), &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  ASSERT_OK_AND_ASSIGN(auto state, c_.store.GetCertificateState("web"));
  ASSERT_TRUE(state.has_value());
  EXPECT_NE(state->renew_at, absl::InfinitePast());
  EXPECT_THAT(Audit(), IsEmpty());
}

TEST(AdminAuditTextTest, ActorsAndResults) {
  EXPECT_EQ(AdminActor("bob"), "admin:bob");
  EXPECT_EQ(AuditResult(absl::OkStatus()), "ok");
  EXPECT_EQ(AuditResult(absl::NotFoundError("no certificate x")),
            "NOT_FOUND: no certificate x");
  v1::CreateTokenRequest request;
  (*request.mutable_labels())["role"] = "db";
  std::optional<AuditAction> a = AuditOf(request);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->detail, "labels role=db, default ttl");
  EXPECT_FALSE(AuditOf(v1::GetStatusRequest()).has_value());
  EXPECT_FALSE(AuditOf(v1::ListAuditRequest()).has_value());
}

}  // namespace
}  // namespace certfleet::adminapi::testing
