#include "tests/adminapi/admin_fixture.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "common/crypto/public_key.h"
#include "tests/crypto/test_certs.h"

namespace certfleet::adminapi::testing {
namespace {

template <typename T>
T OrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    ADD_FAILURE() << what << ": " << v.status();
    abort();
  }
  return *std::move(v);
}

}  // namespace

config::CertificateConfig ApiCertificate() {
  config::CertificateConfig c;
  c.name = "api";
  c.names = {"api.example.test"};
  c.issuer = "test";
  return c;
}

AdminApiTest::AdminApiTest()
    : clock_(absl::Now()),
      c_(clock_, {delivery::testing::WebCertificate(), ApiCertificate()}),
      staleness_(absl::Hours(1), clock_.Now()) {
  backend_ = std::make_unique<AdminBackend>(
      c_.store, c_.tokens, clock_,
      AdminBackendOptions{
          .certificates = c_.certificates,
          .default_token_ttl = absl::Hours(2),
          .connected_agents = [this] { return c_.hub->ConnectedSince(); },
          .staleness = &staleness_,
          .agent_changed =
              [this](const std::string& id) {
                c_.hub->AgentChanged(id);
                c_.hub->Flush();
              }});
  server_ = OrDie(AdminServer::Start(
                      {.listen = "127.0.0.1:0", .server_names = {"127.0.0.1"}},
                      *c_.ca, *backend_),
                  "AdminServer::Start");
}

AdminApiTest::~AdminApiTest() { server_.reset(); }

std::string AdminApiTest::Address() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

ctl::AdminIdentity AdminApiTest::AdminIdentityFor(const std::string& name) {
  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  return {
      .key_pem = OrDie(key.ToPem(), "key PEM"),
      .cert_pem = OrDie(c_.ca->IssueAdminIdentity(
                            name, crypto::PublicKey::Of(key), absl::Hours(1)),
                        "IssueAdminIdentity"),
      .ca_pem = c_.ca->ca_pem()};
}

ctl::AdminIdentity AdminApiTest::AgentIdentityFor(const std::string& agent_id) {
  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  const std::string csr = OrDie(crypto::BuildCsrDer(key, {"agent"}), "CSR");
  return {.key_pem = OrDie(key.ToPem(), "key PEM"),
          .cert_pem = OrDie(c_.ca->SignAgentCsr(csr, agent_id, absl::Hours(1)),
                            "SignAgentCsr"),
          .ca_pem = c_.ca->ca_pem()};
}

std::string AdminApiTest::IdentityFile(const ctl::AdminIdentity& identity) {
  return absl::StrCat(identity.key_pem, identity.cert_pem, identity.ca_pem);
}

std::unique_ptr<ctl::AdminClient> AdminApiTest::ClientFor(
    const ctl::AdminIdentity& identity) {
  return ctl::AdminClient::Connect(Address(), identity, absl::Seconds(20));
}

std::unique_ptr<v1::AdminService::Stub> AdminApiTest::RawStub(
    const std::string& key_pem, const std::string& cert_pem) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = c_.ca->ca_pem();
  ssl.pem_private_key = key_pem;
  ssl.pem_cert_chain = cert_pem;
  return v1::AdminService::NewStub(
      grpc::CreateChannel(Address(), grpc::SslCredentials(ssl)));
}

void AdminApiTest::StoreFleet() {
  const absl::Time now = clock_.Now();
  c_.AddVersion("web", "1a01", now - absl::Hours(48));
  const delivery::testing::StoredVersion v2 = c_.AddVersion("web", "1a02", now);
  ASSERT_TRUE(
      c_.store.MarkVersionRevoked("web", 1, now - absl::Hours(1), "superseded")
          .ok());
  ASSERT_TRUE(c_.store
                  .PutCertificateState({.name = "api",
                                        .next_attempt_at = now + absl::Hours(1),
                                        .consecutive_failures = 3,
                                        .last_error = "rateLimited: slow down",
                                        .updated_at = now})
                  .ok());
  ASSERT_TRUE(c_.store
                  .PutCertificateState({.name = "web",
                                        .renew_at = now + absl::Hours(24 * 20),
                                        .updated_at = now})
                  .ok());
  c_.PutAgent("agt-000000000001", {{"role", "web"}});
  ASSERT_TRUE(c_.store
                  .PutTargetState({.agent_id = "agt-000000000001",
                                   .target = "www",
                                   .certificate = "web",
                                   .desired_version_id = v2.version_id,
                                   .installed_version_id = v2.version_id,
                                   .serial = v2.serial,
                                   .not_after = v2.not_after,
                                   .healthy = true,
                                   .detail = "200 OK",
                                   .updated_at = now})
                  .ok());
  ASSERT_TRUE(
      c_.store
          .PutDesiredVersion("agt-000000000001", "www", "web", v2.version_id)
          .ok());
}

}  // namespace certfleet::adminapi::testing
