// Who may talk to the agent service: client certificates at TLS, identities
// on AgentService, bootstrap tokens at enrollment, identity renewal over the
// stream, and one stream per agent.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/crypto/certificate.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "coordinator/identity/enrollment.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agentapi/e2e_fixture.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agentapi::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::certfleet::testing::WaitFor;
using ::testing::HasSubstr;

std::string Serial(const std::string& pem) {
  absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromPem(pem);
  return cert.ok() ? cert->SerialHex() : "unreadable";
}

class AgentAuthTest : public AgentApiE2eTest {};

TEST_F(AgentAuthTest, ClientCertificateFromAnotherCaFailsTheHandshake) {
  const crypto::testing::TestCa foreign =
      crypto::testing::TestCa::Create("Foreign");
  const crypto::testing::IssuedCert leaf =
      foreign.IssueLeaf({.dns_names = {"agent.example.test"},
                         .not_before = absl::Now() - absl::Hours(1),
                         .not_after = absl::Now() + absl::Hours(1)});
  ASSERT_OK_AND_ASSIGN(std::string key_pem, leaf.key.ToPem());
  const RawCredentials foreign_client{.ca_pem = c_.ca->ca_pem(),
                                      .key_pem = key_pem,
                                      .cert_pem = foreign.ChainPem(leaf.cert)};
  const std::string token = c_.NewToken({{"role", "web"}});

  // Without a client certificate the same call reaches the service...
  const grpc::Status control =
      RawEnroll(Address(), {.ca_pem = c_.ca->ca_pem()}, "cft1.malformed");
  EXPECT_EQ(control.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << control.error_message();
  EXPECT_THAT(control.error_message(), HasSubstr("malformed bootstrap token"));

  // ...with one the internal CA did not sign, TLS refuses the connection.
  const grpc::Status enroll = RawEnroll(Address(), foreign_client, token);
  EXPECT_EQ(enroll.error_code(), grpc::StatusCode::UNAVAILABLE)
      << enroll.error_message();
  RawStream stream(Address(), foreign_client);
  stream.Write(HelloMessage());
  EXPECT_FALSE(stream.Read().has_value());
  const grpc::Status connect = stream.Finish();
  EXPECT_EQ(connect.error_code(), grpc::StatusCode::UNAVAILABLE)
      << connect.error_message();

  ASSERT_OK_AND_ASSIGN(auto agents, c_.store.ListAgents());
  EXPECT_TRUE(agents.empty());  // the valid token was never presented
  ASSERT_OK_AND_ASSIGN(auto token_record,
                       c_.tokens.Check(token));  // still unused
  EXPECT_EQ(token_record.used_by, "");
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->connected(), 0u);
}

TEST_F(AgentAuthTest, StreamWithoutClientCertificateIsUnauthenticated) {
  RawStream stream(Address(), {.ca_pem = c_.ca->ca_pem()});
  stream.Write(HelloMessage());
  EXPECT_FALSE(stream.Read().has_value());
  const grpc::Status status = stream.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  EXPECT_THAT(status.error_message(),
              HasSubstr("needs an agent identity certificate"));
  EXPECT_EQ(c_.hub->connected(), 0u);
}

TEST_F(AgentAuthTest, IdentityOfAnAgentNotEnrolledIsRefused) {
  // Signed by the right CA, but no such agent in the store.
  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(std::string csr, crypto::BuildCsrDer(key, {"ghost"}));
  ASSERT_OK_AND_ASSIGN(
      std::string cert_pem,
      c_.ca->SignAgentCsr(csr, "agt-00000000dead", absl::Hours(1)));
  ASSERT_OK_AND_ASSIGN(std::string key_pem, key.ToPem());
  RawStream stream(
      Address(),
      {.ca_pem = c_.ca->ca_pem(), .key_pem = key_pem, .cert_pem = cert_pem});
  stream.Write(HelloMessage());
  EXPECT_FALSE(stream.Read().has_value());  // no welcome
  const grpc::Status status = stream.Finish();
  // Not retryable: the agent must enroll again.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();
  EXPECT_EQ(status.error_message(), "agent agt-00000000dead is not enrolled");
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->connected(), 0u);
}

