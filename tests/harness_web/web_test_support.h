// Shared pieces of the web-server harness tests: certificates from a test
// CA, installed the way an agent installs them (write new files, rename
// over the served paths), a plain GET without verification for /healthz,
// and a check that no server process outlives its owner.
//
//   ServedFiles files(dir.path());
//   IssuedCert a = IssueWwwLeaf();
//   files.Install(a);
//   auto nginx = NginxServer::Start({.cert_path = files.cert_path(), ...});
//   TrackServer(nginx->pid(), nginx->dir());
#ifndef CERTFLEET_TESTS_HARNESS_WEB_WEB_TEST_SUPPORT_H_
#define CERTFLEET_TESTS_HARNESS_WEB_WEB_TEST_SUPPORT_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/crypto/test_certs.h"

namespace certfleet::harness::testing {

using crypto::testing::IssuedCert;

// The test CA shared by every test in the binary.
const crypto::testing::TestCa& WebTestCa();

// A fresh leaf for www.example.test (random serial), valid from an hour
// ago for 90 days.
IssuedCert IssueWwwLeaf();

// The files one server serves: fullchain.pem + key.pem (nginx) and
// combined.pem (HAProxy), replaced atomically.
class ServedFiles {
 public:
  explicit ServedFiles(const std::string& dir);
  const std::string& cert_path() const { return cert_path_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& combined_path() const { return combined_path_; }

  // Installs leaf + intermediate and the leaf's key. Aborts on failure.
  void Install(const IssuedCert& leaf);
  // Installs `leaf`'s chain with some other key (a broken delivery).
  void InstallMismatched(const IssuedCert& leaf, const IssuedCert& other_key);

 private:
  void Write(const std::string& chain_pem, const std::string& key_pem);
  std::string cert_path_;
  std::string key_path_;
  std::string combined_path_;
};

struct HttpReply {
  long status = 0;
  std::string body;
};
// GET with libcurl, no proxy, no certificate verification.
absl::StatusOr<HttpReply> GetNoVerify(const std::string& url);

// Remembers a server (master PID = its process group, and its directory)
// so the binary's global TearDown can check that nothing of it survived.
void TrackServer(pid_t master_pid, const std::string& dir);

// PIDs of live processes in process group `pgid`, or whose command line
// mentions `dir` (when not empty).
std::vector<pid_t> LiveProcesses(pid_t pgid, const std::string& dir);

// Probes a TLS server continuously from a thread (one handshake after the
// other) and records when each serial was first and last served, and how
// many handshakes failed: the view of a client fleet during a rollout.
class SerialWatcher {
 public:
  SerialWatcher(std::string address, std::string server_name);
  ~SerialWatcher();  // Stop()s
  void Stop();

  std::optional<absl::Time> FirstSeen(const std::string& serial) const;
  std::optional<absl::Time> LastSeen(const std::string& serial) const;
  int handshakes() const;
  int failures() const;
  std::string first_error() const;  // "" when none failed

 private:
  void Run();

  const std::string address_;
  const std::string server_name_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::pair<absl::Time, absl::Time>> seen_
      ABSL_GUARDED_BY(mu_);
  int handshakes_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// Prints one measurement line the way the tests report timings.
void Report(const std::string& what, absl::Duration value);

// How many connections wait, not yet accepted, in the queues of the sockets
// listening on 127.0.0.1:`port` (any process's), from /proc/net/tcp. 0 once
// a server has accepted a connection the test opened.
absl::StatusOr<int> PendingAccepts(int port);

}  // namespace certfleet::harness::testing

#endif  // CERTFLEET_TESTS_HARNESS_WEB_WEB_TEST_SUPPORT_H_
