// A stand-in for the coordinator's agent service, for tests that drive a
// real certfleet-agent process and must see exactly what it sends: the
// same mutual TLS as the real one (certificates from a real InternalCa over
// an in-memory store), one AgentService.Connect stream at a time, every
// AgentMessage recorded, and bundles sent only when the test says so. It
// follows none of the hub's rules on purpose: what is checked is the
// agent's side (its delivery results and inventories), not the hub's.
//
//   ASSERT_OK_AND_ASSIGN(auto coordinator, FakeCoordinator::Start());
//   ASSERT_OK(IdentityStore(dir, fs).Save(*coordinator->NewIdentity("agt-1")));
//   ... start certfleet-agent with coordinators: [coordinator->address()]
//   ASSERT_OK(coordinator->SendBundle(bundle, absl::Seconds(20)));
//   ASSERT_OK_AND_ASSIGN(v1::DeliveryResult r,
//                        coordinator->WaitForResult("www", absl::Seconds(20)));
#ifndef CERTFLEET_TESTS_AGENT_ATTACK_FAKE_COORDINATOR_H_
#define CERTFLEET_TESTS_AGENT_ATTACK_FAKE_COORDINATOR_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/client/identity.h"
#include "certfleet/v1/agent.grpc.pb.h"
#include "common/clock.h"
#include "common/crypto/kek.h"
#include "coordinator/identity/internal_ca.h"
#include "coordinator/store/memory_store.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace certfleet::agent_attack {

class FakeCoordinator {
 public:
  // Listens on 127.0.0.1 (a port the kernel picks).
  static absl::StatusOr<std::unique_ptr<FakeCoordinator>> Start();
  // Cancels the open stream and stops the server.
  ~FakeCoordinator();

  std::string address() const;
  // The internal CA (the agent's coordinator_ca).
  const std::string& ca_pem() const { return ca_->ca_pem(); }

  // A fresh agent identity for `agent_id`, signed by the internal CA.
  absl::StatusOr<agent::Identity> NewIdentity(const std::string& agent_id);

  // Sends `bundle` on the open stream, waiting up to `timeout` for an agent
  // to connect.
  absl::Status SendBundle(const v1::DesiredBundle& bundle,
                          absl::Duration timeout);

  // Every message received so far, in order (across streams).
  std::vector<v1::AgentMessage> Received() const;
  // The first received message (oldest first) that satisfies `match`,
  // waiting up to `timeout` for one; kDeadlineExceeded otherwise, listing
  // what was received.
  absl::StatusOr<v1::AgentMessage> WaitForMessage(
      const std::function<bool(const v1::AgentMessage&)>& match,
      absl::Duration timeout) const;
  // The delivery result for `target` (and `version_id`, unless "").
  absl::StatusOr<v1::DeliveryResult> WaitForResult(
      const std::string& target, const std::string& version_id,
      absl::Duration timeout) const;
  // The newest inventory received, waiting for one first.
  absl::StatusOr<v1::Inventory> LatestInventory(absl::Duration timeout) const;

 private:
  class Service;
  FakeCoordinator();

  SystemClock clock_;
  store::InMemoryStore store_;
  const crypto::Kek kek_;
  std::unique_ptr<identity::InternalCa> ca_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace certfleet::agent_attack

#endif  // CERTFLEET_TESTS_AGENT_ATTACK_FAKE_COORDINATOR_H_
