#include "common/process_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace certfleet {
namespace {

constexpr absl::Duration kKillGrace = absl::Milliseconds(500);

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

void Append(std::string& buf, const char* data, size_t n, size_t cap) {
  if (buf.size() >= cap) return;
  buf.append(data, std::min(n, cap - buf.size()));
}

// Used when this process has no PATH itself (a daemon started with an empty
// environment): the usual system directories.
constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Passed on from the parent: the program search path and the locale, so a
// hook prints its messages (and parses its input) as the daemon would.
bool IsPassedOn(absl::string_view name) {
  return name == "PATH" || name == "LANG" || name == "LANGUAGE" ||
         absl::StartsWith(name, "LC_");
}

}  // namespace

std::vector<std::string> ChildEnvironment(
    const char* const* parent,
    const std::vector<std::pair<std::string, std::string>>& env) {
  std::map<std::string, std::string> out;
  for (const char* const* e = parent; e && *e; ++e) {
    const char* eq = strchr(*e, '=');
    if (!eq) continue;
    std::string name(*e, eq - *e);
    if (IsPassedOn(name)) out[std::move(name)] = eq + 1;
  }
  out.try_emplace("PATH", kDefaultPath);
  for (const auto& [k, v] : env) out[k] = v;
  std::vector<std::string> strings;
  strings.reserve(out.size());
  for (const auto& [k, v] : out) strings.push_back(absl::StrCat(k, "=", v));
  return strings;
}

std::string ProcessResult::Describe() const {
  if (timed_out) {
    return absl::StrCat("timed out after ", absl::FormatDuration(elapsed));
  }
  if (cancelled) return "cancelled";
  if (term_signal != 0) {
    return absl::StrFormat("killed by signal %d (%s)", term_signal,
                           strsignal(term_signal));
  }
  return absl::StrCat("exited with status ", exit_code);
}

std::string ProcessResult::StderrExcerpt(size_t max_bytes) const {
  absl::string_view s = absl::StripAsciiWhitespace(stderr_data);
  if (s.size() > max_bytes) {
    return absl::StrCat("…", s.substr(s.size() - max_bytes));
  }
  return std::string(s);
}

absl::StatusOr<ProcessResult> SubprocessRunner::Run(const ProcessSpec& spec,
                                                    const Context& ctx) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return absl::InvalidArgumentError("empty command");
  }
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  absl::Cleanup close_all = [&] {
    for (int* p : {in_pipe, out_pipe, err_pipe}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  absl::Cleanup destroy_actions = [&] {
    posix_spawn_file_actions_destroy(&actions);
  };
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!spec.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, spec.working_dir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  absl::Cleanup destroy_attr = [&] { posix_spawnattr_destroy(&attr); };
  // Own process group, so a timeout kills the program and its children.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  sigaddset(&default_signals, SIGTERM);
  sigaddset(&default_signals, SIGINT);
  posix_spawnattr_setsigdefault(&attr, &default_signals);
  sigset_t no_mask;
  sigemptyset(&no_mask);
  posix_spawnattr_setsigmask(&attr, &no_mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = ChildEnvironment(environ, spec.env);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const absl::Time start = absl::Now();
  pid_t pid = -1;
  int rc =
      posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  if (rc != 0) {
    const absl::StatusCode code = rc == ENOENT
                                      ? absl::StatusCode::kNotFound
                                      : absl::StatusCode::kFailedPrecondition;
    return absl::Status(
        code, absl::StrCat("cannot run ", spec.argv[0], ": ", strerror(rc)));
  }
  CloseFd(in_pipe[0]);
  CloseFd(out_pipe[1]);
  CloseFd(err_pipe[1]);
  fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);

  ProcessResult result;
  size_t stdin_off = 0;
  if (spec.stdin_data.empty()) CloseFd(in_pipe[1]);
  const absl::Time deadline = std::min(start + spec.timeout, ctx.deadline());
  bool killing = false;
  absl::Time kill_at = absl::InfiniteFuture();
  char buf[8192];
  while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
    const absl::Time now = absl::Now();
    if (!killing && (now >= deadline || ctx.IsCancelled())) {
      if (ctx.IsCancelled()) {
        result.cancelled = true;
      } else {
        result.timed_out = true;
      }
      kill(-pid, SIGTERM);
      killing = true;
      kill_at = now + kKillGrace;
    }
    if (killing && now >= kill_at) {
      kill(-pid, SIGKILL);
      kill_at = absl::InfiniteFuture();
    }
    pollfd fds[3];
    int n = 0;
    for (int fd : {out_pipe[0], err_pipe[0], in_pipe[1]}) {
      if (fd < 0) continue;
      fds[n].fd = fd;
      fds[n].events = fd == in_pipe[1] ? POLLOUT : POLLIN;
      fds[n].revents = 0;
      ++n;
    }
    // Wake at least every 50 ms to notice cancellation.
    absl::Time wake =
        std::min({deadline, kill_at, now + absl::Milliseconds(50)});
    if (killing && kill_at == absl::InfiniteFuture()) {
      wake = now + absl::Milliseconds(50);
    }
    const int timeout_ms =
        std::max<int64_t>(0, absl::ToInt64Milliseconds(wake - now) + 1);
    if (poll(fds, n, timeout_ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_pipe[1]) {
        ssize_t w = write(in_pipe[1], spec.stdin_data.data() + stdin_off,
                          spec.stdin_data.size() - stdin_off);
        if (w > 0) stdin_off += w;
        if (w < 0 && errno != EAGAIN) stdin_off = spec.stdin_data.size();
        if (stdin_off >= spec.stdin_data.size()) CloseFd(in_pipe[1]);
        continue;
      }
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        Append(
            fds[i].fd == out_pipe[0] ? result.stdout_data : result.stderr_data,
            buf, r, spec.max_output_bytes);
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        if (fds[i].fd == out_pipe[0]) {
          CloseFd(out_pipe[0]);
        } else {
          CloseFd(err_pipe[0]);
        }
      }
    }
  }
  CloseFd(in_pipe[1]);
  // Both pipes are closed; the process may still be running if it closed
  // them itself. Keep enforcing the deadline while waiting for it.
  int status = 0;
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    const absl::Time now = absl::Now();
    if (!killing && (now >= deadline || ctx.IsCancelled())) {
      result.timed_out = !ctx.IsCancelled();
      result.cancelled = ctx.IsCancelled();
      kill(-pid, SIGTERM);
      killing = true;
      kill_at = now + kKillGrace;
    }
    if (killing && now >= kill_at) {
      kill(-pid, SIGKILL);
      kill_at = absl::InfiniteFuture();
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  // Reap any children the program left behind in its group.
  if (killing) kill(-pid, SIGKILL);
  result.elapsed = absl::Now() - start;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace certfleet
