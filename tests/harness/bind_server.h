// BIND9 for integration tests: an authoritative-only named on a loopback
// port, with fresh copies of its zone files in a temporary directory and TSIG
// keys that may add and remove TXT records (RFC 2136) in every zone. Started
// in the foreground, stopped by PID when the object goes away.
//
// Every zone gets an SOA, "NS ns1.<zone>." and "ns1.<zone>. A <address>",
// so authoritative queries at port() reach this server.
//
//   ASSIGN_OR_RETURN(auto bind, BindServer::Start({.zones = {
//       {"example.test", {"www A 127.0.0.1"}}, {"validation.test"}}}));
//   provider_options.server = bind->address();          // "127.0.0.1:P"
//   provider_options.tsig_secret = bind->tsig_secret();
#ifndef CERTFLEET_TESTS_HARNESS_BIND_SERVER_H_
#define CERTFLEET_TESTS_HARNESS_BIND_SERVER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/harness/server_process.h"

namespace certfleet::harness {

struct BindZone {
  std::string name;  // "example.test" (no trailing dot needed)
  // Zone-file lines appended after the defaults, relative to the zone:
  // "_acme-challenge.delegated CNAME
  // _acme-challenge.delegated.validation.test."
  std::vector<std::string> extra_records;
};

struct BindKey {
  std::string name;       // "certfleet"
  std::string algorithm;  // "hmac-sha256"
  std::string secret;     // base64
};

struct BindOptions {
  std::vector<BindZone> zones;
  std::string tsig_key_name = "certfleet";
  std::string tsig_algorithm = "hmac-sha256";
  // More keys as (name, algorithm), each granted the same TXT updates.
  std::vector<std::pair<std::string, std::string>> extra_keys;
  // Answer recursive (RD) questions the way the resolver of a real CA does:
  // a CNAME into another zone of this server is followed, so delegated
  // validation (_acme-challenge CNAME into a validation zone) works with
  // Pebble. A local root zone answers every other name (NXDOMAIN), so named
  // never asks anything outside loopback.
  bool resolve_cnames = false;
  // Appended to named.conf as they are (top-level statements).
  std::vector<std::string> extra_named_conf_lines;
  // named listens on 127.0.0.1 only: it binds interface addresses, and the
  // other 127.0.0.0/8 addresses are not configured on lo here.
  int port = 0;  // 0: a free port
};

class BindServer {
 public:
  // Writes the configuration, starts named and waits until it answers an
  // SOA query for every zone. Takes ≈ 0.1–0.3 s. kNotFound when BIND is
  // not installed; otherwise errors carry named's log. A port picked here
  // (options.port 0) that another program bound first is picked again.
  static absl::StatusOr<std::unique_ptr<BindServer>> Start(BindOptions options);
  // Stops named and removes the directory.
  ~BindServer();

  int port() const { return options_.port; }
  // "127.0.0.1:P"
  std::string address() const;
  const std::string& tsig_key_name() const { return keys_[0].name; }
  const std::string& tsig_algorithm() const { return keys_[0].algorithm; }
  const std::string& tsig_secret() const { return keys_[0].secret; }
  // Every key: the main one first, then extra_keys in order.
  const std::vector<BindKey>& keys() const { return keys_; }
  // The key called `name`, or kNotFound.
  absl::StatusOr<BindKey> key(const std::string& name) const;
  const std::string& dir() const { return dir_; }
  // The end of named's log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;
  ServerProcess* process() { return process_.get(); }

 private:
  BindServer() = default;
  // One attempt of Start().
  static absl::StatusOr<std::unique_ptr<BindServer>> StartOnce(
      BindOptions options);
  absl::Status WriteConfig();
  absl::Status WaitUntilServing();

  BindOptions options_;
  std::string dir_;
  std::vector<BindKey> keys_;
  std::unique_ptr<ServerProcess> process_;
};

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_BIND_SERVER_H_
