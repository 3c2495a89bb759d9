// Who may call the admin API: admin identities of the internal CA only.
// An agent identity reaches the service and is refused on every call;
// without a client certificate, or with one from another CA, the TLS
// handshake fails. Also the identity checks of the internal CA itself.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/crypto/certificate_builder.h"
#include "common/crypto/public_key.h"
#include "coordinator/identity/internal_ca.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adminapi/admin_fixture.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::adminapi::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kAgentRefusal[] = "agent identities cannot use the admin API";

// Every AdminService call through `stub`, each with its status.
std::vector<std::pair<std::string, grpc::Status>> CallEverything(
    v1::AdminService::Stub& stub) {
  std::vector<std::pair<std::string, grpc::Status>> out;
  auto context = [] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(20));
    return c;
  };
  {
    v1::GetStatusResponse r;
    out.emplace_back("GetStatus", stub.GetStatus(context().get(), {}, &r));
  }
  {
    v1::ListCertificatesResponse r;
    out.emplace_back("ListCertificates",
                     stub.ListCertificates(context().get(), {}, &r));
  }
  {
    v1::GetCertificateRequest q;
    q.set_name("web");
    v1::GetCertificateResponse r;
    out.emplace_back("GetCertificate",
                     stub.GetCertificate(context().get(), q, &r));
  }
  {
    v1::ListAgentsResponse r;
    out.emplace_back("ListAgents", stub.ListAgents(context().get(), {}, &r));
  }
  {
    v1::GetAgentRequest q;
    q.set_id("agt-000000000001");
    v1::GetAgentResponse r;
    out.emplace_back("GetAgent", stub.GetAgent(context().get(), q, &r));
  }
  {
    v1::CreateTokenRequest q;
    (*q.mutable_labels())["role"] = "web";
    v1::CreateTokenResponse r;
    out.emplace_back("CreateToken", stub.CreateToken(context().get(), q, &r));
  }
  return out;
}

TEST_F(AdminApiTest, AdminIdentityMayCallEverything) {
  StoreFleet();
  const ctl::AdminIdentity alice = AdminIdentityFor("alice");
  std::unique_ptr<v1::AdminService::Stub> stub =
      RawStub(alice.key_pem, alice.cert_pem);
  for (const auto& [method, status] : CallEverything(*stub)) {
    EXPECT_TRUE(status.ok()) << method << ": " << status.error_message();
  }
  ASSERT_OK_AND_ASSIGN(v1::GetStatusResponse status,
                       ClientFor(alice)->GetStatus());
  EXPECT_EQ(status.caller(), "alice");
}

TEST_F(AdminApiTest, AgentIdentityIsRefusedOnEveryCall) {
  StoreFleet();
  const ctl::AdminIdentity agent = AgentIdentityFor("agt-000000000001");
  std::unique_ptr<v1::AdminService::Stub> stub =
      RawStub(agent.key_pem, agent.cert_pem);
  for (const auto& [method, status] : CallEverything(*stub)) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method << ": " << status.error_message();
    EXPECT_EQ(status.error_message(), kAgentRefusal) << method;
  }
  // It made no token.
  ASSERT_OK_AND_ASSIGN(auto tokens, c_.store.ListTokens());
  EXPECT_TRUE(tokens.empty());
  // The client library keeps the code and names the coordinator.
  EXPECT_THAT(
      ClientFor(agent)->GetStatus(),
      StatusIs(absl::StatusCode::kPermissionDenied,
               HasSubstr(absl::StrCat("coordinator ", Address(),
                                      ": GetStatus: ", kAgentRefusal))));
}

TEST_F(AdminApiTest, NoClientCertificateFailsTheHandshake) {
  std::unique_ptr<v1::AdminService::Stub> stub = RawStub("", "");
  for (const auto& [method, status] : CallEverything(*stub)) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << method << ": " << status.error_message();
  }
  ASSERT_OK_AND_ASSIGN(auto tokens, c_.store.ListTokens());
  EXPECT_TRUE(tokens.empty());
}

