// The health-check seam: does a target serve the new certificate correctly?
// TargetManager calls it after each reload; tests pass a fake.
//
// The real checker (RealHealthChecker) runs the three kinds of checks:
//  - tls: a TLS handshake with the target's address (an IP literal, never
//    resolved) and SNI; the served leaf's serial must be the expected one.
//    The chain is not verified: only which certificate is served matters.
//  - http: GET (cpp-httplib); the response must have the expected status.
//  - command: argv run through the ProcessRunner, exit status 0 passes; it
//    gets the expected serial in CERTFLEET_EXPECTED_SERIAL.
//
//   SubprocessRunner runner;
//   RealHealthChecker checker(runner);
//   absl::Status s = checker.Check(spec, leaf.SerialHex(),
//                                  ctx.WithDeadline(clock.Now() + 15s));
#ifndef CERTFLEET_AGENT_INSTALL_HEALTH_CHECKER_H_
#define CERTFLEET_AGENT_INSTALL_HEALTH_CHECKER_H_

#include <string>

#include "absl/status/status.h"
#include "agent/config/agent_config.h"
#include "common/context.h"
#include "common/process_runner.h"

namespace certfleet::agent {

class HealthChecker {
 public:
  virtual ~HealthChecker() = default;
  // OK when the check passes. Otherwise kUnavailable (could not connect, no
  // answer in time), kFailedPrecondition (answered wrongly: another serial,
  // another status, a non-zero exit), with a message naming the check,
  // e.g. "tls 127.0.0.1:8443 (www.example.test): serves serial 0a, expected
  // 0b". `expected_serial` is lower-case hex. Honors the context's deadline
  // and cancellation.
  virtual absl::Status Check(const HealthCheckSpec& spec,
                             const std::string& expected_serial,
                             const Context& ctx) = 0;
};

// The real checks; safe to use from several threads at once.
class RealHealthChecker : public HealthChecker {
 public:
  // `runner` runs command checks; it must outlive this object.
  explicit RealHealthChecker(ProcessRunner& runner) : runner_(runner) {}

  absl::Status Check(const HealthCheckSpec& spec,
                     const std::string& expected_serial,
                     const Context& ctx) override;

 private:
  ProcessRunner& runner_;
};

// The served leaf's serial at `address` (ip:port) with SNI `server_name`
// ("" = none), in lower-case hex. kUnavailable when the connection or the
// handshake fails.
absl::StatusOr<std::string> FetchServedSerial(const std::string& address,
                                              const std::string& server_name,
                                              const Context& ctx);

// Status code of a GET of `url` and the first bytes of the body.
struct HttpAnswer {
  int status = 0;
  std::string body_excerpt;
};
// kUnavailable when no answer came.
absl::StatusOr<HttpAnswer> HttpGet(const std::string& url,
                                   const std::string& ca_file,
                                   const Context& ctx);

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_INSTALL_HEALTH_CHECKER_H_
