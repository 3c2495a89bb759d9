// Pebble (Let's Encrypt's ACME test CA) for integration tests: a fresh
// instance on free loopback ports in a temporary directory, with its HTTPS
// certificate issued at start by a throw-away CA made with openssl. The CA's
// PEM is the trust bundle a client uses to reach it.
//
//   ASSIGN_OR_RETURN(auto pebble, PebbleServer::Start(
//       {.dns_server = bind->address(), .nonce_reject_percent = 50}));
//   client_options.directory_url = pebble->directory_url();
//   client_options.trust_bundle = pebble->ca_bundle_path();
#ifndef CERTFLEET_TESTS_HARNESS_PEBBLE_SERVER_H_
#define CERTFLEET_TESTS_HARNESS_PEBBLE_SERVER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "tests/harness/server_process.h"

namespace certfleet::harness {

struct PebbleOptions {
  // "127.0.0.1:PORT" of the DNS server Pebble's validation asks (BIND9 in
  // the lab). Empty: Pebble's default resolver, which tests must not use
  // unless always_valid is set.
  std::string dns_server;
  bool no_sleep = true;          // PEBBLE_VA_NOSLEEP
  bool always_valid = false;     // PEBBLE_VA_ALWAYS_VALID
  int nonce_reject_percent = 0;  // PEBBLE_WFE_NONCEREJECT
  int authz_reuse_percent = 0;   // PEBBLE_AUTHZREUSE
  int alternate_roots = 0;       // PEBBLE_ALTERNATE_ROOTS
  int chain_length = 0;          // PEBBLE_CHAIN_LENGTH (0 = default)
  int orders_per_page = 0;       // PEBBLE_WFE_ORDERS_PER_PAGE (0 = default)
  // When non-empty, Pebble requires External Account Binding with these
  // kid → base64url HMAC key pairs.
  std::map<std::string, std::string> eab_keys;
};

class PebbleServer {
 public:
  // Starts Pebble on four ports picked here and waits until it serves its
  // directory. Started again on fresh ports when another program bound one
  // of them first.
  static absl::StatusOr<std::unique_ptr<PebbleServer>> Start(
      PebbleOptions options);
  ~PebbleServer();

  std::string directory_url() const;   // https://127.0.0.1:P/dir
  std::string management_url() const;  // https://127.0.0.1:M
  int port() const { return port_; }
  // Pebble's output (one line per request it handles, its VA's work).
  const std::string& log_path() const { return process_->log_path(); }
  // PEM of the CA that signed Pebble's HTTPS certificate.
  const std::string& ca_bundle_path() const { return ca_path_; }
  const std::string& dir() const { return dir_; }
  ServerProcess* process() { return process_.get(); }

  // GET on the management interface (trusting ca_bundle_path()).
  absl::StatusOr<std::string> ManagementGet(const std::string& path) const;
  // The issuing root (index 0 = default, 1.. = alternates) as PEM.
  absl::StatusOr<std::string> RootPem(int index = 0) const;
  // Pebble's view of a certificate: "Valid" or "Revoked".
  absl::StatusOr<std::string> CertStatus(const std::string& serial_hex) const;

 private:
  PebbleServer() = default;
  // One attempt of Start().
  static absl::StatusOr<std::unique_ptr<PebbleServer>> StartOnce(
      const PebbleOptions& options);
  std::unique_ptr<ServerProcess> process_;
  std::string dir_;
  std::string ca_path_;
  int port_ = 0;
  int management_port_ = 0;
};

// Makes a CA and a server certificate for localhost/127.0.0.1/::1 with the
// openssl CLI. Writes ca.pem, server.pem, server-key.pem into `dir`.
absl::Status MakeLoopbackTlsFiles(const std::string& dir);

// A GET with libcurl trusting `ca_path`; returns the body. Non-2xx → error.
absl::StatusOr<std::string> HttpsGet(const std::string& url,
                                     const std::string& ca_path);

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_PEBBLE_SERVER_H_
