#include "tests/harness/etcd_server.h"

#include <curl/curl.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/harness/free_port.h"
#include "tests/harness/harness_files.h"
#include "tests/harness/pebble_server.h"

namespace certfleet::harness {

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(
    EtcdClusterOptions options) {
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster;
  for (int attempt = 0; attempt < 3; ++attempt) {
    cluster = StartOnce(options);
    if (cluster.ok() || !absl::StrContains(cluster.status().message(),
                                           "address already in use")) {
      break;
    }
  }
  return cluster;
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::StartOnce(
    const EtcdClusterOptions& options) {
  if (options.members < 1) {
    return absl::InvalidArgumentError("an etcd cluster needs a member");
  }
  absl::StatusOr<std::string> etcd = FindProgram("etcd");
  if (!etcd.ok()) return etcd.status();
  const absl::Time start = absl::Now();

  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
  cluster->options_ = options;
  const char* tmp = getenv("TMPDIR");
  std::string templ =
      absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/certfleet-etcd-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("mkdtemp ", templ, ": ", strerror(errno)));
  }
  cluster->dir_ = templ;
  if (options.tls) {
    if (absl::Status s = cluster->MakeTlsFiles(); !s.ok()) return s;
  }

  cluster->members_.resize(options.members);
  std::vector<std::string> peers;
  for (int i = 0; i < options.members; ++i) {
    Member& m = cluster->members_[i];
    m.name = absl::StrCat("m", i);
    for (int* port : {&m.client_port, &m.peer_port}) {
      absl::StatusOr<int> p = PickFreePort();
      if (!p.ok()) return p.status();
      *port = *p;
    }
    peers.push_back(absl::StrCat(m.name, "=http://127.0.0.1:", m.peer_port));
  }
  const std::string scheme = options.tls ? "https" : "http";
  const std::string& dir = cluster->dir_;
  for (Member& m : cluster->members_) {
    const std::string client_url =
        absl::StrCat(scheme, "://127.0.0.1:", m.client_port);
    const std::string peer_url = absl::StrCat("http://127.0.0.1:", m.peer_port);
    // clang-format off
    m.argv = {
        *etcd,
        "--name", m.name,
        "--data-dir", absl::StrCat(dir, "/", m.name, ".etcd"),
        "--listen-client-urls", client_url,
        "--advertise-client-urls", client_url,
        "--listen-peer-urls", peer_url,
        "--initial-advertise-peer-urls", peer_url,
        "--initial-cluster", absl::StrJoin(peers, ","),
        "--initial-cluster-state", "new",
        // Unique per cluster, so members of two test clusters never join
        // each other even if a port is reused.
        "--initial-cluster-token", dir,
        "--heartbeat-interval", absl::StrCat(options.heartbeat_ms),
        "--election-timeout", absl::StrCat(options.election_timeout_ms),
        "--logger", "zap",
        "--log-outputs", "stderr"};
    if (options.tls) {
      const std::vector<std::string> tls_flags = {
          "--cert-file", dir + "/server.pem",
          "--key-file", dir + "/server-key.pem",
          "--trusted-ca-file", dir + "/ca.pem",
          "--client-cert-auth"};
      m.argv.insert(m.argv.end(), tls_flags.begin(), tls_flags.end());
    }
    m.argv.insert(m.argv.end(), options.extra_flags.begin(),
                  options.extra_flags.end());
    // clang-format on
    m.log_path = absl::StrCat(dir, "/", m.name, ".log");
    if (absl::Status s = cluster->StartMember(m); !s.ok()) return s;
  }
  const absl::Time deadline = start + options.start_timeout;
  for (int i = 0; i < options.members; ++i) {
    absl::Status s = cluster->WaitHealthy(i, deadline - absl::Now());
    if (!s.ok()) return s;
  }
  cluster->startup_time_ = absl::Now() - start;
  return cluster;
}

EtcdCluster::~EtcdCluster() {
  for (Member& m : members_) m.process.reset();  // stops etcd by PID
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

absl::Status EtcdCluster::MakeTlsFiles() {
  // ca.pem, ca-key.pem, server.pem (127.0.0.1, ::1, localhost).
  if (absl::Status s = MakeLoopbackTlsFiles(dir_); !s.ok()) return s;
  const std::string ext = dir_ + "/client.ext", csr = dir_ + "/client.csr";
  if (absl::Status s = WriteFileAtomically(ext,
                                           "basicConstraints=CA:FALSE\n"
                                           "keyUsage=digitalSignature\n"
                                           "extendedKeyUsage=clientAuth\n");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> out = RunTool(
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", client_key_path(), "-out", csr, "-subj",
       "/CN=certfleet-test-client"});
  if (!out.ok()) return out.status();
  out = RunTool({"openssl", "x509", "-req", "-in", csr, "-CA", ca_path(),
                 "-CAkey", dir_ + "/ca-key.pem", "-CAcreateserial", "-out",
                 client_cert_path(), "-days", "2", "-extfile", ext});
  return out.status();
}

absl::Status EtcdCluster::StartMember(Member& member) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> process =
      ServerProcess::Start({.name = absl::StrCat("etcd ", member.name),
                            .argv = member.argv,
                            .log_path = member.log_path,
                            .working_dir = dir_});
  if (!process.ok()) return process.status();
  member.process = *std::move(process);
  return absl::OkStatus();
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(endpoint(i));
  return out;
}

