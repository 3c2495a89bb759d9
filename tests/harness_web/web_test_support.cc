#include "tests/harness_web/web_test_support.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/harness_files.h"
#include "tests/harness/tls_probe.h"

namespace certfleet::harness::testing {

const crypto::testing::TestCa& WebTestCa() {
  static const auto* ca =
      new crypto::testing::TestCa(crypto::testing::TestCa::Create("Web Lab"));
  return *ca;
}

IssuedCert IssueWwwLeaf() {
  const absl::Time now = absl::Now();
  return WebTestCa().IssueLeaf({.dns_names = {"www.example.test"},
                                .not_before = now - absl::Hours(1),
                                .not_after = now + absl::Hours(24 * 90)});
}

ServedFiles::ServedFiles(const std::string& dir)
    : cert_path_(dir + "/fullchain.pem"),
      key_path_(dir + "/key.pem"),
      combined_path_(dir + "/combined.pem") {}

void ServedFiles::Install(const IssuedCert& leaf) {
  auto key_pem = leaf.key.ToPem();
  if (!key_pem.ok()) {
    ADD_FAILURE() << key_pem.status();
    abort();
  }
  Write(WebTestCa().ChainPem(leaf.cert), *key_pem);
}

void ServedFiles::InstallMismatched(const IssuedCert& leaf,
                                    const IssuedCert& other_key) {
  auto key_pem = other_key.key.ToPem();
  if (!key_pem.ok()) {
    ADD_FAILURE() << key_pem.status();
    abort();
  }
  Write(WebTestCa().ChainPem(leaf.cert), *key_pem);
}

void ServedFiles::Write(const std::string& chain_pem,
                        const std::string& key_pem) {
  for (const auto& [path, data] :
       {std::pair{key_path_, key_pem}, std::pair{cert_path_, chain_pem},
        std::pair{combined_path_, chain_pem + key_pem}}) {
    if (absl::Status s = WriteFileAtomically(path, data, 0600); !s.ok()) {
      ADD_FAILURE() << s;
      abort();
    }
  }
}

namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

absl::StatusOr<HttpReply> GetNoVerify(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  HttpReply reply;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("GET ", url, ": ", curl_easy_strerror(rc)));
  }
  return reply;
}

namespace {

// A /proc file's contents; "" when the process went away meanwhile (reading
// a vanished process's file fails with ESRCH, which an ifstream turns into
// an exception).
std::string ReadProcFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, n);
  }
  close(fd);
  return out;
}

}  // namespace

std::vector<pid_t> LiveProcesses(pid_t pgid, const std::string& dir) {
  std::vector<pid_t> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == getpid()) continue;
    const std::string base = absl::StrCat("/proc/", pid);
    const std::string stat = ReadProcFile(base + "/stat");
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parens.
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::vector<std::string> fields =
        absl::StrSplit(stat.substr(paren + 2), ' ');
    if (fields.size() > 2 && fields[0] == "Z") continue;  // zombie: dead
    pid_t group = 0;
    const bool in_group = fields.size() > 2 &&
                          absl::SimpleAtoi(fields[2], &group) && group == pgid;
    bool mentions_dir = false;
    if (!dir.empty()) {
      mentions_dir = absl::StrContains(ReadProcFile(base + "/cmdline"), dir);
    }
    if (in_group || mentions_dir) found.push_back(pid);
  }
  closedir(proc);
  return found;
}

namespace {

struct Tracked {
  pid_t pid;
  std::string dir;
};

std::mutex& TrackedMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::vector<Tracked>& TrackedServers() {
  static auto* servers = new std::vector<Tracked>;
  return *servers;
}

// After every test of this process: no nginx/HAProxy process of any server
// the tests started may still run (each server stops by PID when its
// object goes away).
class NoStrayServersEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard<std::mutex> lock(TrackedMutex());
    for (const Tracked& t : TrackedServers()) {
      const std::vector<pid_t> left = LiveProcesses(t.pid, t.dir);
      EXPECT_TRUE(left.empty())
          << "processes of the server started as PID " << t.pid << " in "
          << t.dir << " still run: " << absl::StrJoin(left, ", ");
    }
  }
};

const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new NoStrayServersEnvironment);

}  // namespace

void TrackServer(pid_t master_pid, const std::string& dir) {
  std::lock_guard<std::mutex> lock(TrackedMutex());
  TrackedServers().push_back({master_pid, dir});
}

SerialWatcher::SerialWatcher(std::string address, std::string server_name)
    : address_(std::move(address)), server_name_(std::move(server_name)) {
  thread_ = std::thread([this] { Run(); });
}

SerialWatcher::~SerialWatcher() { Stop(); }

void SerialWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void SerialWatcher::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    auto served = ProbeTls(address_, server_name_, absl::Seconds(2));
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    ++handshakes_;
    if (!served.ok()) {
      if (failures_++ == 0) first_error_ = served.status().ToString();
      continue;
    }
    auto [it, inserted] =
        seen_.try_emplace(served->serial_hex, std::pair{now, now});
    if (!inserted) it->second.second = now;
  }
}

std::optional<absl::Time> SerialWatcher::FirstSeen(
    const std::string& serial) const {
  absl::MutexLock lock(&mu_);
  auto it = seen_.find(serial);
  if (it == seen_.end()) return std::nullopt;
  return it->second.first;
}

std::optional<absl::Time> SerialWatcher::LastSeen(
    const std::string& serial) const {
  absl::MutexLock lock(&mu_);
  auto it = seen_.find(serial);
  if (it == seen_.end()) return std::nullopt;
  return it->second.second;
}

int SerialWatcher::handshakes() const {
  absl::MutexLock lock(&mu_);
  return handshakes_;
}

int SerialWatcher::failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

std::string SerialWatcher::first_error() const {
  absl::MutexLock lock(&mu_);
  return first_error_;
}

void Report(const std::string& what, absl::Duration value) {
  printf("[ MEASURED ] %s: %s\n", what.c_str(),
         absl::FormatDuration(value).c_str());
  fflush(stdout);
}

absl::StatusOr<int> PendingAccepts(int port) {
  absl::StatusOr<std::string> table = ReadWholeFile("/proc/net/tcp");
  if (!table.ok()) return table.status();
  // "sl local_address rem_address st tx_queue:rx_queue ...": for a socket
  // in LISTEN (st 0A), rx_queue is the length of its accept queue.
  // The address as the kernel prints it: the network-order bytes read as a
  // host integer.
  const std::string local =
      absl::StrFormat("%08X:%04X", htonl(INADDR_LOOPBACK), port);
  int pending = 0;
  for (absl::string_view line : absl::StrSplit(*table, '\n')) {
    const std::vector<absl::string_view> f =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 5 || f[1] != local || f[3] != "0A") continue;
    const std::vector<absl::string_view> queues = absl::StrSplit(f[4], ':');
    int rx = 0;
    if (queues.size() != 2 || !absl::SimpleHexAtoi(queues[1], &rx)) {
      return absl::InternalError(absl::StrCat("/proc/net/tcp: ", line));
    }
    pending += rx;
  }
  return pending;
}

}  // namespace certfleet::harness::testing
