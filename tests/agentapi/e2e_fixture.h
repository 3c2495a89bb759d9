// The fixture of the end-to-end agent channel tests: the coordinator's side
// (CoordinatorParts + an in-process AgentServer on 127.0.0.1) and a real
// agent (Enroll, IdentityStore, TargetManager over a temporary directory,
// AgentSession) whose reload command and health checks are fakes, so an
// install needs no web server. Hand-made clients for what the real agent
// never sends are in raw_client.h.
//
//   TEST_F(AgentApiE2eTest, X) {
//     c_.AddVersion("web", "1a01", absl::Now());
//     ASSERT_OK(EnrollAgent({{"role", "web"}}).status());
//     StartAgent();
//     ASSERT_OK(WaitFor("web/1 installed", [&] {
//       return WwwState() && WwwState()->installed_version_id == "web/1";
//     }));
//   }
#ifndef CERTFLEET_TESTS_AGENTAPI_E2E_FIXTURE_H_
#define CERTFLEET_TESTS_AGENTAPI_E2E_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/client/identity.h"
#include "agent/client/session.h"
#include "agent/config/agent_config.h"
#include "agent/install/target_manager.h"
#include "certfleet/v1/agent.grpc.pb.h"
#include "common/clock.h"
#include "common/context.h"
#include "common/filesystem.h"
#include "coordinator/agentapi/agent_server.h"
#include "gtest/gtest.h"
#include "tests/agent/agent_fakes.h"
#include "tests/agentapi/raw_client.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agentapi::testing {

// Connections and refused identity certificates the agent's session
// reports.
class RecordingSessionObserver : public agent::SessionObserver {
 public:
  void OnConnected(const std::string& coordinator) override;
  void OnDisconnected(const std::string& coordinator,
                      const std::string& why) override;
  void OnIdentityRefused(const std::string& coordinator,
                         const std::string& reason) override;
  int connects() const;
  // The coordinator of each stream that was welcomed, in order.
  std::vector<std::string> connected_to() const;
  // Why each stream (or attempt) ended, in order.
  std::vector<std::string> disconnects() const;
  // The reason of each refused IdentityCertificate, in order.
  std::vector<std::string> identity_refusals() const;

 private:
  mutable absl::Mutex mu_;
  int connects_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> connected_to_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> disconnects_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> identity_refusals_ ABSL_GUARDED_BY(mu_);
};

class AgentApiE2eTest : public ::testing::Test {
 protected:
  AgentApiE2eTest();
  ~AgentApiE2eTest() override;
  void SetUp() override { StartServer(); }

  // Starts the AgentServer on 127.0.0.1:`port` (0 = any) with
  // server_limits_; aborts the test on failure.
  void StartServer(int port = 0);
  // Shuts it down, cancelling open streams at once.
  void StopServer();
  std::string Address() const;

  // Creates a token granting `labels`, enrolls with the real client
  // (claiming the same labels) and stores the identity for the session.
  absl::StatusOr<agent::Identity> EnrollAgent(
      const std::map<std::string, std::string>& labels);
  // The real Enroll with `token` (hostname web-1, claiming `labels`).
  absl::StatusOr<agent::Identity> EnrollWith(
      const std::string& token,
      const std::map<std::string, std::string>& labels);
  // The TargetManager and the AgentSession (Run on its own thread).
  void StartAgent();
  void StopAgent();

  // The coordinator's record of target www of the enrolled agent.
  std::optional<store::TargetStateRecord> WwwState();
  // Waits until the coordinator records www as serving `version_id` with
  // `serial`, healthy.
  absl::Status WaitInstalled(const std::string& version_id,
                             const std::string& serial);
  // The serial behind www/cert.pem when www/key.pem matches it ("" when
  // unreadable, "mismatch" when the key belongs to another certificate).
  std::string ServedSerial() const;
  // Every path under the target directory → file content or link target.
  std::map<std::string, std::string> Snapshot() const;

  // Coordinator side. Its clock starts at the real time (TLS peers check
  // certificates against the real clock) and moves only when a test says.
  ::certfleet::testing::FakeClock clock_;
  delivery::testing::CoordinatorParts c_;
  // The listener's limits (a test lowers one, then calls StartServer again).
  delivery::AgentLimits server_limits_;
  std::unique_ptr<AgentServer> server_;
  int port_ = 0;

  // Agent side.
  ::certfleet::testing::TempDir tmp_{"agentapi"};
  LocalFilesystem fs_;
  agent::AgentConfig config_;
  agent::testing::FakeProcessRunner runner_;
  agent::testing::FakeHealthChecker checker_;
  // The install pipeline's clock: grace and health retries pass at once.
  ::certfleet::testing::FakeClock install_clock_;
  SystemClock session_clock_;
  agent::IdentityStore identities_;
  std::string agent_id_;
  // What the session dials (StartAgent); empty: the server, directly.
  std::vector<std::string> coordinators_;
  RecordingSessionObserver session_observer_;
  std::unique_ptr<agent::TargetManager> targets_;
  std::unique_ptr<agent::AgentSession> session_;
  std::shared_ptr<Cancellation> cancel_;
  std::thread session_thread_;
};

}  // namespace certfleet::agentapi::testing

#endif  // CERTFLEET_TESTS_AGENTAPI_E2E_FIXTURE_H_
