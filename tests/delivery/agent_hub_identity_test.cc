// AgentHub and revocable identities: a stream is admitted only for an
// active agent presenting its current identity serial; disabling, removing
// or re-enrolling an agent closes its open stream; a relabel changes what
// it receives at once; renewals on a stream are checked against the serial
// it presented (or was issued on it). Over fake streams, with Flush after
// each call so the hub thread has run.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "coordinator/delivery/agent_hub.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/delivery/hub_fixture.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::delivery {
namespace {

using ::certfleet::delivery::testing::CoordinatorParts;
using ::certfleet::delivery::testing::kTestIdentitySerial;
using ::certfleet::delivery::testing::WebCertificate;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

constexpr char kAgent[] = "agt-0000000000a1";

using Channel = ::certfleet::delivery::testing::FakeChannel;

std::string Csr() {
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  absl::StatusOr<std::string> csr = crypto::BuildCsrDer(*key, {"web-1"});
  return csr.ok() ? *csr : "";
}

v1::AgentMessage Renewal() {
  v1::AgentMessage m;
  m.mutable_renew_identity()->set_csr_der(Csr());
  return m;
}

v1::AgentMessage WwwInventory() {
  v1::AgentMessage m;
  m.mutable_inventory()->add_targets()->set_name("www");
  return m;
}

class AgentHubIdentityTest : public ::testing::Test {
 protected:
  AgentHubIdentityTest() : c_(clock_, {WebCertificate()}) {
    c_.PutAgent(kAgent, {{"role", "web"}});
  }

  std::shared_ptr<Channel> Attach(const std::string& serial) {
    auto channel = std::make_shared<Channel>();
    c_.hub->Attach(kAgent, serial, channel);
    c_.hub->Flush();
    return channel;
  }
  void Send(v1::AgentMessage message) {
    c_.hub->OnMessage(kAgent, std::move(message));
    c_.hub->Flush();
  }
  void Update(const std::function<void(store::AgentRecord&)>& change) {
    ASSERT_OK(c_.store
                  .UpdateAgent(kAgent,
                               [&](store::AgentRecord& a) {
                                 change(a);
                                 return absl::OkStatus();
                               })
                  .status());
    c_.hub->AgentChanged(kAgent);
    c_.hub->Flush();
  }
  store::AgentRecord Record() {
    absl::StatusOr<std::optional<store::AgentRecord>> r =
        c_.store.GetAgent(kAgent);
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : store::AgentRecord{};
  }

