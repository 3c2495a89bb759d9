#include "tests/harness/nginx_server.h"

#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/context.h"
#include "common/process_runner.h"
#include "tests/harness/free_port.h"
#include "tests/harness/harness_files.h"
#include "tests/harness/tls_probe.h"

namespace certfleet::harness {
namespace {

constexpr int kStartAttempts = 3;

// nginx.conf strings are double-quoted so paths under any $TMPDIR work.
std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

absl::Status RunNginxTool(const std::vector<std::string>& argv,
                          const std::string& what) {
  SubprocessRunner runner;
  auto result = runner.Run({.argv = argv, .timeout = absl::Seconds(30)},
                           Context::Background());
  if (!result.ok()) return result.status();
  if (!result->success()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " (", absl::StrJoin(argv, " "), ") ",
                     result->Describe(), ": ", result->StderrExcerpt(2000)));
  }
  return absl::OkStatus();
}

// The port was taken between PickFreePort() and nginx's bind().
bool LostPortRace(const absl::Status& status) {
  return absl::StrContains(status.message(), "Address already in use");
}

}  // namespace

absl::StatusOr<std::unique_ptr<NginxServer>> NginxServer::Launch(
    NginxOptions options) {
  auto nginx = FindProgram("nginx");
  if (!nginx.ok()) return nginx.status();
  if (options.cert_path.empty() || options.key_path.empty()) {
    return absl::InvalidArgumentError(
        "NginxOptions needs cert_path and key_path");
  }
  std::unique_ptr<NginxServer> server(new NginxServer());
  server->nginx_ = *nginx;
  server->options_ = std::move(options);
  NginxOptions& o = server->options_;
  if (o.port == 0) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    o.port = *port;
  }
  if (o.http_port == -1) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    o.http_port = *port;
  }
  auto dir = MakeHarnessTempDir("nginx");
  if (!dir.ok()) return dir.status();
  server->dir_ = *dir;
  server->config_path_ = server->dir_ + "/nginx.conf";
  server->log_path_ = server->dir_ + "/error.log";
  if (absl::Status s = server->RestoreConfig(); !s.ok()) return s;

  std::vector<std::string> argv = server->BaseArgv();
  // Foreground master (we own its PID), with workers: reload needs them.
  argv.push_back("-g");
  argv.push_back("daemon off;");
  auto process = ServerProcess::Start({.name = "nginx",
                                       .argv = std::move(argv),
                                       .log_path = server->log_path_,
                                       .working_dir = server->dir_});
  if (!process.ok()) return process.status();
  server->process_ = std::move(*process);
  return server;
}

absl::StatusOr<std::unique_ptr<NginxServer>> NginxServer::Start(
    NginxOptions options) {
  absl::Status last;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    auto server = Launch(options);
    if (!server.ok()) return server.status();
    last = (*server)->WaitUntilServing();
    if (last.ok()) return server;
    // Only a port we picked ourselves may be picked again.
    if (!LostPortRace(last) || options.port != 0 || options.http_port > 0) {
      break;
    }
  }
  return last;
}

absl::StatusOr<std::vector<std::unique_ptr<NginxServer>>>
NginxServer::StartMany(std::vector<NginxOptions> options) {
  std::vector<std::unique_ptr<NginxServer>> servers;
  for (const NginxOptions& o : options) {
    auto server = Launch(o);
    if (!server.ok()) return server.status();
    servers.push_back(std::move(*server));
  }
  for (size_t i = 0; i < servers.size(); ++i) {
    absl::Status s = servers[i]->WaitUntilServing();
    if (s.ok()) continue;
    if (!LostPortRace(s)) return s;
    servers[i].reset();
    auto again = Start(options[i]);
    if (!again.ok()) return again.status();
    servers[i] = std::move(*again);
  }
  return servers;
}

