// A fleet for rollout integration tests, as real as one machine allows:
//
// - the coordinator's agent side in this process, wired as
//   coordinator/app wires it (SQLite store and KEK on disk, internal CA,
//   enrollment, AgentHub, RolloutRunner, AgentServer on loopback), on a
//   ShiftedClock so a test can jump to a maintenance window; it can be
//   stopped and started again over the same files and port (a restart);
// - 12 certfleet-agent processes, enrolled with bootstrap tokens, labelled
//   role=web and pool=p0|p1|p2 (4 per pool), each with one target "www";
// - 6 nginx instances, 2 per pool, each serving the files of one agent's
//   target (that agent reloads it and health-checks the served serial over
//   TLS); the other agents reload /bin/true.
//
// Every agent's reload command goes through a script that logs when it
// began and ended (and holds the reload open for 300 ms, so that hosts
// changed at the same time are seen overlapping): the tests check the
// rollout's limits from these observed reload times, not from what the
// coordinator believes.
//
// The agent actions and `rollout skip` go through the admin API as
// certfleetctl calls it (AdminClient over mTLS, as admin "alice", to an
// AdminServer and AdminBackend wired as the coordinator wires them: the hub
// told of changed agents, the runner's Skip, staleness judged after
// LabOptions::stale_after; every call audited); agents can be stopped for
// good and started again.
//
// The certificate "web" (www.example.test, target "www") has version 1
// delivered to everyone before Start returns (a first version goes to the
// whole fleet at once); tests then Publish version 2 and watch it roll out.
//
//   ASSERT_OK_AND_ASSIGN(auto lab, RolloutLab::Start(policy));
//   ASSERT_OK_AND_ASSIGN(LabVersion v2, lab->Publish());
//   ASSERT_OK(lab->WaitForPhase("complete", absl::Seconds(60)));
//   ASSERT_OK(lab->WaitAllServe(v2.serial, absl::Seconds(10)));
#ifndef CERTFLEET_TESTS_FLEET_ROLLOUT_ROLLOUT_LAB_H_
#define CERTFLEET_TESTS_FLEET_ROLLOUT_ROLLOUT_LAB_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/kek.h"
#include "coordinator/adminapi/admin_backend.h"
#include "coordinator/adminapi/admin_server.h"
#include "coordinator/agentapi/agent_server.h"
#include "coordinator/config/config.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/identity/enrollment.h"
#include "coordinator/identity/internal_ca.h"
#include "coordinator/identity/tokens.h"
#include "coordinator/rollout/rollout_state.h"
#include "coordinator/rollout/runner/rollout_runner.h"
#include "coordinator/store/sqlite_store.h"
#include "ctl/admin_client.h"
#include "tests/fleet_rollout/reload_log.h"
#include "tests/harness/nginx_server.h"
#include "tests/harness/server_process.h"
#include "tests/testing/shifted_clock.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::fleet_rollout {

inline constexpr char kCertificate[] = "web";
inline constexpr char kServerName[] = "www.example.test";

// A version stored by Publish.
struct LabVersion {
  int64_t version = 0;
  std::string version_id;  // "web/<n>"
  std::string serial;      // lower-case hex
};

// One agent process of the lab.
struct LabAgent {
  int slot = 0;
  std::string pool;      // "p0", "p1", "p2"
  std::string agent_id;  // from its identity
  std::string dir;       // config, identity, log, target directory
  std::string target_dir;
  std::unique_ptr<harness::NginxServer> nginx;  // null: reloads /bin/true
  std::unique_ptr<harness::ServerProcess> process;
};

struct LabOptions {
  // agents.stale_after of the runner and the admin API.
  absl::Duration stale_after = absl::InfiniteDuration();
};

class RolloutLab {
 public:
  static constexpr int kAgents = 12;
  static constexpr int kPools = 3;
  static constexpr int kNginxPerPool = 2;

  // The whole lab with `policy` for "web", version 1 served everywhere.
  // Errors name the part that failed, with its log.
  static absl::StatusOr<std::unique_ptr<RolloutLab>> Start(
      rollout::RolloutPolicy policy, LabOptions options = {});
  // Agents, nginx, then the coordinator; the directory goes too unless a
  // test failed (it is kept and named on stderr for the post-mortem).
  ~RolloutLab();