TEST_F(AgentAuthTest, UsedExpiredAndOverreachingTokensAreRefused) {
  const std::string token = c_.NewToken({{"role", "web"}});
  const std::string token_id = token.substr(5, 16);  // "cft1.<id>.<secret>"
  ASSERT_OK_AND_ASSIGN(agent::Identity first,
                       EnrollWith(token, {{"role", "web"}}));

  EXPECT_THAT(EnrollWith(token, {{"role", "web"}}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr(absl::StrCat("bootstrap token ", token_id,
                                              " was already used"))));

  const std::string other = c_.NewToken({{"role", "web"}});
  EXPECT_THAT(EnrollWith(other, {{"role", "admin"}}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("label role=admin is not granted")));

  clock_.Advance(absl::Hours(2));  // tokens live an hour
  EXPECT_THAT(
      EnrollWith(other, {{"role", "web"}}),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr(absl::StrCat("bootstrap token ", other.substr(5, 16),
                                      " expired at"))));

  ASSERT_OK_AND_ASSIGN(auto agents, c_.store.ListAgents());
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_EQ(agents[0].id, first.agent_id);
}

TEST_F(AgentAuthTest, AgentRenewsItsIdentityOverTheStreamAndReconnects) {
  // Enrolled 17 hours ago with a 24-hour identity: past two thirds of it.
  const absl::Time now = clock_.Now();
  clock_.SetTime(now - absl::Hours(17));
  ASSERT_OK_AND_ASSIGN(agent::Identity old, EnrollAgent({{"role", "web"}}));
  clock_.SetTime(now);
  ASSERT_TRUE(identity::EnrollmentService::NeedsRenewal(old.not_before,
                                                        old.not_after, now));
  const std::string old_serial = Serial(old.cert_pem);

  // Nothing to install: the renewal must not wait for a delivery.
  StartAgent();
  absl::StatusOr<agent::Identity> renewed;
  ASSERT_OK(WaitFor("a renewed identity on disk",
                    [&] {
                      renewed = identities_.Load();
                      return renewed.ok() &&
                             Serial(renewed->cert_pem) != old_serial;
                    }))
      << "identity on disk still has serial " << old_serial;
  EXPECT_EQ(renewed->agent_id, old.agent_id);
  EXPECT_NE(renewed->key_pem, old.key_pem);  // a fresh key, matching (Load)
  EXPECT_EQ(renewed->ca_pem, c_.ca->ca_pem());
  EXPECT_EQ(absl::ToUnixSeconds(renewed->not_after),
            absl::ToUnixSeconds(now + absl::Hours(24)));
  ASSERT_OK_AND_ASSIGN(std::optional<store::AgentRecord> record,
                       c_.store.GetAgent(old.agent_id));
  EXPECT_EQ(record->identity_serial, Serial(renewed->cert_pem));

  // It dropped the stream that used the old identity and came back.
  ASSERT_OK(WaitFor("the agent to come back with its renewed identity",
                    [&] { return session_observer_.connects() == 2; }));
  EXPECT_THAT(session_observer_.disconnects().front(), HasSubstr("CANCELLED"));
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->connected(), 1u);
  StopAgent();
  // Renewed once: the new identity is not due.
  ASSERT_OK_AND_ASSIGN(record, c_.store.GetAgent(old.agent_id));
  EXPECT_EQ(record->identity_serial, Serial(renewed->cert_pem));

  // The stored identity is accepted on its own.
  RawStream stream(Address(), {.ca_pem = renewed->ca_pem,
                               .key_pem = renewed->key_pem,
                               .cert_pem = renewed->cert_pem});
  stream.Write(HelloMessage());
  std::optional<v1::CoordinatorMessage> welcome = stream.Read();
  ASSERT_TRUE(welcome.has_value());
  EXPECT_EQ(welcome->welcome().agent_id(), old.agent_id);

  // The certificate it replaced, still valid for 7 hours — the agent's old
  // copy, or a thief's — is refused from now on, and cannot renew.
  RawStream previous(
      Address(),
      {.ca_pem = old.ca_pem, .key_pem = old.key_pem, .cert_pem = old.cert_pem});
  previous.Write(HelloMessage());
  EXPECT_FALSE(previous.Read().has_value());
  const grpc::Status refused = previous.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << refused.error_message();
  EXPECT_EQ(refused.error_message(),
            absl::StrCat("agent ", old.agent_id,
                         ": identity certificate serial ", old_serial,
                         " is not the agent's current one (it was renewed or "
                         "re-enrolled since); this certificate is refused"));
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->connected(), 1u);  // the current stream stays
  ASSERT_OK_AND_ASSIGN(record, c_.store.GetAgent(old.agent_id));
  EXPECT_EQ(record->identity_serial, Serial(renewed->cert_pem));
}

