// nginx 1.22 for integration tests: a TLS server on a loopback port serving
// the certificate files an agent manages, in a temporary prefix directory,
// master + 1 worker in the foreground (so `nginx -s reload` works), stopped
// by PID when the object goes away.
//
//   ASSIGN_OR_RETURN(auto nginx,
//                    NginxServer::Start({.cert_path = live + "/fullchain.pem",
//                                        .key_path = live + "/key.pem"}));
//   agent_target.reload_command = nginx->ReloadCommand();
//   ASSIGN_OR_RETURN(ServedCertificate served,
//                    ProbeTls(nginx->address(), nginx->server_name(),
//                             absl::Seconds(2)));
//
// What nginx 1.22.1 (Debian 12) does, measured on this machine:
// - `nginx -s reload` parses the whole configuration before it signals the
//   master, including loading ssl_certificate / ssl_certificate_key. A
//   syntax error, a missing file or a key that does not match the
//   certificate makes it exit 1 with "nginx: [emerg] ..." on stderr, and the
//   master is never signalled. So ReloadCommand() is plain `nginx -s reload`
//   (no `nginx -t` wrapper is needed).
// - Exit 0 only means "SIGHUP sent": the master then re-reads everything
//   itself. If the files changed between the two reads, or the master fails
//   for a reason the signaller does not check (a port it cannot bind), the
//   master logs [emerg] and keeps the old configuration although the
//   command said 0. Reload() below watches the master's log and reports
//   that case too; an agent must health-check the served certificate.
// - Timing: the first handshake with the new certificate comes ≈ 30–90 ms
//   after the command starts, but the master lets the old worker accept
//   for another ≈ 100 ms (it sleeps 100 ms before telling old workers to
//   quit), so for ≈ 60–100 ms new handshakes get either certificate.
//   Reload() returns after that window (≈ 120 ms in all).
// - No handshake fails during reloads; a connection the old worker
//   accepted before the reload still completes its handshake afterwards,
//   with the old certificate.
// - Two reload commands back to back end with the last files served.
#ifndef CERTFLEET_TESTS_HARNESS_NGINX_SERVER_H_
#define CERTFLEET_TESTS_HARNESS_NGINX_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/harness/server_process.h"

namespace certfleet::harness {

struct NginxOptions {
  // PEM files nginx serves (typically stable symlinks an agent manages).
  // Both must exist and match when the server starts.
  std::string cert_path;
  std::string key_path;
  std::string server_name = "www.example.test";
  int port = 0;  // TLS listener; 0: a free port
  // Optional plain-HTTP listener answering /healthz: 0: none, -1: a free
  // port, else that port.
  int http_port = 0;
};

class NginxServer {
 public:
  // Writes the configuration, starts nginx and waits until a TLS handshake
  // succeeds (≈ 10–30 ms). kNotFound when nginx is not installed; other
  // errors carry nginx's log.
  static absl::StatusOr<std::unique_ptr<NginxServer>> Start(
      NginxOptions options);
  // Launches every server first, then waits for each, so the start-ups
  // overlap. On any failure the servers already started are stopped.
  static absl::StatusOr<std::vector<std::unique_ptr<NginxServer>>> StartMany(
      std::vector<NginxOptions> options);
  // Stops nginx (master and workers, by process group) and removes the
  // directory.
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  int port() const { return options_.port; }
  int http_port() const { return options_.http_port; }
  // "127.0.0.1:P" of the TLS listener.
  std::string address() const;
  const std::string& server_name() const { return options_.server_name; }
  // The master's PID (the process this object started).
  pid_t pid() const { return process_->pid(); }
  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  // error.log: the master's and workers' log, start-up messages included.
  const std::string& log_path() const { return log_path_; }
  ServerProcess* process() { return process_.get(); }

  // `nginx -c CONF -p PREFIX -e LOG -s reload`: what an agent runs. Exits
  // non-zero, with the reason on stderr, when the configuration or the
  // certificate files are bad (see the top of this file).
  std::vector<std::string> ReloadCommand() const;

  // Runs ReloadCommand() and waits until the master has started the new
  // worker and the old worker has stopped accepting, so every later
  // handshake gets the new certificate. kFailedPrecondition with nginx's stderr
  // when the command fails, or with the master's [emerg] line when the master
  // rejects what the command accepted; kDeadlineExceeded with the log tail.
  absl::Status Reload(absl::Duration timeout = absl::Seconds(10));

  // `nginx -t` on the current configuration; kFailedPrecondition with its
  // stderr when it fails.
  absl::Status TestConfig() const;

  // Replaces nginx.conf (atomically) with one containing the unknown
  // directive "certfleet_broken_directive", so `nginx -t` and reloads fail
  // until RestoreConfig() writes the working configuration back. The
  // running server keeps serving its current configuration.
  absl::Status BreakConfig();
  absl::Status RestoreConfig();

  // The last `max_bytes` of error.log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  NginxServer() = default;
  // Everything up to spawning the master; WaitUntilServing() finishes.
  static absl::StatusOr<std::unique_ptr<NginxServer>> Launch(
      NginxOptions options);
  absl::Status WaitUntilServing();
  std::string ConfigText(bool broken) const;
  std::vector<std::string> BaseArgv() const;

  NginxOptions options_;
  std::string nginx_;  // absolute path of the binary
  std::string dir_;
  std::string config_path_;
  std::string log_path_;
  std::unique_ptr<ServerProcess> process_;
};

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_NGINX_SERVER_H_
