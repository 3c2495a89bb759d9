// Identity renewal as the agent checks it, against a coordinator scripted
// to answer a renewal with certificates for another key, for another
// agent, from another CA, or with another CA to trust: each is refused,
// logged and counted with the identity on disk untouched; the matching
// certificate is taken and the agent reconnects with it.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "agent/client/enroll.h"
#include "agent/client/identity.h"
#include "agent/install/target_manager.h"
#include "common/crypto/certificate.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "coordinator/identity/internal_ca.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agentapi/e2e_fixture.h"
#include "tests/agentapi/scripted_coordinator.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agentapi::testing {
namespace {

using ::certfleet::testing::ReadFileOrDie;
using ::certfleet::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::SizeIs;

std::string Serial(const std::string& pem) {
  absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromPem(pem);
  return cert.ok() ? cert->SerialHex() : "unreadable";
}

// A CSR for a fresh key (as another agent, or a thief, would send).
std::string ForeignCsr() {
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  absl::StatusOr<std::string> csr = crypto::BuildCsrDer(*key, {"other"});
  return *csr;
}

class AgentIdentityTest : public AgentApiE2eTest {
 protected:
  // Enrolled `age` ago with a 24-hour identity.
  agent::Identity EnrollAged(absl::Duration age) {
    const absl::Time now = clock_.Now();
    clock_.SetTime(now - age);
    absl::StatusOr<agent::Identity> id = EnrollAgent({{"role", "web"}});
    clock_.SetTime(now);
    EXPECT_OK(id.status());
    return id.value_or(agent::Identity{});
  }

  // The agent (as StartAgent) dialling `address` instead.
  void StartAgentAt(const std::string& address) {
    absl::StatusOr<std::unique_ptr<agent::TargetManager>> targets =
        agent::TargetManager::Create(config_, runner_, install_clock_, checker_,
                                     nullptr);
    ASSERT_TRUE(targets.ok()) << targets.status();
    targets_ = *std::move(targets);
    session_ = std::make_unique<agent::AgentSession>(
        agent::SessionOptions{.coordinators = {address},
                              .reconnect = {.initial = absl::Milliseconds(20),
                                            .max = absl::Milliseconds(200),
                                            .jitter = 0.5},
                              .hostname = "web-1"},
        identities_, *targets_, session_clock_, &session_observer_);
    cancel_ = std::make_shared<Cancellation>();
    const Context ctx = Context::Background().WithCancellation(cancel_);
    session_thread_ = std::thread([this, ctx] { session_->Run(ctx); });
  }

  // Sends `message` and waits for the session's next refusal; its reason.
  std::string Refused(ScriptedCoordinator& coordinator,
                      const v1::CoordinatorMessage& message) {
    const size_t before = session_observer_.identity_refusals().size();
    EXPECT_TRUE(coordinator.Send(message));
    if (!WaitFor("an identity refusal", [&] {
           return session_observer_.identity_refusals().size() > before;
         }).ok()) {
      return "(not refused)";
    }
    return session_observer_.identity_refusals().back();
  }