NginxServer::~NginxServer() {
  process_.reset();  // SIGTERM to the process group: master and workers
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

absl::Status NginxServer::WaitUntilServing() {
  auto served = WaitForTls(address(), options_.server_name, absl::Seconds(15),
                           process_.get());
  if (!served.ok()) return served.status();
  if (options_.http_port > 0) {
    return WaitForTcpPort(options_.http_port, absl::Seconds(15),
                          process_.get());
  }
  return absl::OkStatus();
}

std::string NginxServer::address() const {
  return absl::StrCat("127.0.0.1:", options_.port);
}

std::vector<std::string> NginxServer::BaseArgv() const {
  // -e: the error log before the configuration is read (Debian's default is
  // stderr, fine, but the signaller's messages belong in our log too).
  return {nginx_, "-c", config_path_, "-p", dir_ + "/", "-e", log_path_};
}

std::vector<std::string> NginxServer::ReloadCommand() const {
  std::vector<std::string> argv = BaseArgv();
  argv.push_back("-s");
  argv.push_back("reload");
  return argv;
}

absl::Status NginxServer::Reload(absl::Duration timeout) {
  LogCursor cursor(log_path_);
  const absl::Time deadline = absl::Now() + timeout;
  if (absl::Status s = RunNginxTool(ReloadCommand(), "nginx reload"); !s.ok()) {
    return s;
  }
  // The master logs (at notice level):
  //   M#M: reconfiguring ... M#M: start worker process W
  // and the old worker O logs "O#O: gracefully shutting down" when it
  // closes its listening sockets. From then on only new workers accept.
  const std::string master = absl::StrCat(pid(), "#", pid(), ": ");
  bool reconfiguring = false;
  bool new_worker = false;
  bool old_worker_stopped = false;
  while (absl::Now() < deadline) {
    for (absl::string_view line :
         absl::StrSplit(cursor.ReadNewLines(), '\n', absl::SkipEmpty())) {
      const bool from_master = absl::StrContains(line, master);
      if (from_master && absl::StrContains(line, ": reconfiguring")) {
        reconfiguring = true;
      } else if (from_master &&
                 absl::StrContains(line, ": start worker process ")) {
        new_worker = true;
      } else if (from_master && (absl::StrContains(line, "[emerg]") ||
                                 absl::StrContains(line, "[alert]"))) {
        return absl::FailedPreconditionError(absl::StrCat(
            "nginx -s reload exited 0 but the master rejected the new "
            "configuration and keeps the old one: ",
            line));
      } else if (!from_master &&
                 absl::StrContains(line, ": gracefully shutting down")) {
        old_worker_stopped = true;
      }
    }
    if (reconfiguring && new_worker && old_worker_stopped) {
      return absl::OkStatus();
    }
    if (!process_->Running()) {
      return absl::FailedPreconditionError(
          absl::StrCat("nginx exited during a reload; log:\n", LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("nginx master did not finish reloading within ",
                   absl::FormatDuration(timeout), "; log:\n", LogTail()));
}

absl::Status NginxServer::TestConfig() const {
  std::vector<std::string> argv = BaseArgv();
  argv.push_back("-t");
  return RunNginxTool(argv, "nginx -t");
}

absl::Status NginxServer::BreakConfig() {
  return WriteFileAtomically(config_path_, ConfigText(/*broken=*/true));
}

absl::Status NginxServer::RestoreConfig() {
  return WriteFileAtomically(config_path_, ConfigText(/*broken=*/false));
}

std::string NginxServer::ConfigText(bool broken) const {
  const NginxOptions& o = options_;
  auto in_dir = [&](const std::string& name) {
    return Quoted(dir_ + "/" + name);
  };
  std::string conf = absl::StrCat(
      "# Written by the certfleet test harness "
      "(tests/harness/nginx_server.cc)\n"
      "worker_processes 1;\n"
      "pid ",
      in_dir("nginx.pid"), ";\n",
      // notice: Reload() follows the master's reconfiguration messages.
      "error_log ", Quoted(log_path_), " notice;\n", "lock_file ",
      in_dir("nginx.lock"), ";\n",
      "events { worker_connections 1024; }\n"
      "http {\n"
      "  access_log ",
      in_dir("access.log"), ";\n",
      // Debian's compiled-in temp paths are under /var/lib/nginx.
      "  client_body_temp_path ", in_dir("client_body"), ";\n",
      "  proxy_temp_path ", in_dir("proxy"), ";\n", "  fastcgi_temp_path ",
      in_dir("fastcgi"), ";\n", "  uwsgi_temp_path ", in_dir("uwsgi"), ";\n",
      "  scgi_temp_path ", in_dir("scgi"), ";\n",
      "  default_type text/plain;\n"
      "  server {\n"
      "    listen 127.0.0.1:",
      o.port, " ssl;\n", "    server_name ", o.server_name, ";\n",
      "    ssl_certificate ", Quoted(o.cert_path), ";\n",
      "    ssl_certificate_key ", Quoted(o.key_path), ";\n",
      "    location /healthz { return 200 \"ok\"; }\n"
      "    location / { return 404; }\n"
      "  }\n");
  if (o.http_port > 0) {
    absl::StrAppend(&conf,
                    "  server {\n"
                    "    listen 127.0.0.1:",
                    o.http_port, ";\n",
                    "    location /healthz { return 200 \"ok\"; }\n"
                    "    location / { return 404; }\n"
                    "  }\n");
  }
  if (broken) absl::StrAppend(&conf, "  certfleet_broken_directive on;\n");
  absl::StrAppend(&conf, "}\n");
  return conf;
}

std::string NginxServer::LogTail(size_t max_bytes) const {
  return process_ ? process_->LogTail(max_bytes) : "";
}

}  // namespace certfleet::harness
