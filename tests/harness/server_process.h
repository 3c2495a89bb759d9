// Building blocks for the integration-test lab: real server processes
// started in the foreground, logged to a file, and stopped by PID when the
// owning object goes away (also when a test fails). Their ports come from
// free_port.h.
//
//   ASSIGN_OR_RETURN(int port, PickFreePort());
//   ASSIGN_OR_RETURN(auto server, ServerProcess::Start(
//       {.name = "named", .argv = {"named", "-g", "-c", conf},
//        .log_path = dir + "/named.log"}));
//   RETURN_IF_ERROR(WaitForTcpPort(port, absl::Seconds(10), server.get()));
#ifndef CERTFLEET_TESTS_HARNESS_SERVER_PROCESS_H_
#define CERTFLEET_TESTS_HARNESS_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace certfleet::harness {

struct ServerSpec {
  std::string name;  // for messages: "pebble", "named"
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> extra_env;
  std::string log_path;  // stdout and stderr go here
  std::string working_dir;
};

class ServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(ServerSpec spec);
  // Stops the process (SIGTERM, then SIGKILL after 3 s) and reaps it.
  ~ServerProcess();

  pid_t pid() const { return pid_; }
  const std::string& name() const { return spec_.name; }
  const std::string& log_path() const { return spec_.log_path; }
  // False once the process has exited (reaps it if so).
  bool Running();
  // The last `max_bytes` of the log, for failure messages.
  std::string LogTail(size_t max_bytes = 2000) const;
  void Stop();
  // SIGKILL, for crash tests.
  void Kill();

 private:
  ServerProcess(ServerSpec spec, pid_t pid)
      : spec_(std::move(spec)), pid_(pid) {}
  ServerSpec spec_;
  pid_t pid_;
  bool reaped_ = false;
};

// Polls until something accepts TCP connections on 127.0.0.1:port. Fails
// early (with the log tail) if `server` exits meanwhile.
absl::Status WaitForTcpPort(int port, absl::Duration timeout,
                            ServerProcess* server);

// Absolute path of a program on PATH (and /usr/sbin, /sbin), or kNotFound.
absl::StatusOr<std::string> FindProgram(const std::string& name);

// Runs a short command to completion (openssl, tsig-keygen); returns stdout.
// Fails with the command line and its stderr.
absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv,
                                    absl::Duration timeout = absl::Seconds(30));

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_SERVER_PROCESS_H_