TEST_F(AgentAuthTest, SecondStreamOfTheSameAgentReplacesTheFirst) {
  ASSERT_OK_AND_ASSIGN(agent::Identity id, EnrollAgent({{"role", "web"}}));
  const RawCredentials creds{
      .ca_pem = id.ca_pem, .key_pem = id.key_pem, .cert_pem = id.cert_pem};
  RawStream first(Address(), creds);
  first.Write(HelloMessage());
  std::optional<v1::CoordinatorMessage> m = first.Read();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->welcome().agent_id(), id.agent_id);

  RawStream second(Address(), creds);
  second.Write(HelloMessage());
  m = second.Read();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->welcome().agent_id(), id.agent_id);

  EXPECT_FALSE(first.Read().has_value());
  const grpc::Status replaced = first.Finish();
  EXPECT_EQ(replaced.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(replaced.error_message(),
            "replaced by a newer stream of the same agent");

  // The survivor is the one served.
  const delivery::testing::StoredVersion v1 =
      c_.AddVersion("web", "1a01", absl::Now());
  second.Write(EmptyWwwInventory());
  m = second.Read();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->bundle().version_id(), v1.version_id);
  EXPECT_EQ(m->bundle().leaf_pem(), v1.leaf_pem);
  c_.hub->Flush();
  EXPECT_EQ(c_.hub->connected(), 1u);
}

// A stream replaced while a write to it is stuck (its client is gone), and
// that write then fails: the Close waiting for it must still finish the
// stream, or Server::Shutdown waits for it forever.
TEST_F(AgentAuthTest, ReplacedStreamWhoseWriteFailsStillFinishes) {
  ASSERT_OK_AND_ASSIGN(agent::Identity id, EnrollAgent({{"role", "web"}}));
  const RawCredentials creds{
      .ca_pem = id.ca_pem, .key_pem = id.key_pem, .cert_pem = id.cert_pem};
  auto first = std::make_unique<RawStream>(Address(), creds);
  first->Write(HelloMessage());
  ASSERT_TRUE(first->Read().has_value());
  first->Write(EmptyWwwInventory());
  // Bundles of 2 MiB the client never reads: a write stays in flight.
  for (int i = 0; i < 12; ++i) {
    const delivery::testing::StoredVersion v =
        c_.AddVersion("web", absl::StrCat("1b", i + 10), absl::Now());
    ASSERT_OK_AND_ASSIGN(std::optional<store::VersionRecord> big,
                         c_.store.GetVersion("web", v.version));
    big->chain_pem = std::string(2 << 20, 'x');  // the hub does not parse it
    ASSERT_OK(c_.store.AddVersion(*big).status());
    c_.hub->NotifyVersion("web");
  }
  c_.hub->Flush();
  RawStream second(Address(), creds);  // replaces `first`: Close pending
  second.Write(HelloMessage());
  ASSERT_TRUE(second.Read().has_value());
  first.reset();  // the client goes away: the pending write fails

  absl::Notification stopped;
  std::thread stopper([&] {
    StopServer();
    stopped.Notify();
  });
  if (!stopped.WaitForNotificationWithTimeout(absl::Seconds(10))) {
    // The server can never be destroyed now: end the binary loudly.
    fprintf(stderr,
            "AgentServer::Shutdown hangs on a stream that never "
            "finished\n");
    abort();
  }
  stopper.join();
}

}  // namespace
}  // namespace certfleet::agentapi::testing
