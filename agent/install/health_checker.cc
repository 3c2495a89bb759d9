#include "agent/install/health_checker.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace certfleet::agent {
namespace {

// One attempt never waits longer than this, whatever the context allows:
// the caller retries until its own deadline.
constexpr absl::Duration kMaxAttempt = absl::Seconds(10);

// Blocks SIGPIPE on this thread while a check runs, and discards one raised
// meanwhile: OpenSSL and cpp-httplib write to sockets without MSG_NOSIGNAL,
// and a service that hangs up mid-handshake must fail the check, not kill
// the agent.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~ScopedSigpipeBlock() {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_;
  sigset_t old_;
};

std::string TlsName(const HealthCheckSpec& spec) {
  if (spec.server_name.empty()) return absl::StrCat("tls ", spec.address);
  return absl::StrCat("tls ", spec.address, " (", spec.server_name, ")");
}

absl::Status CheckTls(const HealthCheckSpec& spec,
                      const std::string& expected_serial, const Context& ctx) {
  absl::StatusOr<std::string> serial =
      FetchServedSerial(spec.address, spec.server_name, ctx);
  if (!serial.ok()) return Annotate(serial.status(), TlsName(spec));
  if (absl::AsciiStrToLower(*serial) !=
      absl::AsciiStrToLower(expected_serial)) {
    return absl::FailedPreconditionError(
        absl::StrCat(TlsName(spec), ": serves serial ", *serial, ", expected ",
                     expected_serial));
  }
  return absl::OkStatus();
}

absl::Status CheckHttp(const HealthCheckSpec& spec, const Context& ctx) {
  absl::StatusOr<HttpAnswer> answer = HttpGet(spec.url, spec.ca_file, ctx);
  if (!answer.ok()) return Annotate(answer.status(), "http " + spec.url);
  if (answer->status != spec.expect_status) {
    std::string message =
        absl::StrCat("http ", spec.url, ": status ", answer->status,
                     ", expected ", spec.expect_status);
    if (!answer->body_excerpt.empty()) {
      absl::StrAppend(&message, ": ", answer->body_excerpt);
    }
    return absl::FailedPreconditionError(message);
  }
  return absl::OkStatus();
}

absl::Status CheckCommand(ProcessRunner& runner, const HealthCheckSpec& spec,
                          const std::string& expected_serial,
                          const Context& ctx) {
  const std::string name = absl::StrCat("command ", spec.command.front());
  ProcessSpec process{
      .argv = spec.command, .env = spec.environment, .timeout = kMaxAttempt};
  process.env.emplace_back("CERTFLEET_EXPECTED_SERIAL", expected_serial);
  absl::StatusOr<ProcessResult> result = runner.Run(process, ctx);
  if (!result.ok()) return Annotate(result.status(), name);
  if (result->success()) return absl::OkStatus();
  std::string message = absl::StrCat(name, ": ", result->Describe());
  const std::string excerpt = result->StderrExcerpt();
  if (!excerpt.empty()) absl::StrAppend(&message, ": ", excerpt);
  return result->timed_out ? absl::UnavailableError(message)
                           : absl::FailedPreconditionError(message);
}

}  // namespace

absl::Status RealHealthChecker::Check(const HealthCheckSpec& spec,
                                      const std::string& expected_serial,
                                      const Context& ctx) {
  // The real checks measure real time (like SubprocessRunner does).
  const Context attempt = ctx.WithDeadline(absl::Now() + kMaxAttempt);
  ScopedSigpipeBlock no_sigpipe;
  switch (spec.kind) {
    case HealthCheckSpec::Kind::kTls:
      return CheckTls(spec, expected_serial, attempt);
    case HealthCheckSpec::Kind::kHttp:
      return CheckHttp(spec, attempt);
    case HealthCheckSpec::Kind::kCommand:
      if (spec.command.empty()) {
        return absl::InvalidArgumentError("command check without a command");
      }
      return CheckCommand(runner_, spec, expected_serial, attempt);
  }
  return absl::InvalidArgumentError("unknown health check kind");
}

}  // namespace certfleet::agent
