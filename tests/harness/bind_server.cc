#include "tests/harness/bind_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/harness/free_port.h"

namespace certfleet::harness {
namespace {

absl::Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string Absolute(const std::string& zone) {
  std::string z(absl::StripSuffix(zone, "."));
  return z + ".";
}

// tsig-keygen prints: key "NAME" { algorithm ALG; secret "BASE64"; };
absl::StatusOr<BindKey> MakeKey(const std::string& keygen,
                                const std::string& name,
                                const std::string& algorithm) {
  auto out = RunTool({keygen, "-a", algorithm, name}, absl::Seconds(10));
  if (!out.ok()) return out.status();
  const size_t at = out->find("secret \"");
  if (at == std::string::npos) {
    return absl::InternalError(
        absl::StrCat("tsig-keygen printed no secret: ", *out));
  }
  const size_t start = at + 8;
  const size_t end = out->find('"', start);
  return BindKey{name, algorithm, out->substr(start, end - start)};
}

// One non-recursive SOA query over UDP; true when the server answers it
// authoritatively with an SOA record.
bool AnswersSoa(const std::string& ip, int port, const std::string& zone,
                uint16_t id) {
  std::string q;
  q.push_back(static_cast<char>(id >> 8));
  q.push_back(static_cast<char>(id & 0xff));
  q.append("\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  for (absl::string_view label : absl::StrSplit(zone, '.', absl::SkipEmpty())) {
    q.push_back(static_cast<char>(label.size()));
    q.append(label.data(), label.size());
  }
  q.append("\x00\x00\x06\x00\x01", 5);  // root, type SOA, class IN

  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      send(fd, q.data(), q.size(), 0) == static_cast<ssize_t>(q.size())) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) == 1) {
      unsigned char buf[4096];
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      ok = n >= 12 && buf[0] == (id >> 8) && buf[1] == (id & 0xff) &&
           (buf[2] & 0x80) &&              // QR
           (buf[2] & 0x04) &&              // AA
           (buf[3] & 0x0f) == 0 &&         // NOERROR
           ((buf[6] << 8) | buf[7]) >= 1;  // ANCOUNT
    }
  }
  close(fd);
  return ok;
}

constexpr int kStartAttempts = 3;

// named could not bind its port: another program took it between
// PickFreePort() and named's start (named logs the errno only at a higher
// debug level, then this, and exits).
bool LostPortRace(const absl::Status& status) {
  return absl::StrContains(status.message(),
                           "unable to listen on any configured interfaces");
}

}  // namespace

absl::StatusOr<std::unique_ptr<BindServer>> BindServer::Start(
    BindOptions options) {
  absl::StatusOr<std::unique_ptr<BindServer>> server;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    server = StartOnce(options);
    // Only a port we picked ourselves may be picked again.
    if (server.ok() || options.port != 0 || !LostPortRace(server.status())) {
      break;
    }
  }
  return server;
}

absl::StatusOr<std::unique_ptr<BindServer>> BindServer::StartOnce(
    BindOptions options) {
  auto named = FindProgram("named");
  if (!named.ok()) return named.status();
  auto keygen = FindProgram("tsig-keygen");
  if (!keygen.ok()) return keygen.status();

  std::unique_ptr<BindServer> server(new BindServer());
  server->options_ = std::move(options);
  BindOptions& o = server->options_;
  if (o.port == 0) {
    auto port = PickFreePort();
    if (!port.ok()) return port.status();
    o.port = *port;
  }
  const char* tmp = getenv("TMPDIR");
  std::string templ =
      absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/certfleet-bind-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", templ, ": ", strerror(errno)));
  }
  server->dir_ = templ;

  auto main_key = MakeKey(*keygen, o.tsig_key_name, o.tsig_algorithm);
  if (!main_key.ok()) return main_key.status();
  server->keys_.push_back(*main_key);
  for (const auto& [name, algorithm] : o.extra_keys) {
    auto k = MakeKey(*keygen, name, algorithm);
    if (!k.ok()) return k.status();
    server->keys_.push_back(*k);
  }
  if (absl::Status s = server->WriteConfig(); !s.ok()) return s;

  const std::string conf = server->dir_ + "/named.conf";
  auto process = ServerProcess::Start({.name = "named",
                                       .argv = {*named, "-g", "-4", "-c", conf},
                                       .log_path = server->dir_ + "/named.log",
                                       .working_dir = server->dir_});
  if (!process.ok()) return process.status();
  server->process_ = std::move(*process);
  if (absl::Status s = server->WaitUntilServing(); !s.ok()) return s;
  return server;
}

