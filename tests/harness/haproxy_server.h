// HAProxy 2.6 for integration tests: a TLS frontend on a loopback port
// serving one combined PEM file (certificate + chain + key) that an agent
// manages, run master-worker (`haproxy -W -f CONF -p PIDFILE`) in the
// foreground in a temporary directory, stopped by PID when the object goes
// away. /healthz answers 200 "ok"; every other path 404.
//
//   ASSIGN_OR_RETURN(auto haproxy, HaproxyServer::Start(
//       {.combined_pem_path = live + "/combined.pem"}));
//   agent_target.reload_command = haproxy->ReloadCommand();
//
// What HAProxy 2.6.12 (Debian 12) does, measured on this machine:
// - Reload is SIGUSR2 to the master, which re-executes itself (same PID),
//   re-reads the configuration and the crt files, forks a new worker and
//   tells the old one to finish its connections (-sf); the listening
//   sockets are handed over (-x sockpair@), so no connection is refused.
//   ≈ 70–130 ms from the signal to the new certificate being served, and
//   the switch is clean: no handshake gets the old certificate after the
//   first one got the new one. No handshake fails during reloads; a
//   connection accepted before the reload still completes its handshake
//   afterwards, with the old certificate.
// - A signal reports nothing to its sender. With a bad configuration (or a
//   crt whose key does not match) the master logs "[ALERT] ..." and
//   "Loading failure!" on stderr and keeps the old worker serving; on
//   success it logs "Loading success.".
// - After either, the master re-executes itself once more ("wait mode").
//   During both re-executions SIGUSR2 is blocked, then ignored: a SIGUSR2
//   arriving in the ≈ 100 ms of a reload, or in the ≈ 15 ms after
//   "Loading success." (also right after start-up), is silently dropped.
// So a bare `kill -USR2` is not a usable reload command. ReloadCommand()
// runs a small script that checks the configuration (`haproxy -c`, which
// loads the crt files too), waits until the master can take the signal,
// signals it, and waits for the master's verdict: exit 0 only when a new
// worker serves, exit 1 with the reason on stderr otherwise.
#ifndef CERTFLEET_TESTS_HARNESS_HAPROXY_SERVER_H_
#define CERTFLEET_TESTS_HARNESS_HAPROXY_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/harness/server_process.h"

namespace certfleet::harness {

struct HaproxyOptions {
  // Certificate, chain and private key in one PEM file (must exist and
  // match at start).
  std::string combined_pem_path;
  int port = 0;  // 0: a free port
  // Sent as SNI by the readiness probe (HAProxy picks the certificate by
  // the names in it; with one crt file it always serves that one).
  std::string server_name = "www.example.test";
};

class HaproxyServer {
 public:
  // Writes the configuration, starts HAProxy and waits until a TLS
  // handshake succeeds and the master can take a reload (≈ 100 ms). kNotFound
  // when haproxy is not installed; other errors carry HAProxy's log.
  static absl::StatusOr<std::unique_ptr<HaproxyServer>> Start(
      HaproxyOptions options);
  // Stops master and workers (by process group) and removes the directory.
  ~HaproxyServer();
  HaproxyServer(const HaproxyServer&) = delete;
  HaproxyServer& operator=(const HaproxyServer&) = delete;

  int port() const { return options_.port; }
  // "127.0.0.1:P"
  std::string address() const;
  const std::string& server_name() const { return options_.server_name; }
  // The master's PID; it stays the same across reloads.
  pid_t pid() const { return process_->pid(); }
  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  // haproxy.log: the master's and workers' stderr.
  const std::string& log_path() const { return log_path_; }
  ServerProcess* process() { return process_.get(); }

  // {dir()/reload.sh}: what an agent runs (directly, no shell command
  // line). The script (/bin/sh) runs `haproxy -c -f CONF`, waits until the
  // master is idle with SIGUSR2 caught (read from /proc/PID), sends it,
  // waits for "Loading success." / "Loading failure!" in the log and for
  // the master to be ready again. Exits 1 with HAProxy's ALERT lines (or
  // what timed out) on stderr when the reload did not happen.
  std::vector<std::string> ReloadCommand() const;

  // Runs ReloadCommand(). kFailedPrecondition with its stderr when the
  // check fails or the master rejects the new configuration (the old
  // worker keeps serving); returns once the new worker serves and the
  // master can take the next reload.
  absl::Status Reload(absl::Duration timeout = absl::Seconds(30));

  // True when a SIGUSR2 sent now starts a reload: the master idles in wait
  // mode with SIGUSR2 caught, not blocked, not ignored (/proc/PID/status).
  bool ReadyForReload() const;

  // `haproxy -c -f CONF`; kFailedPrecondition with its stderr on failure.
  absl::Status CheckConfig() const;

  // Replaces the configuration (atomically) with one containing the
  // unknown keyword "certfleet_broken_keyword", so checks and reloads fail
  // until RestoreConfig(). The running worker keeps serving.
  absl::Status BreakConfig();
  absl::Status RestoreConfig();

  // The last `max_bytes` of haproxy.log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  HaproxyServer() = default;
  absl::Status WriteReloadScript() const;
  absl::Status WaitUntilReadyForReload(absl::Duration timeout) const;
  std::string ConfigText(bool broken) const;
  std::vector<std::string> CheckArgv() const;

  HaproxyOptions options_;
  std::string haproxy_;  // absolute path of the binary
  std::string dir_;
  std::string config_path_;
  std::string log_path_;
  std::string reload_script_path_;
  std::unique_ptr<ServerProcess> process_;
};

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_HAPROXY_SERVER_H_
