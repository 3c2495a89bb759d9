#include "bench/reconnect_lab.h"

#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/fleet_coordinator.h"
#include "bench/sim_agents.h"
#include "bench/sqlite_query.h"
#include "common/status_macros.h"
#include "tests/harness/free_port.h"
#include "tests/harness/harness_files.h"

namespace certfleet::bench {
absl::StatusOr<std::unique_ptr<ReconnectLab>> ReconnectLab::Start(
    ReconnectLabOptions options) {
  ASSIGN_OR_RETURN(std::string dir, harness::MakeHarnessTempDir("reconnect"));
  std::unique_ptr<ReconnectLab> lab(new ReconnectLab(std::move(options), dir));
  absl::Status s = lab->Prepare();
  if (s.ok()) s = lab->WriteConfig();
  if (s.ok()) s = lab->StartCoordinator();
  if (!s.ok()) {
    lab->keep_dir_ = true;  // for the logs the message points at
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), " (files in ", dir, ")"));
  }
  return lab;
}

ReconnectLab::~ReconnectLab() {
  loadgen_.Stop();
  coordinator_.reset();  // SIGTERM, SIGKILL after 3 s
  if (!keep_dir_) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

absl::Status ReconnectLab::Prepare() {
  // The store the coordinator will open: agents enrolled as the Enroll RPC
  // would (tokens, CSRs, the internal CA signing), without 10,000 RPCs.
  ASSIGN_OR_RETURN(std::unique_ptr<FleetCoordinator> fleet,
                   FleetCoordinator::Start(dir_));
  std::vector<SimIdentity> identities;
  identities.reserve(options_.agents);
  const absl::Time start = absl::Now();
  for (int i = 0; i < options_.agents; ++i) {
    ASSIGN_OR_RETURN(FleetCoordinator::Identity id,
                     fleet->EnrollDirect(absl::StrCat("sim-", i)));
    identities.push_back({std::move(id.key_pem), std::move(id.cert_pem)});
    if ((i + 1) % 2000 == 0) {
      printf("  enrolled %d agents in %.1f s\n", i + 1,
             absl::ToDoubleSeconds(absl::Now() - start));
      fflush(stdout);
    }
  }
  // Version 1, which the agents install when they first connect: after a
  // restart they report it, and nothing is sent (a restart's steady state).
  RETURN_IF_ERROR(fleet->PublishVersion().status());
  RETURN_IF_ERROR(
      harness::WriteFileAtomically(dir_ + "/ca.pem", fleet->ca_pem(), 0644));
  RETURN_IF_ERROR(harness::WriteFileAtomically(
      dir_ + "/identities.pem", FormatIdentities(identities), 0600));
  return absl::OkStatus();  // `fleet` closes the store
}

absl::Status ReconnectLab::WriteConfig() {
  ASSIGN_OR_RETURN(agent_port_, harness::PickFreePort());
  ASSIGN_OR_RETURN(metrics_port_, harness::PickFreePort());
  // An issuer nobody answers: version 1 is valid for 30 days, so nothing
  // is due; the coordinator serves agents only.
  return harness::WriteFileAtomically(
      dir_ + "/coordinator.yaml",
      absl::StrCat(
          "store:\n  type: sqlite\n  path: ", dir_, "/store.db\n",
          "key_encryption_key_file: ", dir_, "/kek\n",
          "internal_ca_file: ", dir_, "/internal-ca.pem\n",
          "agents:\n  listen: 127.0.0.1:", agent_port_,
          "\n  server_names: [127.0.0.1]\n", "metrics:\n  listen: 127.0.0.1:",
          metrics_port_, "\n", "dns:\n  resolvers: [127.0.0.1:9]\n",
          "scheduler:\n  retry_initial: 10m\n",
          "issuers:\n  - name: nowhere\n    directory: "
          "https://127.0.0.1:9/dir\n",
          "dns_providers:\n  - name: lab\n    type: rfc2136\n",
          "    zones: [bench.test]\n    rfc2136:\n      server: "
          "127.0.0.1:9\n",
          "      tsig_key_name: k\n      tsig_secret: c2VjcmV0LXNlY3JldA==\n",
          "certificates:\n  - name: ", kBenchCertificate,
          "\n    names: [www.bench.test]\n    issuer: nowhere\n",
          "    targets:\n      - target: ", kBenchTarget, "\n"),
      0600);
}

absl::Status ReconnectLab::StartCoordinator() {
  ++starts_;
  ASSIGN_OR_RETURN(
      coordinator_,
      harness::ServerProcess::Start(
          {.name = "certfleet-coordinator",
           .argv = {options_.coordinator, "serve", "--config",
                    dir_ + "/coordinator.yaml"},
           .log_path = absl::StrCat(dir_, "/coordinator-", starts_, ".log")}));
  return harness::WaitForTcpPort(agent_port_, absl::Seconds(60),
                                 coordinator_.get());
}

void ReconnectLab::KillCoordinator() {
  if (coordinator_) coordinator_->Kill();
  coordinator_.reset();
}

void ReconnectLab::StopCoordinator() { coordinator_.reset(); }

pid_t ReconnectLab::coordinator_pid() const {
  return coordinator_ ? coordinator_->pid() : 0;
}

absl::Status ReconnectLab::StartAgents() {
  ASSIGN_OR_RETURN(
      loadgen_,
      Loadgen::Start({.loadgen = options_.loadgen,
                      .address = absl::StrCat("127.0.0.1:", agent_port_),
                      .ca_path = dir_ + "/ca.pem",
                      .identities_path = dir_ + "/identities.pem",
                      .max_connecting = options_.max_connecting,
                      .log_path = dir_ + "/loadgen.log"}));
  return absl::OkStatus();
}

absl::StatusOr<LoadgenStatus> ReconnectLab::Status() {
  return loadgen_.Status();
}

absl::StatusOr<int> ReconnectLab::RecordedSince(absl::Time since) {
  // updated_at is Unix nanoseconds (sqlite_statement.cc).
  ASSIGN_OR_RETURN(
      const int64_t count,
      QueryInt(dir_ + "/store.db",
               "SELECT COUNT(*) FROM target_states WHERE target = ?1 AND "
               "updated_at >= ?2",
               [since](sqlite3_stmt* stmt) {
                 sqlite3_bind_text(stmt, 1, kBenchTarget, -1, SQLITE_STATIC);
                 sqlite3_bind_int64(stmt, 2, absl::ToUnixNanos(since));
               }));
  return static_cast<int>(count);
}

}  // namespace certfleet::bench