  // --- The coordinator ---
  // Opens the store and starts hub, runner (Resume, then its thread) and
  // server, on the port of the first start.
  absl::Status StartCoordinator();
  // Stops the server (streams cancelled), the runner and the hub, and
  // closes the store, as a coordinator going down does.
  void StopCoordinator();
  // Stores the next version of "web" (a fresh key; valid from an hour ago
  // for `lifetime` by the lab's clock) and hands it to the runner, as the
  // issuance observer does.
  absl::StatusOr<LabVersion> Publish(absl::Duration lifetime = absl::Hours(24 *
                                                                           30));
  rollout::RolloutRunner& runner() { return *runner_; }
  delivery::AgentHub& hub() { return *hub_; }
  // The admin API, as admin "alice" calls it with certfleetctl.
  ctl::AdminClient& admin() { return *admin_client_; }
  identity::BootstrapTokens& tokens() { return *tokens_; }
  store::Store& store() { return *store_; }
  testing::ShiftedClock& clock() { return clock_; }
  // The newest rollout of "web" and its parsed state.
  absl::StatusOr<store::RolloutRecord> LatestRollout();
  absl::StatusOr<rollout::RolloutState> LatestState();
  // Waits until the newest rollout is in `phase` (PhaseName); the error
  // names the phase it was in, with its state JSON.
  absl::Status WaitForPhase(const std::string& phase, absl::Duration timeout);
  // Waits until `condition` holds on the newest rollout's state.
  absl::Status WaitForState(
      const std::function<bool(const rollout::RolloutState&)>& condition,
      const std::string& what, absl::Duration timeout);

  // --- The fleet ---
  const std::vector<LabAgent>& agents() const { return agents_; }
  // The slot of the host the first wave takes (the canary): the lowest
  // agent id of pool p0, which always has an nginx.
  int CanarySlot() const;
  // The slot whose agent id is `agent_id`; -1 when none.
  int SlotOf(const std::string& agent_id) const;
  // What agent `slot` serves: its nginx's certificate over TLS, or (no
  // nginx) the serial of the files in its target directory, the key
  // checked against it.
  absl::StatusOr<std::string> Served(int slot) const;
  // Waits until every agent serves `serial`; the error lists who serves
  // what.
  absl::Status WaitAllServe(const std::string& serial,
                            absl::Duration timeout) const;
  // The reload commands the agents ran, in order of beginning.
  std::vector<ReloadSpan> Reloads() const;
  // The target's `current` link of agent `slot` (what it has installed).
  std::string CurrentLink(int slot) const;
  // Last lines of every agent's log, for failure messages.
  std::string AgentLogs() const;
  // `s`, with every agent's log appended when it is an error.
  absl::Status WithAgentLogs(absl::Status s) const;
  // The whole log of agent `slot`.
  std::string AgentLog(int slot) const;
  // Stops agent `slot`'s process (SIGTERM, as a host shutting down), and
  // starts it again with the same configuration and identity.
  void StopAgent(int slot);
  absl::Status StartAgent(int slot);
  // Waits until agent `slot` serves `serial`.
  absl::Status WaitServes(int slot, const std::string& serial,
                          absl::Duration timeout) const;

 private:
  RolloutLab(rollout::RolloutPolicy policy, LabOptions options);
  absl::Status EnrollAgents();
  absl::Status WriteAgentConfig(LabAgent& agent) const;
  absl::Status StartFleet();
  absl::Status WaitForFirstVersion();

  testing::TempDir tmp_{"fleet-rollout"};
  testing::ShiftedClock clock_;
  const LabOptions options_;
  const std::vector<config::CertificateConfig> certificates_;
  const delivery::Assignments assignments_;
  int port_ = 0;
  int next_serial_ = 1;

  // The coordinator (StartCoordinator .. StopCoordinator).
  std::optional<crypto::Kek> kek_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<identity::InternalCa> ca_;
  std::unique_ptr<identity::BootstrapTokens> tokens_;
  std::unique_ptr<identity::EnrollmentService> enrollment_;
  std::unique_ptr<delivery::AgentHub> hub_;
  std::unique_ptr<delivery::Staleness> staleness_;
  std::unique_ptr<rollout::RolloutRunner> runner_;
  std::unique_ptr<adminapi::AdminBackend> admin_;
  std::unique_ptr<adminapi::AdminServer> admin_server_;
  std::unique_ptr<ctl::AdminClient> admin_client_;
  std::unique_ptr<agentapi::AgentServer> server_;

  std::vector<LabAgent> agents_;
};

}  // namespace certfleet::fleet_rollout

#endif  // CERTFLEET_TESTS_FLEET_ROLLOUT_ROLLOUT_LAB_H_