TEST_F(AdminApiTest, AdminIdentityFromAnotherCaFailsTheHandshake) {
  // Right URI and CN, wrong issuer.
  const crypto::testing::TestCa foreign =
      crypto::testing::TestCa::Create("Foreign");
  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(
      crypto::Certificate cert,
      crypto::IssueCertificate(
          {.common_name = "mallory",
           .uris = {"spiffe://certfleet/admin/mallory"},
           .not_before = absl::Now() - absl::Hours(1),
           .not_after = absl::Now() + absl::Hours(1),
           .key_usage = {.digital_signature = true},
           .extended_key_usage = {crypto::ExtendedKeyUsage::kClientAuth}},
          crypto::PublicKey::Of(key), foreign.intermediate(),
          foreign.intermediate_key()));
  ASSERT_OK_AND_ASSIGN(std::string key_pem, key.ToPem());
  std::unique_ptr<v1::AdminService::Stub> stub =
      RawStub(key_pem, foreign.ChainPem(cert));
  for (const auto& [method, status] : CallEverything(*stub)) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << method << ": " << status.error_message();
  }
  ASSERT_OK_AND_ASSIGN(auto tokens, c_.store.ListTokens());
  EXPECT_TRUE(tokens.empty());
}

TEST_F(AdminApiTest, AdminIdentityCarriesItsUriAndClientAuth) {
  const ctl::AdminIdentity alice = AdminIdentityFor("alice");
  ASSERT_OK_AND_ASSIGN(crypto::Certificate cert,
                       crypto::Certificate::FromPem(alice.cert_pem));
  EXPECT_THAT(cert.UriNames(),
              ::testing::ElementsAre("spiffe://certfleet/admin/alice"));
  EXPECT_EQ(cert.SubjectCommonName(), "alice");
  EXPECT_FALSE(cert.IsCa());
  EXPECT_LE(cert.NotAfter(), clock_.Now() + absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(std::string name,
                       identity::InternalCa::AdminNameFromCertificate(cert));
  EXPECT_EQ(name, "alice");
  // An admin identity is no agent identity.
  EXPECT_THAT(identity::InternalCa::AgentIdFromCertificate(cert),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("is not an agent identity")));
  ASSERT_OK_AND_ASSIGN(crypto::Certificate agent,
                       crypto::Certificate::FromPem(
                           AgentIdentityFor("agt-000000000002").cert_pem));
  EXPECT_THAT(identity::InternalCa::AdminNameFromCertificate(agent),
              StatusIs(absl::StatusCode::kPermissionDenied, kAgentRefusal));
}

TEST_F(AdminApiTest, AdminNamesAreChecked) {
  const crypto::PublicKey key =
      crypto::PublicKey::Of(crypto::testing::GenerateKeyOrDie());
  for (const std::string& bad : std::vector<std::string>{
           "", "Alice", "al_ice", "al.ice", std::string(33, 'a'), "a/b"}) {
    EXPECT_THAT(c_.ca->IssueAdminIdentity(bad, key, absl::Hours(1)),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("is not a valid admin name")))
        << bad;
  }
  EXPECT_OK(
      c_.ca->IssueAdminIdentity(std::string(32, 'a'), key, absl::Hours(1)));
  EXPECT_OK(c_.ca->IssueAdminIdentity("ops-2", key, absl::Hours(1)));
  EXPECT_THAT(c_.ca->IssueAdminIdentity("alice", key, absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not positive")));
}

TEST_F(AdminApiTest, CertificateWithTwoUrisIsNotAnAdminIdentity) {
  const crypto::testing::TestCa other = crypto::testing::TestCa::Create("O");
  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  ASSERT_OK_AND_ASSIGN(
      crypto::Certificate cert,
      crypto::IssueCertificate(
          {.common_name = "alice",
           .uris = {"spiffe://certfleet/admin/alice", "spiffe://other/x"},
           .not_before = absl::Now() - absl::Hours(1),
           .not_after = absl::Now() + absl::Hours(1)},
          crypto::PublicKey::Of(key), other.intermediate(),
          other.intermediate_key()));
  EXPECT_THAT(identity::InternalCa::AdminNameFromCertificate(cert),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("one is allowed")));
}

}  // namespace
}  // namespace certfleet::adminapi::testing
