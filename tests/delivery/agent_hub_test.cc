// AgentHub alone: fake channels stand in for streams, an in-memory store
// for the database; every call is followed by Flush so the hub thread has
// done its work before the assertions (hub_fixture.h).
#include "coordinator/delivery/agent_hub.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto/certificate.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/delivery/hub_fixture.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::delivery {
namespace {

using ::certfleet::delivery::testing::AgentHubTest;
using ::certfleet::delivery::testing::FakeChannel;
using ::certfleet::delivery::testing::Inventory;
using ::certfleet::delivery::testing::kDbAgent;
using ::certfleet::delivery::testing::kTestIdentitySerial;
using ::certfleet::delivery::testing::kWebAgent;
using ::certfleet::delivery::testing::Result;
using ::certfleet::delivery::testing::StoredVersion;
using ::certfleet::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

TEST_F(AgentHubTest, StreamOfAgentNotEnrolledIsClosed) {
  std::shared_ptr<FakeChannel> ch = Attach("agt-00000000dead");
  EXPECT_THAT(ch->closed(),
              Optional(std::string("agent agt-00000000dead is not enrolled")));
  EXPECT_THAT(ch->sent(), IsEmpty());
  EXPECT_EQ(c_.hub->connected(), 0u);
  EXPECT_EQ(ch->closed_code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(AgentHubTest, AttachWelcomesAndRecordsLastSeen) {
  clock_.Advance(absl::Hours(1));
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  ASSERT_THAT(ch->sent(), SizeIs(1));
  EXPECT_EQ(ch->sent()[0].welcome().agent_id(), kWebAgent);
  EXPECT_EQ(ch->closed(), std::nullopt);
  EXPECT_EQ(c_.hub->connected(), 1u);
  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> agent,
                       c_.store.GetAgent(kWebAgent));
  ASSERT_TRUE(agent.has_value());
  EXPECT_EQ(agent->last_seen_at, clock_.Now());
}

TEST_F(AgentHubTest, ConnectedSinceFollowsEachAttachReplacementAndDetach) {
  std::shared_ptr<FakeChannel> refused = Attach("agt-00000000dead");
  EXPECT_THAT(c_.hub->ConnectedSince(), IsEmpty());
  const absl::Time t1 = clock_.Now();
  std::shared_ptr<FakeChannel> web1 = Attach(kWebAgent);
  clock_.Advance(absl::Minutes(1));
  const absl::Time t2 = clock_.Now();
  std::shared_ptr<FakeChannel> db = Attach(kDbAgent);
  EXPECT_THAT(c_.hub->ConnectedSince(),
              UnorderedElementsAre(Pair(kWebAgent, t1), Pair(kDbAgent, t2)));

  clock_.Advance(absl::Minutes(1));
  const absl::Time t3 = clock_.Now();
  std::shared_ptr<FakeChannel> web2 = Attach(kWebAgent);  // replaces web1
  c_.hub->Detach(kWebAgent, web1.get());  // the replaced stream's late end
  c_.hub->Detach(kDbAgent, db.get());
  c_.hub->Flush();
  EXPECT_THAT(c_.hub->ConnectedSince(), ElementsAre(Pair(kWebAgent, t3)));
  EXPECT_THAT(c_.hub->ConnectedAgents(), ElementsAre(kWebAgent));
  EXPECT_EQ(c_.hub->connected(), 1u);

  c_.hub->Detach(kWebAgent, web2.get());
  c_.hub->Flush();
  EXPECT_THAT(c_.hub->ConnectedSince(), IsEmpty());
  EXPECT_THAT(c_.hub->ConnectedAgents(), IsEmpty());
  EXPECT_EQ(c_.hub->connected(), 0u);
}

TEST_F(AgentHubTest, StreamEndedBeforeItsAttachIsNotServed) {
  // An agent that stopped waiting for its Welcome (a hub behind after a
  // restart) has dialled again; its old stream's attach comes up now.
  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> before,
                       c_.store.GetAgent(kWebAgent));
  ASSERT_TRUE(before.has_value());
  clock_.Advance(absl::Hours(1));
  auto gone = std::make_shared<FakeChannel>();
  gone->End();
  c_.hub->Attach(kWebAgent, kTestIdentitySerial, gone);
  c_.hub->Detach(kWebAgent, gone.get());
  c_.hub->Flush();
  EXPECT_THAT(gone->sent(), IsEmpty());  // no Welcome to nobody
  EXPECT_EQ(c_.hub->connected(), 0u);
  EXPECT_THAT(c_.hub->ConnectedSince(), IsEmpty());
  EXPECT_EQ(c_.observer.streams_abandoned(), 1);
  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> after,
                       c_.store.GetAgent(kWebAgent));
  EXPECT_EQ(after->last_seen_at, before->last_seen_at);  // never served

  // Its new stream is served as ever.
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  ASSERT_THAT(ch->sent(), SizeIs(1));
  EXPECT_TRUE(ch->sent()[0].has_welcome());
  EXPECT_EQ(c_.hub->connected(), 1u);
}