absl::Status BindServer::WriteConfig() {
  const BindOptions& o = options_;
  std::string conf = absl::StrCat(
      "options {\n"
      "  directory \"",
      dir_,
      "\";\n"
      "  pid-file \"",
      dir_,
      "/named.pid\";\n"
      "  session-keyfile \"",
      dir_,
      "/session.key\";\n"
      "  managed-keys-directory \"",
      dir_,
      "\";\n"
      "  listen-on port ",
      o.port,
      " { 127.0.0.1; };\n"
      "  listen-on-v6 { none; };\n",
      o.resolve_cnames ? "  recursion yes;\n  allow-recursion { 127.0.0.1; };\n"
                       : "  recursion no;\n",
      "  dnssec-validation no;\n"
      "  notify no;\n"
      "  allow-query { any; };\n"
      "};\n"
      // No rndc: nothing listens on the control port.
      "controls { };\n");
  std::string grants;
  for (const BindKey& k : keys_) {
    absl::StrAppend(&conf, "key \"", k.name, "\" {\n  algorithm ", k.algorithm,
                    ";\n  secret \"", k.secret, "\";\n};\n");
    absl::StrAppend(&grants, " grant ", k.name, " zonesub TXT;");
  }
  for (const BindZone& zone : o.zones) {
    const std::string apex = Absolute(zone.name);
    // A fresh copy at every start: updates leave a journal behind.
    const std::string file = absl::StrCat(dir_, "/", apex, "zone");
    std::string data =
        absl::StrCat("$ORIGIN ", apex, "\n$TTL 60\n", "@ IN SOA ns1.", apex,
                     " hostmaster.", apex, " 1 3600 600 86400 1\n",
                     "@ IN NS ns1.", apex, "\n", "ns1 IN A 127.0.0.1\n");
    for (const std::string& line : zone.extra_records) {
      absl::StrAppend(&data, line, "\n");
    }
    if (absl::Status s = WriteFile(file, data); !s.ok()) return s;
    absl::StrAppend(&conf, "zone \"", apex, "\" {\n  type primary;\n  file \"",
                    file, "\";\n  update-policy {", grants, " };\n};\n");
  }
  if (o.resolve_cnames) {
    const std::string root = dir_ + "/root.zone";
    if (absl::Status s = WriteFile(
            root,
            "$ORIGIN .\n$TTL 60\n"
            "@ IN SOA ns1.root-servers.test. hostmaster.root-servers.test. "
            "1 3600 600 86400 1\n"
            "@ IN NS ns1.root-servers.test.\n"
            "ns1.root-servers.test. IN A 127.0.0.1\n");
        !s.ok()) {
      return s;
    }
    absl::StrAppend(&conf, "zone \".\" {\n  type primary;\n  file \"", root,
                    "\";\n};\n");
  }
  for (const std::string& line : o.extra_named_conf_lines) {
    absl::StrAppend(&conf, line, "\n");
  }
  return WriteFile(dir_ + "/named.conf", conf);
}

absl::Status BindServer::WaitUntilServing() {
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  uint16_t id = static_cast<uint16_t>(getpid());
  for (const BindZone& zone : options_.zones) {
    while (!AnswersSoa("127.0.0.1", options_.port, Absolute(zone.name), ++id)) {
      if (!process_->Running()) {
        return absl::FailedPreconditionError(
            absl::StrCat("named exited during start-up; log:\n", LogTail()));
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("named does not answer SOA ", zone.name, " at ",
                         address(), " after 15s; log:\n", LogTail()));
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  return absl::OkStatus();
}

BindServer::~BindServer() {
  process_.reset();  // stops named by PID
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string BindServer::address() const {
  return absl::StrCat("127.0.0.1:", options_.port);
}

absl::StatusOr<BindKey> BindServer::key(const std::string& name) const {
  for (const BindKey& k : keys_) {
    if (k.name == name) return k;
  }
  return absl::NotFoundError(absl::StrCat("no TSIG key \"", name, "\""));
}

std::string BindServer::LogTail(size_t max_bytes) const {
  if (process_) return process_->LogTail(max_bytes);
  return "";
}

}  // namespace certfleet::harness
