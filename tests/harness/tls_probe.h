// What certificate does a TLS server serve right now? A client handshake
// with SNI and no chain verification (tests compare what is served, they do
// not judge it), used to wait for a server to come up and to watch a
// certificate rollout.
//
//   ASSIGN_OR_RETURN(ServedCertificate served,
//                    ProbeTls(nginx->address(), "www.example.test",
//                             absl::Seconds(2)));
//   EXPECT_EQ(served.serial_hex, leaf.cert.SerialHex());
#ifndef CERTFLEET_TESTS_HARNESS_TLS_PROBE_H_
#define CERTFLEET_TESTS_HARNESS_TLS_PROBE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/harness/server_process.h"

namespace certfleet::harness {

// The leaf certificate a server presented in one handshake.
struct ServedCertificate {
  // Lower-case hex as crypto::Certificate::SerialHex() ("0a1b...").
  std::string serial_hex;
  std::string subject_cn;              // "" when the subject has no CN
  std::vector<std::string> dns_names;  // SAN dNSNames, lower-cased
  absl::Time not_after;
  std::string leaf_der;
};

// Connects to `address` ("127.0.0.1:P" or "[::1]:P"; numeric only — the
// system resolver is never used), sends SNI `server_name` (none when empty)
// and completes a TLS handshake without verifying the chain.
// kInvalidArgument for a malformed address; kUnavailable when the
// connection is refused or the handshake fails (message with OpenSSL's
// reason); kDeadlineExceeded when `timeout` passes first. The first call
// makes this process ignore SIGPIPE (a worker closing the connection
// during a reload must not kill the test binary).
absl::StatusOr<ServedCertificate> ProbeTls(const std::string& address,
                                           const std::string& server_name,
                                           absl::Duration timeout);

// A TCP connection opened now whose TLS handshake happens later: lets a
// test hold a connection across a server reload (a slow client's
// handshake in flight) and see whether it still completes, and with which
// certificate. Move-only; closes the socket when destroyed.
//
//   ASSIGN_OR_RETURN(auto pending, PendingTlsConnection::Open(addr, 2s));
//   RETURN_IF_ERROR(server->Reload());
//   auto served = pending.Handshake("www.example.test", 2s);
class PendingTlsConnection {
 public:
  // Connects (numeric addresses only, as ProbeTls). Errors as ProbeTls.
  static absl::StatusOr<PendingTlsConnection> Open(const std::string& address,
                                                   absl::Duration timeout);
  PendingTlsConnection(PendingTlsConnection&& other) noexcept;
  PendingTlsConnection& operator=(PendingTlsConnection&& other) noexcept;
  ~PendingTlsConnection();

  // The handshake (SNI `server_name`, no verification) on this connection;
  // at most once. Errors as ProbeTls.
  absl::StatusOr<ServedCertificate> Handshake(const std::string& server_name,
                                              absl::Duration timeout);

 private:
  PendingTlsConnection(int fd, std::string address)
      : fd_(fd), address_(std::move(address)) {}
  int fd_ = -1;
  std::string address_;
};

// Probes until a handshake succeeds. Fails early with the server's log
// tail when `server` (may be null) exits meanwhile; kDeadlineExceeded with
// the last probe error after `timeout`.
absl::StatusOr<ServedCertificate> WaitForTls(const std::string& address,
                                             const std::string& server_name,
                                             absl::Duration timeout,
                                             ServerProcess* server);

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_TLS_PROBE_H_
