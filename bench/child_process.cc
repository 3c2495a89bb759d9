#include "bench/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tests/harness/server_process.h"

extern char** environ;

namespace certfleet::bench {

absl::StatusOr<pid_t> SpawnChild(const ChildSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (!spec.output_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, spec.output_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    bool overridden = false;
    for (const auto& [k, v] : spec.env) {
      if (absl::StartsWith(*e, k + "=")) overridden = true;
    }
    if (!overridden) env.push_back(*e);
  }
  for (const auto& [k, v] : spec.env) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  const int rc =
      posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("cannot start ", spec.argv[0], ": ", strerror(rc)));
  }
  return pid;
}

absl::StatusOr<int> WaitChild(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0 && errno != EINTR) {
      return absl::NotFoundError(
          absl::StrCat("process ", pid, ": ", strerror(errno)));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid, " still running after ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

int StopChildren(const std::vector<pid_t>& pids, absl::Duration grace) {
  std::set<pid_t> running(pids.begin(), pids.end());
  for (pid_t pid : running) kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  while (!running.empty() && absl::Now() < deadline) {
    for (auto it = running.begin(); it != running.end();) {
      int status = 0;
      const pid_t r = waitpid(*it, &status, WNOHANG);
      it = (r == *it || (r < 0 && errno == ECHILD)) ? running.erase(it)
                                                    : std::next(it);
    }
    if (!running.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  const int killed = static_cast<int>(running.size());
  for (pid_t pid : running) {
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  return killed;
}

absl::StatusOr<pid_t> StartPerfRecord(pid_t pid, const std::string& data_path) {
  // SpawnChild does not search PATH.
  ASSIGN_OR_RETURN(const std::string perf, harness::FindProgram("perf"));
  return SpawnChild({.argv = {perf, "record", "-q", "-e", "cpu-clock", "-F",
                              "499", "--call-graph", "dwarf,8192", "-p",
                              absl::StrCat(pid), "-o", data_path},
                     .output_path = data_path + ".log"});
}

void StopPerfRecord(pid_t perf) {
  if (perf <= 0) return;
  kill(perf, SIGINT);
  if (!WaitChild(perf, absl::Seconds(120)).ok()) {
    StopChildren({perf}, absl::Seconds(5));
  }
}

}  // namespace certfleet::bench
