// The fixture of the admin API tests: the coordinator's parts
// (tests/delivery/coordinator_parts.h: in-memory store, internal CA,
// tokens, enrollment, hub), an AdminBackend over them (told which agents
// the hub holds a stream of, who is stale, and telling the hub of changed
// agents, as the coordinator does) and an AdminServer
// on 127.0.0.1:0; identities of every kind for clients; a raw stub with
// chosen credentials; and a small fleet of stored data.
//
//   TEST_F(AdminApiTest, X) {
//     auto client = ClientFor(AdminIdentityFor("alice"));
//     ASSERT_OK_AND_ASSIGN(auto status, client->GetStatus());
//   }
#ifndef CERTFLEET_TESTS_ADMINAPI_ADMIN_FIXTURE_H_
#define CERTFLEET_TESTS_ADMINAPI_ADMIN_FIXTURE_H_

#include <memory>
#include <string>

#include "certfleet/v1/admin.grpc.pb.h"
#include "coordinator/adminapi/admin_backend.h"
#include "coordinator/adminapi/admin_server.h"
#include "ctl/admin_client.h"
#include "gtest/gtest.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/testing/fake_clock.h"

namespace certfleet::adminapi::testing {

// Certificate "api" (api.example.test), configured but never issued.
config::CertificateConfig ApiCertificate();

class AdminApiTest : public ::testing::Test {
 protected:
  AdminApiTest();
  ~AdminApiTest() override;

  // "127.0.0.1:<port>" of the admin server.
  std::string Address() const;

  // Key, certificate and CA of an admin identity `name` from the internal
  // CA (what `admin-identity create` writes).
  ctl::AdminIdentity AdminIdentityFor(const std::string& name);
  // An agent identity `agent_id` from the internal CA.
  ctl::AdminIdentity AgentIdentityFor(const std::string& agent_id);
  // The identity file text of `identity` (key, certificate, CA).
  static std::string IdentityFile(const ctl::AdminIdentity& identity);

  std::unique_ptr<ctl::AdminClient> ClientFor(
      const ctl::AdminIdentity& identity);
  // A stub over TLS trusting the internal CA, presenting `key_pem` and
  // `cert_pem` unless they are empty.
  std::unique_ptr<v1::AdminService::Stub> RawStub(const std::string& key_pem,
                                                  const std::string& cert_pem);

  // Stores a fleet: web v1 (revoked) and v2; a failing state for api; agent
  // agt-000000000001 (role=web) with target www installed web/2, healthy.
  void StoreFleet();

  ::certfleet::testing::FakeClock clock_;
  delivery::testing::CoordinatorParts c_;
  // agents.stale_after of an hour, judged from the fixture's start.
  delivery::Staleness staleness_;
  std::unique_ptr<AdminBackend> backend_;
  std::unique_ptr<AdminServer> server_;
};

}  // namespace certfleet::adminapi::testing

#endif  // CERTFLEET_TESTS_ADMINAPI_ADMIN_FIXTURE_H_
