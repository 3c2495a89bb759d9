#include "tests/harness/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/process_runner.h"

extern char** environ;

namespace certfleet::harness {
absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    ServerSpec spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("empty argv");
  int log_fd = open(spec.log_path.c_str(),
                    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", spec.log_path, ": ", strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  if (!spec.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, spec.working_dir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    bool overridden = false;
    for (const auto& [k, v] : spec.extra_env) {
      if (absl::StartsWith(*e, k + "=")) overridden = true;
    }
    if (!overridden) env.push_back(*e);
  }
  for (const auto& [k, v] : spec.extra_env) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (auto& a : spec.argv) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  int rc =
      posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(log_fd);
  if (rc != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot start ", spec.name, " (", spec.argv[0], "): ", strerror(rc)));
  }
  return std::unique_ptr<ServerProcess>(
      new ServerProcess(std::move(spec), pid));
}

ServerProcess::~ServerProcess() { Stop(); }

bool ServerProcess::Running() {
  if (reaped_) return false;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    reaped_ = true;
    return false;
  }
  return true;
}

void ServerProcess::Stop() {
  if (reaped_) return;
  kill(-pid_, SIGTERM);
  kill(pid_, SIGTERM);
  for (int i = 0; i < 300; ++i) {
    if (!Running()) {
      kill(-pid_, SIGKILL);  // anything the server left in its group
      return;
    }
    usleep(10'000);
  }
  Kill();
}

void ServerProcess::Kill() {
  if (reaped_) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  reaped_ = true;
}

std::string ServerProcess::LogTail(size_t max_bytes) const {
  std::ifstream in(spec_.log_path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = s.substr(s.size() - max_bytes);
  return s;
}

absl::Status WaitForTcpPort(int port, absl::Duration timeout,
                            ServerProcess* server) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (ok) return absl::OkStatus();
    if (server && !server->Running()) {
      return absl::FailedPreconditionError(
          absl::StrCat(server->name(), " exited before listening on port ",
                       port, "; log:\n", server->LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "nothing listening on 127.0.0.1:", port, " after ",
      absl::FormatDuration(timeout),
      server ? absl::StrCat("; ", server->name(), " log:\n", server->LogTail())
             : ""));
}

absl::StatusOr<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path_env = getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path_env ? path_env : "", ':', absl::SkipEmpty());
  for (const char* extra : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    dirs.push_back(extra);
  }
  for (const auto& dir : dirs) {
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(
      name, " not found; run scripts/bootstrap.sh to install the lab servers"));
}

absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv,
                                    absl::Duration timeout) {
  SubprocessRunner runner;
  ProcessSpec spec{.argv = argv, .timeout = timeout};
  auto result = runner.Run(spec, Context::Background());
  if (!result.ok()) return result.status();
  if (!result->success()) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), ": ",
                                            result->Describe(), ": ",
                                            result->StderrExcerpt()));
  }
  return result->stdout_data;
}

}  // namespace certfleet::harness