TEST_F(AgentHubTest, InventorySendsNewestVersionOfAssignedCertificate) {
  AddVersion("1a01");
  const StoredVersion v2 = AddVersion("1a02");
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));

  ASSERT_THAT(ch->bundles(), SizeIs(1));
  const v1::DesiredBundle b = ch->bundles()[0];
  EXPECT_EQ(b.target(), "www");
  EXPECT_EQ(b.version_id(), "web/2");
  EXPECT_EQ(b.certificate(), "web");
  EXPECT_EQ(b.leaf_pem(), v2.leaf_pem);
  EXPECT_EQ(b.chain_pem(), v2.chain_pem);
  EXPECT_EQ(b.key_pem(), v2.key_pem);  // opened from its sealed form
  EXPECT_EQ(b.not_after().seconds(), absl::ToUnixSeconds(v2.not_after));
  EXPECT_FALSE(b.nonce().empty());
  EXPECT_EQ(c_.observer.bundles_sent(), 1);

  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->certificate, "web");
  EXPECT_EQ(s->desired_version_id, "web/2");
  EXPECT_EQ(s->installed_version_id, "");
  EXPECT_FALSE(s->healthy);
  EXPECT_EQ(s->updated_at, clock_.Now());
}

// The version could not be read (etcd away for a moment): the hub tries
// again by itself, as nothing else may bring the agent up again.
TEST_F(AgentHubTest, AVersionThatCannotBeReadIsSentWhenItCanAgain) {
  AddVersion("1a01");
  c_.store.FailVersionReads(1);
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  EXPECT_THAT(ch->bundles(), IsEmpty());
  ASSERT_OK(WaitFor("the hub to send the version once it can read it",
                    [&] { return !ch->bundles().empty(); }));
  ASSERT_THAT(ch->bundles(), SizeIs(1));
  EXPECT_EQ(ch->bundles()[0].version_id(), "web/1");
}

TEST_F(AgentHubTest, PendingBundleIsNotResentOnTheNextInventory) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  Notify("web");
  EXPECT_THAT(ch->bundles(), SizeIs(1));
}

TEST_F(AgentHubTest, InventoryServingTheNewestVersionGetsNothing) {
  const StoredVersion v1 = AddVersion("1a01");
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "web/1", v1.serial}}));
  EXPECT_THAT(ch->bundles(), IsEmpty());
  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->installed_version_id, "web/1");
  EXPECT_EQ(s->serial, v1.serial);
  EXPECT_TRUE(s->healthy);
  EXPECT_EQ(s->detail, "ok");
}

TEST_F(AgentHubTest, AcknowledgedVersionIsRecordedAndNotResent) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(ch->bundles(), SizeIs(1));
  Send(kWebAgent, Result(ch->bundles()[0], true));

  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->installed_version_id, "web/1");
  EXPECT_TRUE(s->healthy);
  EXPECT_EQ(s->last_error, "");
  ASSERT_THAT(c_.observer.results(), SizeIs(1));
  EXPECT_TRUE(c_.observer.results()[0].ok());

  Notify("web");
  EXPECT_THAT(ch->bundles(), SizeIs(1));
}

TEST_F(AgentHubTest, RejectedVersionIsRecordedAndNotResentOnTheSameStream) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(ch->bundles(), SizeIs(1));
  Send(kWebAgent, Result(ch->bundles()[0], false, "reload",
                         "exit 1: nginx: [emerg] cannot load certificate"));

  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->last_error,
            "reload: exit 1: nginx: [emerg] cannot load certificate");
  EXPECT_EQ(s->last_error_version_id, "web/1");
  EXPECT_EQ(s->installed_version_id, "");
  EXPECT_EQ(s->desired_version_id, "web/1");

  // The agent reports its (unchanged) inventory; the scheduler says again
  // that web has a version: the rejected one stays rejected on this stream.
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  Notify("web");
  EXPECT_THAT(ch->bundles(), SizeIs(1));

  // A new stream (agent restarted, perhaps fixed) gets it again.
  std::shared_ptr<FakeChannel> again = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(again->bundles(), SizeIs(1));
  EXPECT_EQ(again->bundles()[0].version_id(), "web/1");
}

TEST_F(AgentHubTest, NewerVersionIsSentAfterARejection) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  ASSERT_THAT(ch->bundles(), SizeIs(1));
  Send(kWebAgent, Result(ch->bundles()[0], false, "health", "serves 1a00"));

  AddVersion("1a02");
  Notify("web");
  ASSERT_THAT(ch->bundles(), SizeIs(2));
  EXPECT_EQ(ch->bundles()[1].version_id(), "web/2");
  EXPECT_NE(ch->bundles()[1].nonce(), ch->bundles()[0].nonce());
  Send(kWebAgent, Result(ch->bundles()[1], true));
  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->installed_version_id, "web/2");
  EXPECT_EQ(s->last_error, "");  // cleared by the success
  EXPECT_EQ(s->last_error_version_id, "");
}