  ::certfleet::testing::FakeClock clock_;
  CoordinatorParts c_;
};

TEST_F(AgentHubIdentityTest, AStreamPresentingAnotherSerialIsRefused) {
  std::shared_ptr<Channel> old = Attach("0bad");
  ASSERT_TRUE(old->closed_status().has_value());
  EXPECT_THAT(*old->closed_status(),
              ::certfleet::testing::StatusIs(
                  absl::StatusCode::kPermissionDenied,
                  "agent agt-0000000000a1: identity certificate serial 0bad "
                  "is not the agent's current one (it was renewed or "
                  "re-enrolled since); this certificate is refused"));
  EXPECT_THAT(old->sent(), IsEmpty());  // not even a welcome
  EXPECT_EQ(c_.hub->connected(), 0u);
  EXPECT_THAT(c_.observer.refusals(), ElementsAre("stream/stale_serial"));

  std::shared_ptr<Channel> current = Attach(kTestIdentitySerial);
  EXPECT_FALSE(current->closed_status().has_value());
  EXPECT_EQ(c_.hub->connected(), 1u);
}

TEST_F(AgentHubIdentityTest, DisabledAndRemovedAgentsAreRefusedAtAttach) {
  Update([&](store::AgentRecord& a) {
    a.status = store::AgentStatus::kDisabled;
    a.status_changed_by = "admin:alice";
    a.status_changed_at = absl::FromUnixSeconds(1'900'000'000);
  });
  std::shared_ptr<Channel> ch = Attach(kTestIdentitySerial);
  ASSERT_TRUE(ch->closed_status().has_value());
  EXPECT_THAT(*ch->closed_status(),
              ::certfleet::testing::StatusIs(
                  absl::StatusCode::kPermissionDenied,
                  "agent agt-0000000000a1 is disabled (by admin:alice at "
                  "2030-03-17T17:46:40Z); `certfleetctl agents enable "
                  "agt-0000000000a1` lets it connect again"));
  Update(
      [](store::AgentRecord& a) { a.status = store::AgentStatus::kRemoved; });
  ch = Attach(kTestIdentitySerial);
  ASSERT_TRUE(ch->closed_status().has_value());
  EXPECT_THAT(ch->closed_status()->message(),
              HasSubstr("was removed (by admin:alice at "));
  EXPECT_THAT(ch->closed_status()->message(),
              HasSubstr("its identity is refused for good"));
  EXPECT_THAT(c_.observer.refusals(),
              ElementsAre("stream/disabled", "stream/removed"));
  EXPECT_EQ(c_.hub->connected(), 0u);
}

// Disable, remove, re-enrollment: the open stream is cut at once, and the
// agent's last_seen_at records when.
TEST_F(AgentHubIdentityTest, AChangedRecordClosesTheOpenStream) {
  c_.AddVersion("web", "1a01", clock_.Now());
  int next_version = 2;
  for (const auto& change :
       std::vector<std::function<void(store::AgentRecord&)>>{
           [](store::AgentRecord& a) {
             a.status = store::AgentStatus::kDisabled;
           },
           [](store::AgentRecord& a) { a.identity_serial = "5e7a2"; }}) {
    Update([](store::AgentRecord& a) {
      a.status = store::AgentStatus::kActive;
      a.identity_serial = kTestIdentitySerial;
    });
    std::shared_ptr<Channel> ch = Attach(kTestIdentitySerial);
    Send(WwwInventory());
    ASSERT_FALSE(ch->closed_status().has_value());
    ASSERT_EQ(c_.hub->connected(), 1u);
    ASSERT_THAT(ch->versions_sent(), ::testing::SizeIs(1));
    clock_.Advance(absl::Minutes(5));
    Update(change);
    ASSERT_TRUE(ch->closed_status().has_value());
    EXPECT_EQ(ch->closed_status()->code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(c_.hub->connected(), 0u);
    EXPECT_EQ(Record().last_seen_at, clock_.Now());
    // Nothing more reaches it: a new version is not sent.
    const size_t before = ch->sent().size();
    c_.AddVersion("web", absl::StrCat("1a0", next_version++), clock_.Now());
    c_.hub->NotifyVersion("web");
    c_.hub->Flush();
    EXPECT_EQ(ch->sent().size(), before);
  }
  EXPECT_THAT(c_.observer.refusals(),
              ElementsAre("stream/disabled", "stream/stale_serial"));
}

TEST_F(AgentHubIdentityTest, AttachAndDetachRecordWhenTheAgentWasSeen) {
  clock_.Advance(absl::Hours(1));
  std::shared_ptr<Channel> ch = Attach(kTestIdentitySerial);
  EXPECT_EQ(Record().last_seen_at, clock_.Now());
  clock_.Advance(absl::Hours(2));
  c_.hub->Detach(kAgent, ch.get());
  c_.hub->Flush();
  EXPECT_EQ(Record().last_seen_at, clock_.Now());
}

// Relabelled out of the certificate's selection, the target gets nothing
// more; relabelled back in, it gets what the fleet serves now, not the
// version it was left with.
TEST_F(AgentHubIdentityTest, ARelabelChangesWhatTheAgentReceives) {
  c_.AddVersion("web", "1a01", clock_.Now());
  std::shared_ptr<Channel> ch = Attach(kTestIdentitySerial);
  Send(WwwInventory());
  EXPECT_THAT(ch->versions_sent(), ElementsAre("web/1"));
  // While the version is held at web/1 for this target (a rollout's
  // choice), web/2 does not reach it.
  c_.hub->HoldCertificate("web", "");
  c_.hub->SetDesired(kAgent, "www", "web/1");
  c_.AddVersion("web", "1a02", clock_.Now());
  c_.hub->NotifyVersion("web");
  c_.hub->Flush();
  EXPECT_THAT(ch->versions_sent(), ElementsAre("web/1"));

  Update([](store::AgentRecord& a) { a.labels = {{"role", "db"}}; });
  EXPECT_FALSE(ch->closed_status().has_value());  // a relabel keeps the stream
  ASSERT_TRUE(c_.store.TargetState(kAgent, "www").has_value());
  EXPECT_EQ(c_.store.TargetState(kAgent, "www")->desired_version_id, "");
  c_.hub->HoldCertificate("web", "web/2");  // what the fleet serves now
  c_.hub->Flush();
  EXPECT_THAT(ch->versions_sent(), ElementsAre("web/1"));  // not selected

  Update([](store::AgentRecord& a) { a.labels = {{"role", "web"}}; });
  EXPECT_THAT(ch->versions_sent(), ElementsAre("web/1", "web/2"));
}

// Renewal over a stream: only with the serial the stream presented — or,
// for an answer lost on the way, the one this stream was just issued.
TEST_F(AgentHubIdentityTest, RenewalsOnAStreamFollowItsSerial) {
  std::shared_ptr<Channel> ch = Attach(kTestIdentitySerial);
  Send(Renewal());
  ASSERT_EQ(ch->identities().size(), 1u);
  const std::string first = Record().identity_serial;
  EXPECT_NE(first, kTestIdentitySerial);
  // The agent did not get the answer and asks again on the same stream.
  Send(Renewal());
  ASSERT_EQ(ch->identities().size(), 2u);
  const std::string second = Record().identity_serial;
  EXPECT_NE(second, first);
  EXPECT_FALSE(ch->closed_status().has_value());

  // The certificate the stream presented is refused on a new stream.
  std::shared_ptr<Channel> old = Attach(kTestIdentitySerial);
  ASSERT_TRUE(old->closed_status().has_value());
  EXPECT_EQ(old->closed_status()->code(), absl::StatusCode::kPermissionDenied);
  // The newest is admitted (and replaces the first stream).
  std::shared_ptr<Channel> renewed = Attach(second);
  EXPECT_FALSE(renewed->closed_status().has_value());
}

// A stream whose certificate is no longer current (the agent renewed on
// another replica; a thief's copy) cannot renew: refused, stream closed,
// the record unchanged.
TEST_F(AgentHubIdentityTest, ARenewalWithAReplacedSerialIsRefused) {
  std::shared_ptr<Channel> thief = Attach(kTestIdentitySerial);
  ASSERT_OK(c_.store
                .UpdateAgent(kAgent,
                             [](store::AgentRecord& a) {
                               a.identity_serial =
                                   "5e7a2";  // renewed elsewhere
                               return absl::OkStatus();
                             })
                .status());
  Send(Renewal());
  EXPECT_THAT(thief->identities(), IsEmpty());
  ASSERT_TRUE(thief->closed_status().has_value());
  EXPECT_THAT(*thief->closed_status(),
              ::certfleet::testing::StatusIs(
                  absl::StatusCode::kPermissionDenied,
                  HasSubstr("identity certificate serial 7e57 is not the "
                            "agent's current one")));
  EXPECT_EQ(Record().identity_serial, "5e7a2");
  EXPECT_EQ(c_.hub->connected(), 0u);
  EXPECT_THAT(c_.observer.refusals(), ElementsAre("renewal/stale_serial"));
}

TEST_F(AgentHubIdentityTest, ADisabledAgentIsNotRenewed) {
  std::shared_ptr<Channel> ch = Attach(kTestIdentitySerial);
  // Disabled in the store, the stream not told yet (another replica's
  // action, the watch not arrived): the renewal itself is refused.
  ASSERT_OK(c_.store
                .UpdateAgent(kAgent,
                             [](store::AgentRecord& a) {
                               a.status = store::AgentStatus::kDisabled;
                               return absl::OkStatus();
                             })
                .status());
  Send(Renewal());
  EXPECT_THAT(ch->identities(), IsEmpty());
  ASSERT_TRUE(ch->closed_status().has_value());
  EXPECT_EQ(ch->closed_status()->code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Record().identity_serial, kTestIdentitySerial);
  EXPECT_THAT(c_.observer.refusals(), ElementsAre("renewal/disabled"));
}

// Another replica stored the record (the etcd watch): the same as
// AgentChanged, without reading the store.
TEST_F(AgentHubIdentityTest, ARecordStoredElsewhereApplies) {
  std::shared_ptr<Channel> ch = Attach(kTestIdentitySerial);
  store::AgentRecord record = Record();
  record.status = store::AgentStatus::kRemoved;
  c_.hub->OnAgentStored(record);
  c_.hub->Flush();
  ASSERT_TRUE(ch->closed_status().has_value());
  EXPECT_THAT(ch->closed_status()->message(), HasSubstr("was removed"));
  EXPECT_EQ(c_.hub->connected(), 0u);
}

}  // namespace
}  // namespace certfleet::delivery
