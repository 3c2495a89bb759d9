// The process seam: runs a program given as an argv list (never through a
// shell), with a timeout, and captures its output.
//
// The program gets a scrubbed environment built from scratch: PATH and the
// locale (LANG, LANGUAGE, LC_*) of this process, plus what the spec lists —
// nothing else. The daemons run hooks and reload commands written by
// others; the secrets in their own environment (${VAR} values of their
// configuration, cloud credentials, a systemd EnvironmentFile) must not
// reach them unless the configuration hands them over by name.
//
//   SubprocessRunner runner;
//   ProcessSpec spec{.argv = {"/usr/local/bin/dns-hook", "present", fqdn,
//   value},
//                    .timeout = absl::Seconds(30)};
//   ASSIGN_OR_RETURN(ProcessResult r, runner.Run(spec, ctx));
//   if (!r.success()) return absl::InternalError(r.Describe());
#ifndef CERTFLEET_COMMON_PROCESS_RUNNER_H_
#define CERTFLEET_COMMON_PROCESS_RUNNER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/context.h"

namespace certfleet {

struct ProcessSpec {
  // argv[0] is the program: an absolute path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // The child's environment besides PATH and the locale, which come from
  // this process (a name given here replaces them). Nothing else of this
  // process's environment is passed on.
  std::vector<std::pair<std::string, std::string>> env;
  std::string stdin_data;
  // Empty: inherit the current directory.
  std::string working_dir;
  absl::Duration timeout = absl::Seconds(30);
  // Each of stdout and stderr keeps at most this many bytes (the first ones);
  // the rest is read and dropped so the child never blocks on a full pipe.
  size_t max_output_bytes = 64 * 1024;
};

struct ProcessResult {
  int exit_code = -1;   // valid when the process exited normally
  int term_signal = 0;  // non-zero when it was killed by a signal
  bool timed_out = false;
  bool cancelled = false;
  std::string stdout_data;
  std::string stderr_data;
  absl::Duration elapsed;

  bool success() const {
    return !timed_out && !cancelled && term_signal == 0 && exit_code == 0;
  }
  // "exited with status 3", "killed by signal 9", "timed out after 5s".
  std::string Describe() const;
  // The last `max_bytes` of stderr, trimmed, for error messages.
  std::string StderrExcerpt(size_t max_bytes = 512) const;
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs the process to completion. A non-OK status means it could not be
  // started (program missing, not executable); how it ended is in the result.
  // On timeout or cancellation the whole process group gets SIGTERM, then
  // SIGKILL after a short grace period.
  virtual absl::StatusOr<ProcessResult> Run(const ProcessSpec& spec,
                                            const Context& ctx) = 0;
};

// Runs real processes with posix_spawn in their own process group.
// The environment a child started with `env` gets, as "NAME=value" strings
// sorted by name: PATH (a default when this process has none), LANG,
// LANGUAGE and LC_* from `parent` (a null-terminated "NAME=value" array
// such as environ), then `env` (later entries win).
std::vector<std::string> ChildEnvironment(
    const char* const* parent,
    const std::vector<std::pair<std::string, std::string>>& env);

class SubprocessRunner : public ProcessRunner {
 public:
  absl::StatusOr<ProcessResult> Run(const ProcessSpec& spec,
                                    const Context& ctx) override;
};

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_PROCESS_RUNNER_H_
