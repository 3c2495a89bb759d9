// The fixture of the rollout admin tests: the 12-agent fleet of
// fleet_fixture.h, an AdminBackend wired to its RolloutRunner as the
// coordinator wires it (Act, Rollback, Skip), the real AdminServer (mTLS,
// audit) and certfleetctl, as ctl::AdminClient and as the binary.
//
//   TEST_F(RolloutAdminTest, X) {
//     StartRollout();
//     ASSERT_OK(client_->PauseRollout("web").status());
//   }
#ifndef CERTFLEET_TESTS_ROLLOUT_RUNNER_ROLLOUT_ADMIN_FIXTURE_H_
#define CERTFLEET_TESTS_ROLLOUT_RUNNER_ROLLOUT_ADMIN_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "common/crypto/public_key.h"
#include "common/process_runner.h"
#include "coordinator/adminapi/admin_backend.h"
#include "coordinator/adminapi/admin_server.h"
#include "coordinator/identity/internal_ca.h"
#include "coordinator/store/memory_store.h"
#include "ctl/admin_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/rollout/runner/fleet_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::rollout::testing {

class RolloutAdminTest : public ::testing::Test {
 protected:
  RolloutAdminTest() {
    absl::StatusOr<std::unique_ptr<identity::InternalCa>> ca =
        identity::InternalCa::LoadOrCreate(ca_store_, f_.parts.kek,
                                           real_clock_);
    if (!ca.ok()) abort();
    admin_ca_ = *std::move(ca);
    RolloutRunner* runner = f_.runner.get();
    backend_ = std::make_unique<adminapi::AdminBackend>(
        f_.parts.store, f_.parts.tokens, f_.clock,
        adminapi::AdminBackendOptions{
            .certificates = f_.parts.certificates,
            .rollout_command =
                [runner](adminapi::RolloutCommand command,
                         const std::string& certificate,
                         const std::string& actor) {
                  const OperatorAction action =
                      command == adminapi::RolloutCommand::kPause
                          ? OperatorAction::kPause
                      : command == adminapi::RolloutCommand::kResume
                          ? OperatorAction::kResume
                          : OperatorAction::kAbort;
                  return runner->Act(certificate, action, actor);
                },
            .rollback =
                [runner](const std::string& certificate, int64_t to_version,
                         bool expedite, const std::string& actor) {
                  return runner->Rollback(certificate, to_version, expedite,
                                          actor);
                },
            .skip_host =
                [runner](const std::string& certificate,
                         const std::string& agent_id,
                         const std::string& actor) {
                  return runner->Skip(certificate, agent_id, actor);
                }});
    absl::StatusOr<std::unique_ptr<adminapi::AdminServer>> server =
        adminapi::AdminServer::Start(
            {.listen = "127.0.0.1:0", .server_names = {"127.0.0.1"}},
            *admin_ca_, *backend_);
    if (!server.ok()) abort();
    server_ = *std::move(server);
    alice_ = IdentityFor("alice", /*agent=*/false);
    client_ = ctl::AdminClient::Connect(Address(), alice_, absl::Seconds(20));
  }
  ~RolloutAdminTest() override { server_.reset(); }

  std::string Address() const {
    return absl::StrCat("127.0.0.1:", server_->port());
  }
  // An admin identity `name`, or an agent identity with that id.
  ctl::AdminIdentity IdentityFor(const std::string& name, bool agent) {
    const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
    absl::StatusOr<std::string> cert =
        agent ? admin_ca_->SignAgentCsr(*crypto::BuildCsrDer(key, {"agent"}),
                                        name, absl::Hours(1))
              : admin_ca_->IssueAdminIdentity(name, crypto::PublicKey::Of(key),
                                              absl::Hours(1));
    EXPECT_OK(cert);
    return {.key_pem = *key.ToPem(),
            .cert_pem = cert.ok() ? *cert : "",
            .ca_pem = admin_ca_->ca_pem()};
  }

  // web/1 everywhere, then web/2 rolling out: its canary got the bundle.
  int StartRollout() {
    f_.AddVersion();
    EXPECT_OK(f_.runner->OnVersionStored("web", 1));
    f_.parts.hub->Flush();
    f_.AckAll("web/1");
    f_.AddVersion();
    EXPECT_OK(f_.runner->OnVersionStored("web", 2));
    f_.parts.hub->Flush();
    const std::vector<int> canary = f_.Received("web/2");
    EXPECT_THAT(canary, ::testing::SizeIs(1));
    return canary.empty() ? -1 : canary[0];
  }

  // StartRollout, then every wave through to complete: web/2 everywhere.
  void CompleteRollout() {
    const int canary = StartRollout();
    ASSERT_GE(canary, 0);
    CompleteFrom(canary);
  }

  // From the canary's delivery (StartRollout) to complete.
  void CompleteFrom(int canary) {
    f_.Ack(canary);
    f_.Step();
    f_.clock.Advance(absl::Minutes(5));
    f_.Step();
    f_.AckAll("web/2");
    f_.Step();
    f_.clock.Advance(absl::Minutes(5));
    f_.Step();
    f_.AckAll("web/2");
    f_.Step();
    ASSERT_OK_AND_ASSIGN(std::vector<store::RolloutRecord> latest,
                         f_.parts.store.ListRollouts({.limit = 1}));
    ASSERT_THAT(latest, ::testing::SizeIs(1));
    ASSERT_EQ(latest[0].phase, "complete");
  }

  // The audit records written by admin identities, oldest first.
  std::vector<store::AuditRecord> AdminAudit() {
    absl::StatusOr<std::vector<store::AuditRecord>> all =
        f_.parts.store.ListAudit({});
    EXPECT_OK(all);
    std::vector<store::AuditRecord> out;
    if (!all.ok()) return out;
    for (auto it = all->rbegin(); it != all->rend(); ++it) {
      if (it->actor == "admin:alice") out.push_back(*it);
    }
    return out;
  }

  // certfleetctl `args` as alice.
  ProcessResult Ctl(std::vector<std::string> args) {
    const std::string identity = dir_.File("alice.pem");
    ::certfleet::testing::WriteFileOrDie(
        identity, absl::StrCat(alice_.key_pem, alice_.cert_pem, alice_.ca_pem));
    args.insert(args.begin(), CERTFLEETCTL_BINARY);
    SubprocessRunner runner;
    absl::StatusOr<ProcessResult> r =
        runner.Run({.argv = args,
                    .env = {{"CERTFLEET_COORDINATOR", Address()},
                            {"CERTFLEET_IDENTITY", identity}},
                    .timeout = absl::Seconds(60)},
                   Context::Background());
    EXPECT_OK(r);
    return r.ok() ? *r : ProcessResult{};
  }

  RolloutFleet f_;
  // TLS checks certificates against the real time, far from the fleet's
  // fake clock: the admin listener and its identities come from a CA of
  // their own, on the system clock.
  SystemClock real_clock_;
  store::InMemoryStore ca_store_;
  std::unique_ptr<identity::InternalCa> admin_ca_;
  std::unique_ptr<adminapi::AdminBackend> backend_;
  std::unique_ptr<adminapi::AdminServer> server_;
  ctl::AdminIdentity alice_;
  std::unique_ptr<ctl::AdminClient> client_;
  ::certfleet::testing::TempDir dir_{"rollout-admin"};
};

}  // namespace certfleet::rollout::testing

#endif  // CERTFLEET_TESTS_ROLLOUT_RUNNER_ROLLOUT_ADMIN_FIXTURE_H_
