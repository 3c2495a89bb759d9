// Fakes and fixtures for the agent's unit tests: a scriptable ProcessRunner
// and HealthChecker that record their calls, bundles issued by the test CA,
// and a target spec with one file of every format.
//
//   FakeProcessRunner runner;
//   runner.SetHandler([](const ProcessSpec&) { return Exit(1, "boom"); });
//   FakeHealthChecker checker;
//   checker.FailWhenServing("0b", "serves serial 0a");
//   Bundle b = MakeBundle(ca, "www", "www/1", "0a");
#ifndef CERTFLEET_TESTS_AGENT_AGENT_FAKES_H_
#define CERTFLEET_TESTS_AGENT_AGENT_FAKES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/config/agent_config.h"
#include "agent/install/bundle.h"
#include "agent/install/health_checker.h"
#include "common/process_runner.h"
#include "tests/crypto/test_certs.h"

namespace certfleet::agent::testing {

// A finished process: exit status `code`, stderr `err`.
ProcessResult Exit(int code, const std::string& err = "");

class FakeProcessRunner : public ProcessRunner {
 public:
  using Handler = std::function<ProcessResult(const ProcessSpec&)>;

  // Every run exits 0 unless a handler says otherwise.
  void SetHandler(Handler handler);
  absl::StatusOr<ProcessResult> Run(const ProcessSpec& spec,
                                    const Context& ctx) override;
  // argv[0] of every run, in order.
  std::vector<std::string> programs() const;
  int runs() const;

 private:
  mutable absl::Mutex mu_;
  Handler handler_ ABSL_GUARDED_BY(mu_);
  std::vector<ProcessSpec> calls_ ABSL_GUARDED_BY(mu_);
};

class FakeHealthChecker : public HealthChecker {
 public:
  using Handler = std::function<absl::Status(const HealthCheckSpec&,
                                             const std::string& serial)>;

  // Passes unless a handler says otherwise.
  void SetHandler(Handler handler);
  // Fails (kFailedPrecondition, `message`) whenever the expected serial is
  // `serial`.
  void FailFor(const std::string& serial, const std::string& message);
  absl::Status Check(const HealthCheckSpec& spec,
                     const std::string& expected_serial,
                     const Context& ctx) override;
  // The expected serial of every check, in order.
  std::vector<std::string> serials() const;

 private:
  mutable absl::Mutex mu_;
  Handler handler_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> serials_ ABSL_GUARDED_BY(mu_);
};

// A bundle for `target`, with a fresh P-256 key and a leaf from `ca` for
// `names`, serial `serial_hex`, valid around crypto::testing::kTestNow
// unless `options` says otherwise.
Bundle MakeBundle(const crypto::testing::TestCa& ca, const std::string& target,
                  const std::string& version_id, const std::string& serial_hex,
                  crypto::testing::LeafOptions options = {});

// A target "www" in `directory` requiring www.example.test, with one file of
// every format (key.pem, cert.pem, chain.pem, fullchain.pem, haproxy.pem,
// www.p12 with the password in `password_file`), reload
// /usr/sbin/reload-www, one tls health check, grace 1s, health_timeout 5s.
TargetSpec WwwTarget(const std::string& directory,
                     const std::string& password_file);

}  // namespace certfleet::agent::testing

#endif  // CERTFLEET_TESTS_AGENT_AGENT_FAKES_H_
