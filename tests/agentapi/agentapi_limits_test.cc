// The agent listener's limits, each exceeded by a hand-made client with a
// real agent identity (or none, for enrollment), while a real agent on the
// same coordinator keeps its stream and receives the next version.
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agentapi/e2e_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agentapi::testing {
namespace {

using ::certfleet::testing::WaitFor;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class AgentLimitsTest : public AgentApiE2eTest {
 protected:
  // The well-behaved agent: enrolled (role=web), running, serving web/1.
  void StartWellBehavedAgent() {
    const delivery::testing::StoredVersion v1 =
        c_.AddVersion("web", "1a01", absl::Now());
    ASSERT_OK(EnrollAgent({{"role", "web"}}).status());
    StartAgent();
    ASSERT_OK(WaitInstalled("web/1", v1.serial));
  }
  // The well-behaved agent still holds its first stream and installs the
  // next version.
  void ExpectWellBehavedAgentCarriesOn() {
    const delivery::testing::StoredVersion next =
        c_.AddVersion("web", absl::StrCat("1c", ++versions_), absl::Now());
    c_.hub->NotifyVersion("web");
    EXPECT_OK(WaitInstalled(next.version_id, next.serial))
        << "the well-behaved agent did not get " << next.version_id;
    EXPECT_EQ(ServedSerial(), next.serial);
    EXPECT_EQ(session_observer_.connects(), 1);
    EXPECT_THAT(session_observer_.disconnects(), IsEmpty());
  }
  // Credentials of enrolled agent `id` (role=web), for a hand-made client.
  RawCredentials Intruder(const std::string& id) {
    c_.PutAgent(id, {{"role", "web"}});
    const delivery::testing::CoordinatorParts::AgentIdentity identity =
        c_.IdentityFor(id);
    return {.ca_pem = c_.ca->ca_pem(),
            .key_pem = identity.key_pem,
            .cert_pem = identity.cert_pem};
  }
  void RestartServer() {
    StopServer();
    StartServer();
  }
  // Nothing of agent `id` was recorded.
  void ExpectNothingRecordedFor(const std::string& id) {
    for (const store::TargetStateRecord& w : c_.store.target_state_writes()) {
      EXPECT_NE(w.agent_id, id) << "target " << w.target << " recorded";
    }
  }

  int versions_ = 10;
};

TEST_F(AgentLimitsTest, MessageOverTheSizeLimitIsRefused) {
  StartWellBehavedAgent();
  RawStream stream(Address(), Intruder("agt-0000000000b1"));
  ASSERT_TRUE(stream.Write(HelloMessage()));
  ASSERT_TRUE(stream.Read().has_value());  // welcome
  v1::AgentMessage huge = HelloMessage();
  huge.mutable_hello()->set_agent_version(std::string(200 * 1024, 'v'));
  stream.Write(huge);
  EXPECT_FALSE(stream.Read().has_value());
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  // Within the limit, 100 KiB of health detail passes (and is cut to
  // max_text_bytes before it is stored).
  RawStream fits(Address(), Intruder("agt-0000000000b2"));
  ASSERT_TRUE(fits.Write(HelloMessage()));
  ASSERT_TRUE(fits.Read().has_value());
  ASSERT_TRUE(fits.Write(EmptyWwwInventory()));
  v1::AgentMessage big;
  big.mutable_health()->set_target("www");
  big.mutable_health()->set_detail(std::string(100 * 1024, 'd'));
  ASSERT_TRUE(fits.Write(big));
  ASSERT_OK(WaitFor("the truncated 1 KiB detail of agent b2", [&] {
    std::optional<store::TargetStateRecord> s =
        c_.store.TargetState("agt-0000000000b2", "www");
    return s && s->detail.size() == 1024;
  }));
  ExpectWellBehavedAgentCarriesOn();
}

// A gRPC client waits for a free stream slot; the extra stream never reaches
// the coordinator (it would have replaced the first).
TEST_F(AgentLimitsTest, StreamsPerConnectionAreCapped) {
  server_limits_.max_streams_per_connection = 1;
  RestartServer();
  StartWellBehavedAgent();
  std::shared_ptr<grpc::Channel> connection =
      RawChannel(Address(), Intruder("agt-0000000000b1"));
  RawStream first(connection);
  ASSERT_TRUE(first.Write(HelloMessage()));
  ASSERT_TRUE(first.Read().has_value());
  RawStream second(connection, absl::Seconds(2));
  second.Write(HelloMessage());
  EXPECT_FALSE(second.Read().has_value());
  const grpc::Status status = second.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << status.error_message();
  // The first stream was not replaced: it still gets its bundle.
  ASSERT_TRUE(first.Write(EmptyWwwInventory()));
  std::optional<v1::CoordinatorMessage> bundle = first.Read();
  ASSERT_TRUE(bundle.has_value());
  EXPECT_EQ(bundle->bundle().version_id(), "web/1");
  ExpectWellBehavedAgentCarriesOn();
}

TEST_F(AgentLimitsTest, PingFloodClosesTheConnection) {
  // Whatever the server writes (a heartbeat too) resets gRPC's count of ping
  // strikes; with heartbeats every 2 s a loaded machine can space the flood's
  // pings past that. The strike policy is checked alone here: no heartbeat
  // during the test.
  server_limits_.heartbeat_interval = absl::Minutes(5);
  RestartServer();
  StartWellBehavedAgent();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 200);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  RawStream stream(RawChannel(Address(), Intruder("agt-0000000000b1"), args));
  ASSERT_TRUE(stream.Write(HelloMessage()));
  ASSERT_TRUE(stream.Read().has_value());
  const absl::Time start = absl::Now();
  // Idle from here: only pings flow, until the coordinator has had enough.
  EXPECT_FALSE(stream.Read().has_value());
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  ExpectWellBehavedAgentCarriesOn();
}

TEST_F(AgentLimitsTest, InventoryOverTheTargetLimitIsRefused) {
  StartWellBehavedAgent();
  RawStream stream(Address(), Intruder("agt-0000000000b1"));
  ASSERT_TRUE(stream.Write(HelloMessage()));
  ASSERT_TRUE(stream.Read().has_value());
  v1::AgentMessage inventory;
  inventory.mutable_inventory()->add_targets()->set_name("www");
  for (int i = 1; i <= 64; ++i) {
    inventory.mutable_inventory()->add_targets()->set_name(
        absl::StrCat("t", i));
  }
  ASSERT_TRUE(stream.Write(inventory));
  EXPECT_FALSE(stream.Read().has_value());
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_THAT(status.error_message(),
              HasSubstr("lists 65 targets; an agent may have at most 64"));
  EXPECT_EQ(c_.observer.refused()["too_many_targets"], 1);
  c_.hub->Flush();
  ExpectNothingRecordedFor("agt-0000000000b1");
  ExpectWellBehavedAgentCarriesOn();
}

TEST_F(AgentLimitsTest, NamesOutsideTheirGrammarAreRefusedBeforeUse) {
  StartWellBehavedAgent();
  struct Case {
    std::string what;
    v1::AgentMessage message;
    std::string field;
  };
  std::vector<Case> cases;
  {
    v1::AgentMessage m = HelloMessage();
    m.mutable_hello()->set_hostname("web-1\n2026-12-07T00:00:00Z I forged");
    cases.push_back({"hello", m, "Hello.hostname"});
  }
  {
    v1::AgentMessage m;
    m.mutable_inventory()->add_targets()->set_name("../../etc");
    cases.push_back({"inventory", m, "Inventory target name"});
  }
  {
    v1::AgentMessage m;
    m.mutable_result()->set_target("www\x1b[2J");
    m.mutable_result()->set_version_id("web/1");
    m.mutable_result()->set_nonce("1");
    cases.push_back({"result", m, "DeliveryResult target"});
  }
  {
    v1::AgentMessage m;
    m.mutable_health()->set_target(std::string(65, 'w'));
    cases.push_back({"health", m, "HealthReport target"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    RawStream stream(Address(), Intruder("agt-0000000000b1"));
    ASSERT_TRUE(stream.Write(c.message));
    // The welcome may come first.
    std::optional<v1::CoordinatorMessage> m;
    while ((m = stream.Read()).has_value()) {
      EXPECT_TRUE(m->has_welcome());
    }
    const grpc::Status status = stream.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }
  EXPECT_EQ(c_.observer.refused()["invalid_message"], 4);

  // Enrollment: the host name is checked before it is logged or stored,
  // and the token is not used up.
  const std::string token = c_.NewToken({{"role", "web"}});
  const grpc::Status enroll = RawEnroll(Address(), {.ca_pem = c_.ca->ca_pem()},
                                        token, std::string(300, 'h'));
  EXPECT_EQ(enroll.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << enroll.error_message();
  EXPECT_THAT(enroll.error_message(), HasSubstr("is not a host name"));
  ASSERT_OK_AND_ASSIGN(store::TokenRecord unused, c_.tokens.Check(token));
  EXPECT_EQ(unused.used_by, "");
  EXPECT_EQ(c_.observer.refused()["invalid_hostname"], 1);
  c_.hub->Flush();
  ExpectNothingRecordedFor("agt-0000000000b1");
  ExpectWellBehavedAgentCarriesOn();
}

// Each stream has at most two messages in the hub at a time; past the
// hub's bound, the message's stream is ended with RESOURCE_EXHAUSTED.
TEST_F(AgentLimitsTest, HubQueueIsBoundedAndPushesBack) {
  StopServer();
  delivery::AgentLimits limits;
  limits.max_hub_queue_bytes = 170 * 1024;
  c_.RestartHub(limits);
  StartServer();
  StartWellBehavedAgent();

  auto health = [](size_t detail_bytes, char fill = 'd') {
    v1::AgentMessage m;
    m.mutable_health()->set_target("www");
    m.mutable_health()->set_detail(std::string(detail_bytes, fill));
    return m;
  };
  // Stream b: its attach stalls the hub (a store read that hangs; writes
  // would not, they are written behind), then it sends an inventory and
  // three 60 KiB messages: one joins the inventory in the hub, the others
  // wait in the transport.
  c_.store.Hold(delivery::testing::RecordingStore::Held::kAgentReads);
  RawStream b(Address(), Intruder("agt-0000000000b1"));
  ASSERT_TRUE(b.Write(EmptyWwwInventory()));
  ASSERT_OK(WaitFor("agent b1's attach waiting on a store read", [&] {
    return c_.store.waiting(
               delivery::testing::RecordingStore::Held::kAgentReads) == 1;
  }));
  std::thread flood([&] {
    for (char fill : {'a', 'b', 'c'}) b.Write(health(60 * 1024, fill));
  });
  ASSERT_OK(WaitFor("60 KiB of messages queued in the hub", [&] {
    return c_.hub->queued_message_bytes() >= 60 * 1024;
  }));
  absl::SleepFor(absl::Milliseconds(300));  // the others had their chance
  EXPECT_LT(c_.hub->queued_message_bytes(), 70 * 1024);
  // Stream c's 120 KiB message would pass the bound.
  RawStream c(Address(), Intruder("agt-0000000000c1"));
  ASSERT_TRUE(c.Write(health(120 * 1024)));
  EXPECT_FALSE(c.Read().has_value());
  const grpc::Status refused = c.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("coordinator busy"));
  EXPECT_EQ(c_.observer.refused()["hub_queue_full"], 1);

  c_.store.Release(delivery::testing::RecordingStore::Held::kAgentReads);
  flood.join();
  // b's stream was held back, never refused: all its messages count, the
  // last one too (a report still waiting to be written when a newer one
  // for its target comes is replaced by it: hub_writer.h).
  ASSERT_OK(WaitFor("agent b1's last 1 KiB detail written", [&] {
    std::optional<store::TargetStateRecord> s =
        c_.store.TargetState("agt-0000000000b1", "www");
    return s.has_value() && s->detail.size() == 1024 && s->detail[0] == 'c';
  }));
  ASSERT_TRUE(b.Write(HelloMessage()));
  ExpectNothingRecordedFor("agt-0000000000c1");
  ExpectWellBehavedAgentCarriesOn();
}

TEST_F(AgentLimitsTest, EnrollmentAttemptsPerAddressAreLimited) {
  server_limits_.enrollment_per_address = {.burst = 2,
                                           .refill_every = absl::Minutes(1)};
  RestartServer();
  StartWellBehavedAgent();  // its enrollment succeeded: it cost nothing
  const RawCredentials anonymous{.ca_pem = c_.ca->ca_pem()};
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(RawEnroll(Address(), anonymous, "cft1.guessed").error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  const std::string token = c_.NewToken({{"role", "web"}});
  const grpc::Status refused = RawEnroll(Address(), anonymous, token);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(),
              HasSubstr("too many failed enrollment attempts from 127.0.0.1"));
  EXPECT_THAT(refused.error_message(), HasSubstr("retry in 1m"));
  ASSERT_OK_AND_ASSIGN(store::TokenRecord unused, c_.tokens.Check(token));
  EXPECT_EQ(unused.used_by, "");
  EXPECT_EQ(c_.observer.refused()["enrollment_rate_address"], 1);
  ExpectWellBehavedAgentCarriesOn();

  // A minute later the same token enrolls; successes cost nothing, so
  // several in a row are fine.
  clock_.Advance(absl::Minutes(1));
  for (int i = 0; i < 4; ++i) {
    const std::string t = i == 0 ? token : c_.NewToken({{"role", "web"}});
    const grpc::Status ok = RawEnroll(Address(), anonymous, t);
    EXPECT_TRUE(ok.ok()) << i << ": " << ok.error_message();
  }
}

TEST_F(AgentLimitsTest, EnrollmentAttemptsOverallAreLimited) {
  server_limits_.enrollment_overall = {.burst = 2,
                                       .refill_every = absl::Minutes(1)};
  RestartServer();
  StartWellBehavedAgent();
  const RawCredentials anonymous{.ca_pem = c_.ca->ca_pem()};
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(RawEnroll(Address(), anonymous, "cft1.guessed").error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  const grpc::Status refused =
      RawEnroll(Address(), anonymous, c_.NewToken({{"role", "web"}}));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(),
              HasSubstr("too many failed enrollment attempts at this "
                        "coordinator"));
  EXPECT_EQ(c_.observer.refused()["enrollment_rate_overall"], 1);
  EXPECT_EQ(c_.observer.refused().count("enrollment_rate_address"), 0u);
  ExpectWellBehavedAgentCarriesOn();
}

TEST_F(AgentLimitsTest, RenewalFloodEndsTheStream) {
  StartWellBehavedAgent();
  RawStream stream(Address(), Intruder("agt-0000000000b1"));
  ASSERT_TRUE(stream.Write(HelloMessage()));
  ASSERT_TRUE(stream.Read().has_value());
  v1::AgentMessage renewal;
  renewal.mutable_renew_identity()->set_csr_der("not a CSR");
  for (int i = 0; i < 3; ++i) stream.Write(renewal);
  EXPECT_FALSE(stream.Read().has_value());
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("too many identity renewals"));
  ExpectWellBehavedAgentCarriesOn();
}

}  // namespace
}  // namespace certfleet::agentapi::testing