  // The identity directory, file by file.
  std::map<std::string, std::string> IdentityFiles() const {
    std::map<std::string, std::string> out;
    for (const char* name : {"identity.pem", "ca.pem", "agent.txt"}) {
      out[name] = ReadFileOrDie(tmp_.File(std::string("identity/") + name));
    }
    return out;
  }
};

TEST_F(AgentIdentityTest, RenewalTakesOnlyTheRequestedKeyFromItsOwnCa) {
  // Past two thirds of its lifetime: the agent asks at once.
  const agent::Identity old = EnrollAged(absl::Hours(17));
  std::unique_ptr<ScriptedCoordinator> coordinator =
      ScriptedCoordinator::Start(*c_.ca);
  StartAgentAt(coordinator->address());
  const std::optional<std::string> csr = coordinator->WaitForRenewal();
  ASSERT_TRUE(csr.has_value());
  const std::map<std::string, std::string> before = IdentityFiles();
  const std::string ca_pem = c_.ca->ca_pem();
  // A second internal CA, as another coordinator installation would have.
  delivery::testing::CoordinatorParts foreign(clock_, {});

  // A certificate from the right CA for a key this agent never asked for
  // (one an attacker holds).
  ASSERT_OK_AND_ASSIGN(
      std::string other_key_cert,
      c_.ca->SignAgentCsr(ForeignCsr(), agent_id_, absl::Hours(24)));
  EXPECT_EQ(Refused(*coordinator, IdentityMessage(other_key_cert, ca_pem)),
            "not_requested");
  // The requested key, but naming another agent.
  ASSERT_OK_AND_ASSIGN(
      std::string other_agent_cert,
      c_.ca->SignAgentCsr(*csr, "agt-0000000000ff", absl::Hours(24)));
  EXPECT_EQ(Refused(*coordinator, IdentityMessage(other_agent_cert, ca_pem)),
            "wrong_agent");
  // The requested key, signed by another CA: with that CA to trust, and
  // alone.
  ASSERT_OK_AND_ASSIGN(
      std::string foreign_cert,
      foreign.ca->SignAgentCsr(*csr, agent_id_, absl::Hours(24)));
  EXPECT_EQ(Refused(*coordinator,
                    IdentityMessage(foreign_cert, foreign.ca->ca_pem())),
            "ca_changed");
  EXPECT_EQ(Refused(*coordinator, IdentityMessage(foreign_cert, "")),
            "untrusted");
  // The right certificate, but asking the agent to trust another CA
  // instead, or as well.
  ASSERT_OK_AND_ASSIGN(std::string good,
                       c_.ca->SignAgentCsr(*csr, agent_id_, absl::Hours(24)));
  EXPECT_EQ(Refused(*coordinator, IdentityMessage(good, foreign.ca->ca_pem())),
            "ca_changed");
  EXPECT_EQ(Refused(*coordinator,
                    IdentityMessage(good, ca_pem + foreign.ca->ca_pem())),
            "ca_changed");
  EXPECT_EQ(Refused(*coordinator, IdentityMessage("not a certificate", "")),
            "unparsable");
  // Nothing changed on disk, and the agent stayed on its stream.
  EXPECT_EQ(IdentityFiles(), before);
  EXPECT_THAT(coordinator->client_serials(), ElementsAre(Serial(old.cert_pem)));

  // The answer: stored with the key of the request, the CA kept, and the
  // agent comes back with it.
  ASSERT_TRUE(coordinator->Send(IdentityMessage(good, ca_pem)));
  ASSERT_OK(WaitFor("the agent to reconnect with its new identity", [&] {
    return coordinator->client_serials().size() == 2;
  })) << "the agent did not reconnect with its new identity";
  EXPECT_EQ(coordinator->client_serials()[1], Serial(good));
  ASSERT_OK_AND_ASSIGN(agent::Identity renewed, identities_.Load());
  EXPECT_EQ(Serial(renewed.cert_pem), Serial(good));
  EXPECT_NE(renewed.key_pem, old.key_pem);
  EXPECT_EQ(IdentityFiles().at("ca.pem"), before.at("ca.pem"));
  EXPECT_THAT(session_observer_.identity_refusals(), SizeIs(7));
}

TEST_F(AgentIdentityTest, CertificateNobodyAskedForIsRefused) {
  // A fresh identity: no renewal is due, none is pending.
  const agent::Identity id = EnrollAged(absl::ZeroDuration());
  std::unique_ptr<ScriptedCoordinator> coordinator =
      ScriptedCoordinator::Start(*c_.ca);
  StartAgentAt(coordinator->address());
  ASSERT_OK(WaitFor("the agent's first connection",
                    [&] { return session_observer_.connects() == 1; }));
  const std::map<std::string, std::string> before = IdentityFiles();

  ASSERT_OK_AND_ASSIGN(
      std::string pushed,
      c_.ca->SignAgentCsr(ForeignCsr(), agent_id_, absl::Hours(24)));
  EXPECT_EQ(Refused(*coordinator, IdentityMessage(pushed, c_.ca->ca_pem())),
            "not_requested");
  // A certificate for the key it already uses (a late duplicate answer) is
  // ignored, not stored.
  ASSERT_OK_AND_ASSIGN(crypto::PrivateKey current,
                       crypto::PrivateKey::FromPem(id.key_pem));
  ASSERT_OK_AND_ASSIGN(std::string same_key_csr,
                       crypto::BuildCsrDer(current, {"web-1"}));
  ASSERT_OK_AND_ASSIGN(
      std::string same_key,
      c_.ca->SignAgentCsr(same_key_csr, agent_id_, absl::Hours(24)));
  ASSERT_TRUE(coordinator->Send(IdentityMessage(same_key, c_.ca->ca_pem())));
  // Processed in order: a refusal after it proves it was handled.
  EXPECT_EQ(Refused(*coordinator, IdentityMessage("garbage", "")),
            "unparsable");
  EXPECT_THAT(session_observer_.identity_refusals(),
              ElementsAre("not_requested", "unparsable"));
  EXPECT_EQ(IdentityFiles(), before);
  EXPECT_THAT(coordinator->client_serials(), SizeIs(1));
}

// Enrollment is held to the same rules: the answer must be for the key the
// agent sent, name the agent id it gives, verify against the configured
// coordinator_ca, and name no other CA; the configured CA is what is kept.
TEST_F(AgentIdentityTest, EnrollmentAnswerIsCheckedLikeARenewal) {
  std::unique_ptr<ScriptedCoordinator> coordinator =
      ScriptedCoordinator::Start(*c_.ca);
  delivery::testing::CoordinatorParts foreign(clock_, {});
  enum class Twist { kNone, kOtherKey, kOtherAgent, kForeignCa, kOtherCaPem };
  Twist twist = Twist::kNone;
  coordinator->SetEnrollAnswer([&](const v1::EnrollRequest& request) {
    const std::string id = "agt-00000000000a";
    v1::EnrollResponse r;
    r.set_agent_id(id);
    r.set_ca_pem(c_.ca->ca_pem());
    absl::StatusOr<std::string> cert;
    switch (twist) {
      case Twist::kOtherKey:
        cert = c_.ca->SignAgentCsr(ForeignCsr(), id, absl::Hours(24));
        break;
      case Twist::kOtherAgent:
        cert = c_.ca->SignAgentCsr(request.csr_der(), "agt-00000000000b",
                                   absl::Hours(24));
        break;
      case Twist::kForeignCa:
        cert = foreign.ca->SignAgentCsr(request.csr_der(), id, absl::Hours(24));
        break;
      case Twist::kOtherCaPem:
        r.set_ca_pem(foreign.ca->ca_pem());
        [[fallthrough]];
      case Twist::kNone:
        cert = c_.ca->SignAgentCsr(request.csr_der(), id, absl::Hours(24));
        break;
    }
    r.set_certificate_pem(cert.value_or(""));
    return r;
  });
  auto enroll = [&] {
    return agent::Enroll({.coordinators = {coordinator->address()},
                          .coordinator_ca_pem = c_.ca->ca_pem(),
                          .token = "cft1.test",
                          .hostname = "web-1",
                          .timeout = absl::Seconds(10)});
  };
  for (const auto& [t, message] : std::vector<std::pair<Twist, std::string>>{
           {Twist::kOtherKey, "is not for the key this agent sent"},
           {Twist::kOtherAgent,
            "not this agent (spiffe://certfleet/agent/"
            "agt-00000000000a)"},
           {Twist::kForeignCa,
            "does not verify against the trusted "
            "coordinator CA"},
           {Twist::kOtherCaPem,
            "answered with a CA other than the "
            "configured coordinator_ca"}}) {
    twist = t;
    EXPECT_THAT(enroll(), ::certfleet::testing::StatusIs(
                              absl::StatusCode::kFailedPrecondition,
                              ::testing::HasSubstr(message)));
  }
  twist = Twist::kNone;
  ASSERT_OK_AND_ASSIGN(agent::Identity id, enroll());
  EXPECT_EQ(id.agent_id, "agt-00000000000a");
  EXPECT_EQ(id.ca_pem, c_.ca->ca_pem());
}

TEST(AgentIdentityChecksTest, TrustedCertificatesAreCompared) {
  // The agent's copy of the URI the coordinator's CA writes.
  EXPECT_STREQ(agent::kAgentIdentityUriPrefix, identity::kAgentUriPrefix);
  const crypto::testing::TestCa a = crypto::testing::TestCa::Create("A");
  const crypto::testing::TestCa b = crypto::testing::TestCa::Create("B");
  EXPECT_TRUE(agent::WithinTrustedCertificates(a.RootPem(), a.RootPem()));
  // Another PEM layout of the same certificate is the same certificate.
  EXPECT_TRUE(agent::WithinTrustedCertificates("junk\n" + a.RootPem(),
                                               a.RootPem() + b.RootPem()));
  EXPECT_FALSE(agent::WithinTrustedCertificates(b.RootPem(), a.RootPem()));
  EXPECT_FALSE(
      agent::WithinTrustedCertificates(a.RootPem() + b.RootPem(), a.RootPem()));
  EXPECT_FALSE(agent::WithinTrustedCertificates("", a.RootPem()));
}

}  // namespace
}  // namespace certfleet::agentapi::testing
