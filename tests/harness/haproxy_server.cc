#include "tests/harness/haproxy_server.h"

#include <signal.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/context.h"
#include "common/process_runner.h"
#include "tests/harness/free_port.h"
#include "tests/harness/harness_files.h"
#include "tests/harness/tls_probe.h"

namespace certfleet::harness {
namespace {

constexpr int kStartAttempts = 3;
// SIGUSR2's bit in the /proc/PID/status signal masks (bit signo - 1).
constexpr uint64_t kSigusr2Bit = uint64_t{1} << (SIGUSR2 - 1);

// The reload script; %HAPROXY%, %CONFIG%, %LOG% and %PID% are filled in.
// See haproxy_server.h for why each step is there.
constexpr char kReloadScript[] = R"SCRIPT(#!/bin/sh
# Written by the certfleet test harness (tests/harness/haproxy_server.h).
# Reloads one HAProxy 2.6 master; exits 0 only once a new worker serves.
haproxy=%HAPROXY%
config=%CONFIG%
log=%LOG%
pid=%PID%

# The configuration and every crt file must load, or nothing is signalled.
"$haproxy" -c -f "$config" >/dev/null || exit 1

# True when the master idles in wait mode with SIGUSR2 caught, not blocked,
# not ignored: a SIGUSR2 sent now starts a reload (otherwise it is dropped).
ready() {
  env=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null) || return 1
  case "$env" in *HAPROXY_MWORKER_WAIT_ONLY=1*) ;; *) return 1 ;; esac
  blk=0 ign=0 cgt=0
  while read -r key value; do
    case "$key" in
      SigBlk:) blk=${value#????????} ;;
      SigIgn:) ign=${value#????????} ;;
      SigCgt:) cgt=${value#????????} ;;
    esac
  done <"/proc/$pid/status"
  [ $((0x$blk & 0x800)) -eq 0 ] && [ $((0x$ign & 0x800)) -eq 0 ] &&
    [ $((0x$cgt & 0x800)) -ne 0 ]
}

# wait_ready <seconds>
wait_ready() {
  i=0
  until ready; do
    kill -0 "$pid" 2>/dev/null || { echo "haproxy master $pid is gone" >&2; exit 1; }
    i=$((i + 1))
    [ "$i" -lt $(($1 * 200)) ] || return 1
    sleep 0.005
  done
}

# What the master logged since the signal, and whether it logged <text>.
since() { tail -c +"$((offset + 1))" "$log"; }
has() { case "$1" in *"($pid) : $2"*) return 0 ;; esac; return 1; }

wait_ready 10 || { echo "haproxy master $pid not ready for a reload after 10s" >&2; exit 1; }
offset=$(wc -c <"$log")
attempt=0
until has "$(since)" 'Reloading HAProxy'; do
  [ "$attempt" -lt 3 ] || { echo "haproxy master $pid ignored SIGUSR2 3 times" >&2; exit 1; }
  kill -USR2 "$pid" || exit 1
  attempt=$((attempt + 1))
  i=0
  while [ "$i" -lt 100 ] && ! has "$(since)" 'Reloading HAProxy'; do
    sleep 0.01
    i=$((i + 1))
  done
done
i=0
until text=$(since); has "$text" 'Loading success.' || has "$text" 'Loading failure!'; do
  i=$((i + 1))
  [ "$i" -lt 3000 ] || { echo "haproxy master $pid: no reload verdict after 30s" >&2; exit 1; }
  sleep 0.01
done
# The next reload must not land in the master's re-execution either.
wait_ready 10 || { echo "haproxy master $pid not ready after its reload" >&2; exit 1; }
has "$text" 'Loading success.' && exit 0
echo "haproxy master $pid rejected the new configuration and keeps its old worker:" >&2
printf '%s\n' "$text" | grep -F "($pid) : " | grep -F '[ALERT]' >&2
exit 1
)SCRIPT";

// One field of /proc/PID/status ("SigBlk:\t0000000000000000") as a mask.
uint64_t StatusMask(const std::string& status, const std::string& key) {
  const size_t at = status.find("\n" + key + ":");
  if (at == std::string::npos) return 0;
  return strtoull(status.c_str() + at + key.size() + 2, nullptr, 16);
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

// For the /bin/sh reload script: single quotes keep every byte literal.
std::string ShellQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

absl::StatusOr<std::unique_ptr<HaproxyServer>> HaproxyServer::Start(
    HaproxyOptions options) {
  auto haproxy = FindProgram("haproxy");
  if (!haproxy.ok()) return haproxy.status();
  if (options.combined_pem_path.empty()) {
    return absl::InvalidArgumentError("HaproxyOptions needs combined_pem_path");
  }
  absl::Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    std::unique_ptr<HaproxyServer> server(new HaproxyServer());
    server->haproxy_ = *haproxy;
    server->options_ = options;
    if (server->options_.port == 0) {
      auto port = PickFreePort();
      if (!port.ok()) return port.status();
      server->options_.port = *port;
    }
    auto dir = MakeHarnessTempDir("haproxy");
    if (!dir.ok()) return dir.status();
    server->dir_ = *dir;
    server->config_path_ = server->dir_ + "/haproxy.cfg";
    server->log_path_ = server->dir_ + "/haproxy.log";
    server->reload_script_path_ = server->dir_ + "/reload.sh";
    if (absl::Status s = server->RestoreConfig(); !s.ok()) return s;
    auto process = ServerProcess::Start(
        {.name = "haproxy",
         .argv = {server->haproxy_, "-W", "-f", server->config_path_, "-p",
                  server->dir_ + "/haproxy.pid"},
         .log_path = server->log_path_,
         .working_dir = server->dir_});
    if (!process.ok()) return process.status();
    server->process_ = std::move(*process);
    if (absl::Status s = server->WriteReloadScript(); !s.ok()) return s;
    auto served = WaitForTls(server->address(), server->options_.server_name,
                             absl::Seconds(15), server->process_.get());
    if (served.ok()) {
      // Right after start-up the master re-executes into wait mode and
      // would drop a SIGUSR2 (see haproxy_server.h).
      if (absl::Status s = server->WaitUntilReadyForReload(absl::Seconds(15));
          !s.ok()) {
        return s;
      }
      return server;
    }
    last = served.status();
    // Only a port we picked ourselves may be picked again.
    if (options.port != 0 ||
        !absl::StrContains(last.message(), "Address already in use")) {
      break;
    }
  }
  return last;
}

