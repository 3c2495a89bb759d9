#include "bench/failover_lab.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/context.h"
#include "common/status_macros.h"
#include "tests/harness/free_port.h"
#include "tests/harness/harness_files.h"

namespace certfleet::bench {
namespace {

// The etcd prefix of every replica (the coordinator's default).
constexpr char kPrefix[] = "/certfleet/";
constexpr absl::Duration kStartTimeout = absl::Seconds(60);

// True when something accepts TCP connections on 127.0.0.1:port.
bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok =
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// The HTTP status of GET `url` (0 when nothing answered within 2 s).
long HttpStatus(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return 0;
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, harness::AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_easy_cleanup(curl);
  return status;
}

std::string Quoted(const std::vector<std::string>& items) {
  return absl::StrCat("[\"", absl::StrJoin(items, "\", \""), "\"]");
}

// The text between `start` and the next `end` after it ("" when absent).
std::string Between(const std::string& text, const std::string& start,
                    const std::string& end) {
  const size_t at = text.find(start);
  if (at == std::string::npos) return "";
  const size_t from = at + start.size();
  return text.substr(from, text.find(end, from) - from);
}

}  // namespace

absl::Status PollUntil(const std::function<absl::StatusOr<bool>()>& done,
                       absl::Duration timeout, absl::Duration every,
                       const std::string& what) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (Interrupted()) {
      return absl::CancelledError(
          absl::StrCat("interrupted while waiting for ", what));
    }
    ASSIGN_OR_RETURN(const bool ok, done());
    if (ok) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "not within ", absl::FormatDuration(timeout), ": ", what));
    }
    absl::SleepFor(every);
  }
}

const std::vector<std::string>& FailoverLab::Replicas() {
  static const std::vector<std::string>* const names =
      new std::vector<std::string>{"coord-a", "coord-b", "coord-c"};
  return *names;
}

absl::StatusOr<std::unique_ptr<FailoverLab>> FailoverLab::Start(
    FailoverLabOptions options) {
  ASSIGN_OR_RETURN(std::string dir, harness::MakeHarnessTempDir("failover"));
  std::unique_ptr<FailoverLab> lab(new FailoverLab(std::move(options), dir));
  if (absl::Status s = lab->Init(); !s.ok()) {
    lab->keep_dir_ = true;  // for the logs the message points at
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), " (logs in ", dir, ")"));
  }
  return lab;
}

absl::Status FailoverLab::Init() {
  ASSIGN_OR_RETURN(
      etcd_, harness::EtcdCluster::Start({.extra_flags = options_.etcd_flags}));
  ASSIGN_OR_RETURN(client_,
                   etcd::EtcdClient::Create({.endpoints = etcd_->endpoints()}));
  if (options_.prepare) {
    RETURN_IF_ERROR(options_.prepare(etcd_->endpoints(), dir_));
  }
  for (const std::string& name : Replicas()) {
    Replica& r = replicas_.emplace_back();
    r.name = name;
    ASSIGN_OR_RETURN(r.agent_port, harness::PickFreePort());
    ASSIGN_OR_RETURN(r.metrics_port, harness::PickFreePort());
    if (options_.admin) {
      ASSIGN_OR_RETURN(r.admin_port, harness::PickFreePort());
    }
    for (const std::string& member : etcd_->endpoints()) {
      if (!options_.proxies) break;
      ASSIGN_OR_RETURN(std::unique_ptr<harness::TcpProxy> proxy,
                       harness::TcpProxy::Start(member));
      r.proxies.push_back(std::move(proxy));
    }
    RETURN_IF_ERROR(WriteReplicaConfig(r));
    RETURN_IF_ERROR(StartReplica(r));
  }
  // Tokens are made from the store and agents trust the internal CA file:
  // both need the replicas up (the first one creates the CA).
  const std::string ca = absl::StrCat(dir_, "/internal-ca.pem");
  RETURN_IF_ERROR(PollUntil(
      [&]() -> absl::StatusOr<bool> {
        RETURN_IF_ERROR(CheckRunning());
        for (const std::string& name : Replicas()) {
          if (!Ready(name)) return false;
        }
        return access(ca.c_str(), R_OK) == 0;
      },
      kStartTimeout, absl::Milliseconds(50),
      absl::StrCat("the replicas to be ready and ", ca, " written")));
  for (int i = 0; i < options_.agents; ++i) RETURN_IF_ERROR(EnrollAgent(i));
  for (Agent& a : agents_) RETURN_IF_ERROR(StartAgent(a));
  return PollUntil(
      [&]() -> absl::StatusOr<bool> {
        RETURN_IF_ERROR(CheckRunning());
        ASSIGN_OR_RETURN(const auto presence, Presence());
        for (const Agent& a : agents_) {
          const auto it = presence.find(a.id);
          if (it == presence.end() || it->second != a.home) return false;
        }
        return true;
      },
      kStartTimeout, absl::Milliseconds(50),
      "every agent connected to its home replica");
}

