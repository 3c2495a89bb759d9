// A real etcd cluster for integration tests: N members (3 by default) on
// free loopback ports, each in the foreground with its data directory in one
// temporary directory, stopped by PID when the object goes away. Members can
// be killed, stopped and restarted (same data directory, same ports) to test
// fail-over.
//
// Start-up measured on this machine (2 shared cores, etcd 3.4.23), 3
// members until every member's /health is true: bimodal, ≈ 0.25–0.45 s or
// ≈ 2.3–2.4 s (12 starts: 7 slow, 5 fast; median ≈ 2.3 s). The slow case is
// etcd's own bootstrap: a new member asks each peer for the cluster with a 1 s
// timeout, and a peer whose port is bound but not yet served makes it wait. A
// restarted member (data directory present) is healthy in ≈ 0.2–0.7 s.
//
//   ASSIGN_OR_RETURN(auto cluster, EtcdCluster::Start({.members = 3}));
//   client_options.endpoints = cluster->endpoints();  // "127.0.0.1:P", ...
//   cluster->Kill(0);
//   RETURN_IF_ERROR(cluster->Restart(0));
#ifndef CERTFLEET_TESTS_HARNESS_ETCD_SERVER_H_
#define CERTFLEET_TESTS_HARNESS_ETCD_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/harness/server_process.h"

namespace certfleet::harness {

struct EtcdClusterOptions {
  int members = 3;
  // Raft timing (etcd's defaults). Shorter fails over faster but risks
  // spurious elections when the machine is loaded.
  int heartbeat_ms = 100;
  int election_timeout_ms = 1000;
  // Client URLs over TLS with client-certificate authentication; ca_path()
  // and client_cert_path()/client_key_path() are what a client needs. Peers
  // still talk plain HTTP on loopback.
  bool tls = false;
  absl::Duration start_timeout = absl::Seconds(30);
  // More flags for every member, e.g. {"--max-request-bytes", "8388608"}.
  std::vector<std::string> extra_flags;
};

class EtcdCluster {
 public:
  // Starts every member and waits until each reports healthy (GET /health
  // on its client port says true, which needs an elected leader).
  // kNotFound when etcd is not installed; other errors carry the logs.
  // A member that lost its port to another process between PickFreePort()
  // and its bind (tests run in parallel) is retried with fresh ports.
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(
      EtcdClusterOptions options = {});
  // Stops every member by PID and removes the directory.
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:P" of each member's client port, member 0 first.
  std::vector<std::string> endpoints() const;
  std::string endpoint(int member) const;
  const std::string& dir() const { return dir_; }
  // How long Start() took until the cluster was healthy.
  absl::Duration startup_time() const { return startup_time_; }

  // TLS files (options.tls): the CA of the members' certificates, and a
  // client certificate they accept.
  std::string ca_path() const { return dir_ + "/ca.pem"; }
  std::string client_cert_path() const { return dir_ + "/client.pem"; }
  std::string client_key_path() const { return dir_ + "/client-key.pem"; }

  // SIGKILL: the member dies at once, as in a crash.
  void Kill(int member);
  // SIGTERM, then waits for it to exit.
  void Stop(int member);
  bool Running(int member);
  // Stops the member if it runs, starts it again on its data directory and
  // ports, and waits until it is healthy.
  absl::Status Restart(int member, absl::Duration timeout = absl::Seconds(20));
  // Polls the member's /health until true.
  absl::Status WaitHealthy(int member, absl::Duration timeout);
  std::string LogTail(int member, size_t max_bytes = 3000) const;

  // Runs etcdctl (v3 API) against the members that are running, with the
  // TLS flags when needed; returns its stdout. E.g. {"compact", "42"}.
  absl::StatusOr<std::string> Etcdctl(const std::vector<std::string>& args);
  // The index of the member that is raft leader, as the running members
  // report it (etcdctl endpoint status); kUnavailable while there is none.
  absl::StatusOr<int> LeaderIndex();

 private:
  struct Member {
    std::string name;  // "m0"
    int client_port = 0;
    int peer_port = 0;
    std::vector<std::string> argv;
    std::string log_path;
    std::unique_ptr<ServerProcess> process;
  };

  EtcdCluster() = default;
  absl::Status MakeTlsFiles();
  absl::Status StartMember(Member& member);
  // One attempt of Start() on freshly picked ports.
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> StartOnce(
      const EtcdClusterOptions& options);
  std::vector<std::string> EtcdctlTlsFlags() const;

  EtcdClusterOptions options_;
  std::string dir_;
  std::vector<Member> members_;
  absl::Duration startup_time_;
};

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_ETCD_SERVER_H_