HaproxyServer::~HaproxyServer() {
  process_.reset();  // SIGTERM to the process group: master and workers
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string HaproxyServer::address() const {
  return absl::StrCat("127.0.0.1:", options_.port);
}

std::vector<std::string> HaproxyServer::CheckArgv() const {
  return {haproxy_, "-c", "-f", config_path_};
}

std::vector<std::string> HaproxyServer::ReloadCommand() const {
  return {reload_script_path_};
}

absl::Status HaproxyServer::WriteReloadScript() const {
  std::string script = kReloadScript;
  for (const auto& [key, value] :
       {std::pair<std::string, std::string>{"%HAPROXY%", ShellQuoted(haproxy_)},
        {"%CONFIG%", ShellQuoted(config_path_)},
        {"%LOG%", ShellQuoted(log_path_)},
        {"%PID%", absl::StrCat(pid())}}) {
    script.replace(script.find(key), key.size(), value);
  }
  return WriteFileAtomically(reload_script_path_, script, 0755);
}

bool HaproxyServer::ReadyForReload() const {
  const std::string proc = absl::StrCat("/proc/", pid());
  auto environ_data = ReadWholeFile(proc + "/environ");
  auto status = ReadWholeFile(proc + "/status");
  if (!environ_data.ok() || !status.ok()) return false;
  const std::string wait_only("HAPROXY_MWORKER_WAIT_ONLY=1\0", 28);
  if (!absl::StrContains(*environ_data, wait_only)) return false;
  return (StatusMask(*status, "SigBlk") & kSigusr2Bit) == 0 &&
         (StatusMask(*status, "SigIgn") & kSigusr2Bit) == 0 &&
         (StatusMask(*status, "SigCgt") & kSigusr2Bit) != 0;
}

absl::Status HaproxyServer::WaitUntilReadyForReload(
    absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (!ReadyForReload()) {
    if (!process_->Running()) {
      return absl::FailedPreconditionError(
          absl::StrCat("haproxy exited; log:\n", LogTail()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "haproxy master ", pid(), " not ready for a reload after ",
          absl::FormatDuration(timeout), "; log:\n", LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::OkStatus();
}

absl::Status HaproxyServer::CheckConfig() const {
  SubprocessRunner runner;
  auto result = runner.Run({.argv = CheckArgv(), .timeout = absl::Seconds(30)},
                           Context::Background());
  if (!result.ok()) return result.status();
  if (!result->success()) {
    return absl::FailedPreconditionError(
        absl::StrCat("haproxy -c -f ", config_path_, " ", result->Describe(),
                     ": ", result->StderrExcerpt(2000)));
  }
  return absl::OkStatus();
}

absl::Status HaproxyServer::Reload(absl::Duration timeout) {
  SubprocessRunner runner;
  auto result = runner.Run({.argv = ReloadCommand(), .timeout = timeout},
                           Context::Background());
  if (!result.ok()) return result.status();
  if (!result->success()) {
    return absl::FailedPreconditionError(
        absl::StrCat("haproxy reload (", reload_script_path_, ") ",
                     result->Describe(), ": ", result->StderrExcerpt(2000)));
  }
  return absl::OkStatus();
}

absl::Status HaproxyServer::BreakConfig() {
  return WriteFileAtomically(config_path_, ConfigText(/*broken=*/true));
}

absl::Status HaproxyServer::RestoreConfig() {
  return WriteFileAtomically(config_path_, ConfigText(/*broken=*/false));
}

std::string HaproxyServer::ConfigText(bool broken) const {
  std::string conf = absl::StrCat(
      "# Written by the certfleet test harness "
      "(tests/harness/haproxy_server.cc)\n"
      "global\n"
      // One thread: many instances share two cores in the lab.
      "  nbthread 1\n"
      "  maxconn 1024\n"
      // Old workers finish their connections, but not forever.
      "  hard-stop-after 10s\n"
      // HAProxy's own HTTP client (unused here) would load the system CA
      // bundle at every start, check and reload: ≈ 60–100 ms with OpenSSL 3.
      "  httpclient.ssl.verify none\n"
      "defaults\n"
      "  mode http\n"
      "  timeout connect 5s\n"
      "  timeout client 30s\n"
      "  timeout server 30s\n"
      "  timeout http-request 10s\n"
      "frontend web\n"
      "  bind 127.0.0.1:",
      options_.port, " ssl crt ", Quoted(options_.combined_pem_path), "\n",
      "  http-request return status 200 content-type text/plain string ok "
      "if { path /healthz }\n"
      "  http-request return status 404 content-type text/plain string "
      "\"not found\"\n");
  if (broken) absl::StrAppend(&conf, "  certfleet_broken_keyword on\n");
  return conf;
}

std::string HaproxyServer::LogTail(size_t max_bytes) const {
  return process_ ? process_->LogTail(max_bytes) : "";
}

}  // namespace certfleet::harness