std::string EtcdCluster::endpoint(int member) const {
  return absl::StrCat("127.0.0.1:", members_[member].client_port);
}

void EtcdCluster::Kill(int member) {
  if (members_[member].process) members_[member].process->Kill();
}

void EtcdCluster::Stop(int member) {
  if (members_[member].process) members_[member].process->Stop();
}

bool EtcdCluster::Running(int member) {
  return members_[member].process && members_[member].process->Running();
}

absl::Status EtcdCluster::Restart(int member, absl::Duration timeout) {
  Stop(member);
  members_[member].process.reset();
  if (absl::Status s = StartMember(members_[member]); !s.ok()) return s;
  return WaitHealthy(member, timeout);
}

absl::Status EtcdCluster::WaitHealthy(int member, absl::Duration timeout) {
  const std::string url = absl::StrCat(options_.tls ? "https" : "http", "://",
                                       endpoint(member), "/health");
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  CURL* curl = curl_easy_init();
  if (!curl) return absl::InternalError("curl_easy_init failed");
  for (;;) {
    if (!Running(member)) {
      curl_easy_cleanup(curl);
      return absl::FailedPreconditionError(
          absl::StrCat("etcd ", members_[member].name,
                       " exited while starting; log:\n", LogTail(member)));
    }
    std::string body;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendToString);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (options_.tls) {
      curl_easy_setopt(curl, CURLOPT_CAINFO, ca_path().c_str());
      curl_easy_setopt(curl, CURLOPT_SSLCERT, client_cert_path().c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, client_key_path().c_str());
    }
    const CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK && absl::StrContains(body, "\"health\":\"true\"")) {
      curl_easy_cleanup(curl);
      return absl::OkStatus();
    }
    last = rc == CURLE_OK ? body : curl_easy_strerror(rc);
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  curl_easy_cleanup(curl);
  return absl::DeadlineExceededError(
      absl::StrCat("etcd ", members_[member].name, " not healthy at ", url,
                   " after ", absl::FormatDuration(timeout),
                   " (last answer: ", last, "); log:\n", LogTail(member)));
}

std::vector<std::string> EtcdCluster::EtcdctlTlsFlags() const {
  if (!options_.tls) return {};
  return {"--cacert",         ca_path(), "--cert",
          client_cert_path(), "--key",   client_key_path()};
}

absl::StatusOr<std::string> EtcdCluster::Etcdctl(
    const std::vector<std::string>& args) {
  absl::StatusOr<std::string> etcdctl = FindProgram("etcdctl");
  if (!etcdctl.ok()) return etcdctl.status();
  std::vector<std::string> running;
  for (int i = 0; i < size(); ++i) {
    if (Running(i)) running.push_back(endpoint(i));
  }
  if (running.empty()) {
    return absl::FailedPreconditionError("etcdctl: no etcd member is running");
  }
  std::vector<std::string> argv = {*etcdctl, "--endpoints",
                                   absl::StrJoin(running, ","),
                                   "--command-timeout", "5s"};
  const std::vector<std::string> tls = EtcdctlTlsFlags();
  argv.insert(argv.end(), tls.begin(), tls.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunTool(argv, absl::Seconds(15));
}

namespace {

// The number after "field": in etcdctl's JSON, or 0.
uint64_t JsonNumber(absl::string_view json, absl::string_view field) {
  const std::string needle = absl::StrCat("\"", field, "\":");
  const size_t at = json.find(needle);
  if (at == absl::string_view::npos) return 0;
  uint64_t value = 0;
  for (size_t i = at + needle.size(); i < json.size(); ++i) {
    if (json[i] < '0' || json[i] > '9') break;
    value = value * 10 + static_cast<uint64_t>(json[i] - '0');
  }
  return value;
}

}  // namespace

absl::StatusOr<int> EtcdCluster::LeaderIndex() {
  std::vector<uint64_t> member_ids(size(), 0);
  uint64_t leader = 0;
  for (int i = 0; i < size(); ++i) {
    if (!Running(i)) continue;
    std::vector<std::string> argv = {"etcdctl", "--endpoints", endpoint(i),
                                     "--command-timeout", "2s"};
    const std::vector<std::string> tls = EtcdctlTlsFlags();
    argv.insert(argv.end(), tls.begin(), tls.end());
    for (const char* arg : {"endpoint", "status", "-w", "json"}) {
      argv.push_back(arg);
    }
    absl::StatusOr<std::string> out = RunTool(argv, absl::Seconds(10));
    if (!out.ok()) continue;
    member_ids[i] = JsonNumber(*out, "member_id");
    if (leader == 0) leader = JsonNumber(*out, "leader");
  }
  for (int i = 0; i < size(); ++i) {
    if (leader != 0 && member_ids[i] == leader) return i;
  }
  return absl::UnavailableError(
      "no running etcd member reports a leader among the running members");
}

std::string EtcdCluster::LogTail(int member, size_t max_bytes) const {
  const Member& m = members_[member];
  if (m.process) return m.process->LogTail(max_bytes);
  return "";
}

}  // namespace certfleet::harness