FailoverLab::~FailoverLab() {
  // A stopped process takes SIGTERM only once continued: thaw before the
  // harness stops it, or its stop waits 3 s for nothing, then SIGKILLs.
  for (Replica& r : replicas_) {
    if (r.frozen && r.process != nullptr) kill(r.process->pid(), SIGCONT);
  }
  agents_.clear();
  replicas_.clear();
  client_.reset();
  etcd_.reset();
  if (!keep_dir_) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

absl::Status FailoverLab::WriteReplicaConfig(Replica& r) {
  std::vector<std::string> endpoints;
  for (const auto& proxy : r.proxies) endpoints.push_back(proxy->address());
  if (!options_.proxies) endpoints = etcd_->endpoints();
  std::string ha = absl::StrCat(
      "ha:\n  lease_ttl: ", absl::FormatDuration(options_.lease_ttl),
      "\n  replica: ", r.name, "\n");
  if (options_.cut_off_after > absl::ZeroDuration()) {
    absl::StrAppend(&ha, "  cut_off_after: ",
                    absl::FormatDuration(options_.cut_off_after), "\n");
  }
  r.config = absl::StrCat(dir_, "/", r.name, ".yaml");
  // By default an issuer nobody answers: the replicas only elect, serve
  // agents and publish where the agents are; no certificate is issued.
  std::string issuance = options_.issuance_config;
  if (issuance.empty()) {
    issuance = absl::StrCat(
        "dns:\n  resolvers: [127.0.0.1:9]\n",
        "scheduler:\n  retry_initial: 10m\n",
        "issuers:\n  - name: nowhere\n    directory: "
        "https://127.0.0.1:9/dir\n",
        "dns_providers:\n  - name: lab\n    type: rfc2136\n",
        "    zones: [example.test]\n    rfc2136:\n      server: "
        "127.0.0.1:9\n",
        "      tsig_key_name: k\n      tsig_secret: c2VjcmV0LXNlY3JldA==\n",
        "certificates:\n  - name: www\n    names: [www.example.test]\n",
        "    issuer: nowhere\n");
  }
  const std::string admin =
      r.admin_port == 0
          ? ""
          : absl::StrCat("admin:\n  listen: 127.0.0.1:", r.admin_port, "\n");
  return harness::WriteFileAtomically(
      r.config,
      absl::StrCat(
          "store:\n  type: etcd\n  etcd:\n    endpoints: ", Quoted(endpoints),
          "\n", ha, "agents:\n  listen: 127.0.0.1:", r.agent_port, "\n",
          "metrics:\n  listen: 127.0.0.1:", r.metrics_port, "\n", admin,
          "key_encryption_key_file: ", dir_, "/kek\n",
          "internal_ca_file: ", dir_, "/internal-ca.pem\n", issuance),
      0600);
}

absl::Status FailoverLab::StartReplica(Replica& r) {
  ASSIGN_OR_RETURN(
      r.process,
      harness::ServerProcess::Start(
          {.name = r.name,
           .argv = {options_.coordinator, "serve", "--config", r.config},
           .log_path = absl::StrCat(dir_, "/", r.name, ".log")}));
  r.frozen = false;
  return absl::OkStatus();
}

absl::Status FailoverLab::EnrollAgent(int i) {
  Agent& a = agents_.emplace_back();
  const Replica& home = replicas_[i % replicas_.size()];
  a.home = home.name;
  a.dir = absl::StrCat(dir_, "/agent-", i);
  if (mkdir(a.dir.c_str(), 0700) != 0) {
    return absl::InternalError(
        absl::StrCat("mkdir ", a.dir, ": ", strerror(errno)));
  }
  // Its home first, then the others in turn, so every replica starts with
  // agents and each agent knows where to go when its home fails.
  std::vector<std::string> coordinators;
  for (size_t k = 0; k < replicas_.size(); ++k) {
    coordinators.push_back(absl::StrCat(
        "127.0.0.1:", replicas_[(i + k) % replicas_.size()].agent_port));
  }
  const std::string config = a.dir + "/agent.yaml";
  RETURN_IF_ERROR(harness::WriteFileAtomically(
      config, absl::StrCat("coordinators: ", Quoted(coordinators),
                           "\ncoordinator_ca: ", dir_, "/internal-ca.pem\n",
                           "identity_dir: ", a.dir, "/identity\n",
                           "targets:\n  - name: www\n    directory: ", a.dir,
                           "/www\n    files:\n",
                           "      - {path: fullchain.pem, format: fullchain}\n",
                           "      - {path: key.pem, format: key}\n",
                           "    reload: {command: [/bin/true]}\n")));
  ASSIGN_OR_RETURN(
      const std::string created,
      harness::RunTool({options_.coordinator, "token", "create", "--config",
                        home.config, "--labels", "role=web", "-o", "json"}));
  const std::string token = Between(created, "\"cft1.", "\"");
  if (token.empty()) {
    return absl::InternalError(absl::StrCat("no cft1. token in: ", created));
  }
  const std::string token_file = a.dir + "/token";
  RETURN_IF_ERROR(
      harness::WriteFileAtomically(token_file, "cft1." + token, 0600));
  ASSIGN_OR_RETURN(const std::string enrolled,
                   harness::RunTool({options_.agent, "enroll", "--config",
                                     config, "--token-file", token_file}));
  a.id = Between(enrolled, "enrolled as ", ";");
  if (a.id.empty()) {
    return absl::InternalError(
        absl::StrCat("agent-", i, ": no agent id in: ", enrolled));
  }
  return absl::OkStatus();
}

absl::Status FailoverLab::StartAgent(Agent& a) {
  ASSIGN_OR_RETURN(
      a.process,
      harness::ServerProcess::Start(
          {.name = a.id,
           .argv = {options_.agent, "run", "--config", a.dir + "/agent.yaml"},
           .log_path = a.dir + "/agent.log"}));
  return absl::OkStatus();
}

absl::StatusOr<FailoverLab::Replica*> FailoverLab::Find(const std::string& name,
                                                        bool running) {
  for (Replica& r : replicas_) {
    if (r.name != name) continue;
    if (running && r.process == nullptr) {
      return absl::FailedPreconditionError(name + " is not running");
    }
    return &r;
  }
  return absl::NotFoundError(absl::StrCat("no replica \"", name, "\""));
}

absl::Status FailoverLab::Kill(const std::string& name) {
  ASSIGN_OR_RETURN(Replica * r, Find(name, true));
  r->process->Kill();
  r->process.reset();
  return absl::OkStatus();
}

absl::Status FailoverLab::Restart(const std::string& name) {
  ASSIGN_OR_RETURN(Replica * r, Find(name, false));
  return StartReplica(*r);
}

absl::Status FailoverLab::Freeze(const std::string& name) {
  ASSIGN_OR_RETURN(Replica * r, Find(name, true));
  if (kill(r->process->pid(), SIGSTOP) != 0) {
    return absl::InternalError(
        absl::StrCat("SIGSTOP ", name, ": ", strerror(errno)));
  }
  r->frozen = true;
  return absl::OkStatus();
}

absl::Status FailoverLab::Thaw(const std::string& name) {
  ASSIGN_OR_RETURN(Replica * r, Find(name, true));
  if (kill(r->process->pid(), SIGCONT) != 0) {
    return absl::InternalError(
        absl::StrCat("SIGCONT ", name, ": ", strerror(errno)));
  }
  r->frozen = false;
  return absl::OkStatus();
}

absl::Status FailoverLab::CutOff(const std::string& name) {
  ASSIGN_OR_RETURN(Replica * r, Find(name, false));
  for (auto& proxy : r->proxies) proxy->Cut();
  return absl::OkStatus();
}

absl::Status FailoverLab::Reconnect(const std::string& name) {
  ASSIGN_OR_RETURN(Replica * r, Find(name, false));
  for (auto& proxy : r->proxies) proxy->Heal();
  return absl::OkStatus();
}

pid_t FailoverLab::pid(const std::string& name) {
  absl::StatusOr<Replica*> r = Find(name, true);
  return r.ok() ? (*r)->process->pid() : 0;
}

int FailoverLab::agent_port(const std::string& name) {
  absl::StatusOr<Replica*> r = Find(name, false);
  return r.ok() ? (*r)->agent_port : 0;
}

int FailoverLab::admin_port(const std::string& name) {
  absl::StatusOr<Replica*> r = Find(name, false);
  return r.ok() ? (*r)->admin_port : 0;
}

std::string FailoverLab::config_path(const std::string& name) {
  absl::StatusOr<Replica*> r = Find(name, false);
  return r.ok() ? (*r)->config : "";
}

absl::Status FailoverLab::CheckRunning() {
  std::vector<harness::ServerProcess*> processes;
  for (Replica& r : replicas_) processes.push_back(r.process.get());
  for (Agent& a : agents_) processes.push_back(a.process.get());
  for (harness::ServerProcess* p : processes) {
    if (p != nullptr && !p->Running()) {
      return absl::FailedPreconditionError(
          absl::StrCat(p->name(), " exited; its log (", p->log_path(),
                       ") ends:\n", p->LogTail()));
    }
  }
  return absl::OkStatus();
}

bool FailoverLab::Ready(const std::string& name) {
  absl::StatusOr<Replica*> r = Find(name, true);
  if (!r.ok() || (*r)->frozen) return false;
  return Accepts((*r)->agent_port) &&
         HttpStatus(absl::StrCat("http://127.0.0.1:", (*r)->metrics_port,
                                 "/readyz")) == 200;
}

LeaderKey FailoverLab::Leader() {
  absl::StatusOr<etcd::GetResult> got = client_->Get(
      absl::StrCat(kPrefix, "leader"),
      Context::Background().WithDeadline(absl::Now() + absl::Seconds(2)));
  if (!got.ok() || !got->kv.has_value()) return {};
  return {got->kv->value, got->kv->create_revision};
}

absl::StatusOr<std::map<std::string, std::string>> FailoverLab::Presence() {
  const std::string prefix = absl::StrCat(kPrefix, "presence/");
  ASSIGN_OR_RETURN(etcd::RangeResult range,
                   client_->Range(etcd::KeyRange::Prefix(prefix), 0,
                                  Context::Background().WithDeadline(
                                      absl::Now() + absl::Seconds(2))));
  // presence/<agent>/<replica>: an agent briefly has two keys while the
  // replica it left has not cleared its own; the newest is where it is.
  std::map<std::string, std::string> out;
  std::map<std::string, int64_t> newest;
  for (const etcd::KeyValue& kv : range.kvs) {
    const std::string rest = kv.key.substr(prefix.size());
    const std::string agent = rest.substr(0, rest.find('/'));
    if (kv.create_revision > newest[agent]) {
      newest[agent] = kv.create_revision;
      out[agent] = kv.value;
    }
  }
  return out;
}

std::string FailoverLab::AgentSaysConnectedTo(int i) const {
  absl::StatusOr<std::string> log =
      harness::ReadWholeFile(agents_[i].dir + "/agent.log");
  if (!log.ok()) return "";
  const std::string connected = "connected to coordinator ";
  const size_t at = log->rfind(connected);
  // "coordinator ADDR: WHY; reconnecting in D" (or "retrying in D", when
  // refused) ends every stream.
  for (const char* end : {"; reconnecting in ", "; retrying in "}) {
    const size_t ended = log->rfind(end);
    if (ended != std::string::npos && ended > at) return "";
  }
  if (at == std::string::npos) return "";
  const size_t from = at + connected.size();
  const std::string address = log->substr(from, log->find(' ', from) - from);
  for (const Replica& r : replicas_) {
    if (address == absl::StrCat("127.0.0.1:", r.agent_port)) return r.name;
  }
  return address;
}

absl::Status FailoverLab::RestartAgents(const std::vector<int>& agents) {
  for (int i : agents) agents_[i].process.reset();  // SIGTERM, reaped
  // Start the agents again only once their old replica cleared its key, so
  // every round starts from one key per agent.
  RETURN_IF_ERROR(PollUntil(
      [&]() -> absl::StatusOr<bool> {
        ASSIGN_OR_RETURN(const auto presence, Presence());
        for (int i : agents) {
          if (presence.count(agents_[i].id)) return false;
        }
        return true;
      },
      kStartTimeout, absl::Milliseconds(50),
      "the stopped agents' presence keys to go"));
  // A pause of two presence rounds (0.5 s each) lets every replica see
  // them gone before they come back.
  absl::SleepFor(absl::Seconds(1));
  for (int i : agents) RETURN_IF_ERROR(StartAgent(agents_[i]));
  return absl::OkStatus();
}

}  // namespace certfleet::bench