TEST_F(AgentHubTest, NotifyVersionReachesOnlyAgentsTheCertificateSelects) {
  std::shared_ptr<FakeChannel> web = Attach(kWebAgent);
  std::shared_ptr<FakeChannel> db = Attach(kDbAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}, {"mail", "", ""}}));
  Send(kDbAgent, Inventory({{"www", "", ""}}));
  EXPECT_THAT(web->bundles(), IsEmpty());  // nothing issued yet

  AddVersion("1a01");
  Notify("web");
  ASSERT_THAT(web->bundles(), SizeIs(1));
  EXPECT_EQ(web->bundles()[0].target(), "www");
  EXPECT_THAT(db->bundles(), IsEmpty());

  // Targets no certificate is assigned to are not recorded: a record is
  // what a rollout's fleet view reads.
  EXPECT_FALSE(State(kDbAgent, "www").has_value());
  EXPECT_FALSE(State(kWebAgent, "mail").has_value());
  EXPECT_TRUE(State(kWebAgent, "www").has_value());
}

TEST_F(AgentHubTest, SecondStreamReplacesTheFirst) {
  AddVersion("1a01");
  std::shared_ptr<FakeChannel> first = Attach(kWebAgent);
  std::shared_ptr<FakeChannel> second = Attach(kWebAgent);
  EXPECT_THAT(
      first->closed(),
      Optional(std::string("replaced by a newer stream of the same agent")));
  EXPECT_EQ(second->closed(), std::nullopt);
  ASSERT_THAT(second->sent(), SizeIs(1));
  EXPECT_TRUE(second->sent()[0].has_welcome());
  EXPECT_EQ(c_.hub->connected(), 1u);

  // The replaced stream's late Detach must not drop its successor.
  c_.hub->Detach(kWebAgent, first.get());
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->connected(), 1u);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  EXPECT_THAT(second->bundles(), SizeIs(1));
  EXPECT_THAT(first->bundles(), IsEmpty());

  c_.hub->Detach(kWebAgent, second.get());
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->connected(), 0u);
  // Messages of a detached agent are ignored.
  const size_t writes = c_.store.target_state_writes().size();
  Send(kWebAgent, Inventory({{"other", "", ""}}));
  EXPECT_EQ(c_.store.target_state_writes().size(), writes);
}

TEST_F(AgentHubTest, HealthReportUpdatesTheTargetState) {
  Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  v1::AgentMessage m;
  m.mutable_health()->set_target("www");
  m.mutable_health()->set_healthy(false);
  m.mutable_health()->set_detail("127.0.0.1:8443 serves serial 1a00");
  Send(kWebAgent, m);
  std::optional<store::TargetStateRecord> s = State(kWebAgent, "www");
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->healthy);
  EXPECT_EQ(s->detail, "127.0.0.1:8443 serves serial 1a00");
}

TEST_F(AgentHubTest, VersionWhoseKeyDoesNotOpenIsNotSent) {
  const StoredVersion good = AddVersion("1a01");
  ASSERT_OK_AND_ASSIGN(std::optional<store::VersionRecord> v,
                       c_.store.GetVersion("web", 1));
  ASSERT_TRUE(v.has_value());
  // Sealed for another certificate: opening it for "web" fails.
  ASSERT_OK_AND_ASSIGN(
      v->key_sealed, c_.kek.Seal(good.key_pem, "certfleet:certificate-key:x"));
  ASSERT_OK(c_.store.AddVersion(*v).status());

  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  Send(kWebAgent, Inventory({{"www", "", ""}}));
  EXPECT_THAT(ch->bundles(), IsEmpty());
}

TEST_F(AgentHubTest, RenewalAnswersWithAnIdentityForThatAgent) {
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(std::string csr, crypto::BuildCsrDer(key, {"web-1"}));
  v1::AgentMessage m;
  m.mutable_renew_identity()->set_csr_der(csr);
  Send(kWebAgent, m);

  ASSERT_THAT(ch->sent(), SizeIs(2));  // welcome, identity
  const v1::IdentityCertificate id = ch->sent()[1].identity();
  EXPECT_EQ(id.ca_pem(), c_.ca->ca_pem());
  ASSERT_OK_AND_ASSIGN(crypto::Certificate cert,
                       crypto::Certificate::FromPem(id.certificate_pem()));
  EXPECT_THAT(identity::InternalCa::AgentIdFromCertificate(cert),
              ::certfleet::testing::IsOk());
  EXPECT_EQ(*identity::InternalCa::AgentIdFromCertificate(cert), kWebAgent);
  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> agent,
                       c_.store.GetAgent(kWebAgent));
  EXPECT_EQ(agent->identity_serial, cert.SerialHex());
}

TEST_F(AgentHubTest, RenewalWithABadCsrSendsNothing) {
  std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
  v1::AgentMessage m;
  m.mutable_renew_identity()->set_csr_der("not a CSR");
  Send(kWebAgent, m);
  EXPECT_THAT(ch->sent(), SizeIs(1));  // the welcome only
  EXPECT_EQ(ch->closed(), std::nullopt);
}

}  // namespace
}  // namespace certfleet::delivery
