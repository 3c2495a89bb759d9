#include "bench/measured_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace certfleet::bench {
namespace {

std::atomic<bool> interrupted{false};

double TimevalMs(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) * 1e3 +
         static_cast<double>(tv.tv_usec) / 1e3;
}

std::vector<std::string> MergedEnvironment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    bool overridden = false;
    for (const auto& [k, v] : extra) {
      if (absl::StartsWith(*e, k + "=")) overridden = true;
    }
    if (!overridden) env.push_back(*e);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

enum class WaitResult { kExited, kTimedOut, kStalled, kInterrupted };

// Blocks until `pid` exits, `timeout` passes, `stalled` says so or the
// benchmark is interrupted. A pidfd
// lets us wait with a timeout without polling for the exit (which would add
// up to a poll period to the measured wall time).
WaitResult WaitForExit(pid_t pid, absl::Duration timeout,
                       const std::function<bool()>& stalled) {
  // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return WaitResult::kExited;  // no pidfd: wait4 blocks instead
  const absl::Time deadline = absl::Now() + timeout;
  WaitResult result = WaitResult::kTimedOut;
  while (true) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) break;
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    const int rc =
        poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (rc > 0 || (rc < 0 && errno != EINTR)) {
      result = WaitResult::kExited;  // (on a poll error, wait4 blocks)
      break;
    }
    if (rc == 0 && interrupted.load()) {
      result = WaitResult::kInterrupted;
      break;
    }
    if (rc == 0 && stalled && stalled()) {
      result = WaitResult::kStalled;
      break;
    }
  }
  close(fd);
  return result;
}

}  // namespace

void InstallInterruptHandler() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr,
            "[bench] signal %d: stopping the running child and the "
            "lab\n",
            sig);
    interrupted.store(true);
  }).detach();
}

bool Interrupted() { return interrupted.load(); }

absl::StatusOr<MeasuredRun> RunMeasured(const MeasuredSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("empty argv");
  if (interrupted.load()) return absl::CancelledError("interrupted");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, spec.stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, spec.stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!spec.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, spec.working_dir.c_str());
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

  std::vector<std::string> env = MergedEnvironment(spec.env);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  MeasuredRun run;
  const absl::Time start = absl::Now();
  pid_t pid = -1;
  const int rc =
      posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start ", spec.argv[0], ": ", strerror(rc)));
  }
  switch (WaitForExit(pid, spec.timeout, spec.stalled)) {
    case WaitResult::kExited:
      break;
    case WaitResult::kTimedOut:
      run.timed_out = true;
      kill(pid, SIGKILL);
      break;
    case WaitResult::kStalled:
      run.stalled = true;
      kill(pid, SIGKILL);
      break;
    case WaitResult::kInterrupted:
      kill(pid, SIGKILL);
      break;
  }
  int status = 0;
  rusage usage{};
  pid_t r;
  do {
    r = wait4(pid, &status, 0, &usage);
  } while (r < 0 && errno == EINTR);
  run.wall = absl::Now() - start;
  if (r != pid) {
    return absl::InternalError(
        absl::StrCat("wait4 for ", spec.argv[0], ": ", strerror(errno)));
  }
  if (interrupted.load()) {
    return absl::CancelledError(absl::StrCat(spec.argv[0], ": interrupted"));
  }
  if (WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.term_signal = WTERMSIG(status);
  }
  run.user_ms = TimevalMs(usage.ru_utime);
  run.system_ms = TimevalMs(usage.ru_stime);
  run.cpu_ms = run.user_ms + run.system_ms;
  run.max_rss_kb = usage.ru_maxrss;
  return run;
}

absl::StatusOr<double> ProcessCpuMs(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) {
    return absl::NotFoundError(absl::StrCat("no process ", pid));
  }
  // The command name (field 2) may hold spaces; fields after its closing
  // parenthesis are fixed: state is field 3, utime 14, stime 15.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) {
    return absl::InternalError(absl::StrCat("unreadable /proc/", pid, "/stat"));
  }
  std::vector<std::string> fields =
      absl::StrSplit(line.substr(close + 2), ' ', absl::SkipEmpty());
  if (fields.size() < 13) {
    return absl::InternalError(absl::StrCat("short /proc/", pid, "/stat"));
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double utime = std::stod(fields[11]);
  const double stime = std::stod(fields[12]);
  return (utime + stime) * 1e3 / ticks;
}

double MachineBusyMs() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
         softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >>
      steal;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (user + nice + system + irq + softirq + steal) * 1e3 / ticks;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return "";
  if (text->size() <= max_bytes) return *text;
  return text->substr(text->size() - max_bytes);
}

}  // namespace certfleet::bench
