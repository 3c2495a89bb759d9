#include "bench/fanout_lab.h"

#include <curl/curl.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/direct_enrollment.h"
#include "bench/fleet_coordinator.h"
#include "bench/sim_agents.h"
#include "bench/sqlite_query.h"
#include "common/context.h"
#include "common/status_macros.h"
#include "coordinator/store/sqlite_store.h"
#include "coordinator/store/version_id.h"
#include "tests/harness/free_port.h"
#include "tests/harness/harness_files.h"

namespace certfleet::bench {
namespace {

constexpr char kSingle[] = "coordinator";
constexpr char kAdminName[] = "bench";
// Enrolling 10,000 agents one after another into etcd waits mostly for
// its fsyncs: a few threads overlap them.
constexpr int kEtcdEnrollThreads = 6;

// `text` bound to the statement's ?1.
std::function<void(sqlite3_stmt*)> BindText(const std::string& text) {
  return [text](sqlite3_stmt* stmt) {
    sqlite3_bind_text(stmt, 1, text.c_str(), -1, SQLITE_TRANSIENT);
  };
}

// The body of GET `url` ("" when nothing answered within 2 s).
std::string HttpGet(const std::string& url) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return "";
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, harness::AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  if (curl_easy_perform(curl) != CURLE_OK) body.clear();
  curl_easy_cleanup(curl);
  return body;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FanoutLab>> FanoutLab::Start(
    FanoutLabOptions options) {
  ASSIGN_OR_RETURN(std::string dir, harness::MakeHarnessTempDir("fanout"));
  std::unique_ptr<FanoutLab> lab(new FanoutLab(std::move(options), dir));
  if (absl::Status s = lab->Init(); !s.ok()) {
    lab->KeepDir();  // for the logs the message points at
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), " (files in ", dir, ")"));
  }
  return lab;
}

FanoutLab::~FanoutLab() {
  // The watch's callback uses members declared after it.
  if (watch_ != nullptr) watch_->Cancel();
  watch_.reset();
  loadgens_.clear();
  single_.reset();
  replicas_.reset();
  etcd_store_.reset();
  client_.reset();
  issuance_.reset();
  if (!keep_dir_) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

void FanoutLab::KeepDir() {
  keep_dir_ = true;
  if (replicas_ != nullptr) replicas_->KeepDir();
}

absl::Status FanoutLab::Init() {
  ASSIGN_OR_RETURN(issuance_, BenchLab::Start({}));
  if (!options_.ha) {
    {
      ASSIGN_OR_RETURN(std::unique_ptr<store::SqliteStore> store,
                       store::SqliteStore::Open(dir_ + "/store.db"));
      RETURN_IF_ERROR(Enroll(*store, dir_ + "/kek"));
    }  // closed before the coordinator opens it
    RETURN_IF_ERROR(StartSingle());
    return CreateAdminIdentity();
  }
  FailoverLabOptions ha{.coordinator = options_.coordinator,
                        .agents = 0,
                        .proxies = false,
                        .admin = true,
                        .issuance_config = CommonConfig()};
  if (options_.etcd_max_request_bytes > 0) {
    ha.etcd_flags = {"--max-request-bytes",
                     absl::StrCat(options_.etcd_max_request_bytes)};
  }
  ha.prepare = [this](const std::vector<std::string>& endpoints,
                      const std::string& dir) -> absl::Status {
    ASSIGN_OR_RETURN(
        client_, etcd::EtcdClient::Create({.endpoints = endpoints,
                                           .call_timeout = absl::Seconds(10)}));
    ASSIGN_OR_RETURN(etcd_store_, store::EtcdStore::Open(
                                      {.client = client_.get(),
                                       .request_timeout = absl::Seconds(10)}));
    return Enroll(*etcd_store_, dir + "/kek");
  };
  ASSIGN_OR_RETURN(replicas_, FailoverLab::Start(std::move(ha)));
  return CreateAdminIdentity();
}

absl::Status FanoutLab::Enroll(store::Store& store,
                               const std::string& kek_path) {
  ASSIGN_OR_RETURN(std::unique_ptr<DirectEnrollment> direct,
                   DirectEnrollment::Create(store, kek_path));
  const int n = options_.agents;
  std::vector<SimIdentity> identities(n);
  std::atomic<int> next{0}, done{0};
  absl::Mutex mu;
  absl::Status first;
  const absl::Time start = absl::Now();
  auto work = [&] {
    for (int i = next++; i < n; i = next++) {
      absl::StatusOr<DirectEnrollment::Identity> id =
          direct->Enroll(absl::StrCat("sim-", i));
      if (!id.ok()) {
        absl::MutexLock lock(&mu);
        if (first.ok()) first = id.status();
        return;
      }
      identities[i] = {std::move(id->key_pem), std::move(id->cert_pem)};
      if (++done % 2000 == 0) {
        printf("  enrolled %d agents in %.1f s\n", done.load(),
               absl::ToDoubleSeconds(absl::Now() - start));
        fflush(stdout);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < (options_.ha ? kEtcdEnrollThreads : 1); ++t) {
    threads.emplace_back(work);
  }
  for (std::thread& t : threads) t.join();
  RETURN_IF_ERROR(first);
  // Agent i is held by load generator i mod loadgens.
  const size_t loadgens = static_cast<size_t>(options_.loadgens);
  std::vector<std::vector<SimIdentity>> split(loadgens);
  for (int i = 0; i < n; ++i) {
    split[i % loadgens].push_back(std::move(identities[i]));
  }
  for (size_t k = 0; k < loadgens; ++k) {
    agents_per_.push_back(static_cast<int>(split[k].size()));
    RETURN_IF_ERROR(harness::WriteFileAtomically(
        absl::StrCat(dir_, "/identities-", k, ".pem"),
        FormatIdentities(split[k]), 0600));
  }
  return harness::WriteFileAtomically(dir_ + "/ca.pem", direct->ca_pem(), 0644);
}

std::string FanoutLab::CommonConfig() const {
  // One wave of every target at once: the fan-out, not a policy's waits.
  return absl::StrCat(
      issuance_->IssuanceConfig(""),
      "certificates:\n  - name: ", kBenchCertificate, "\n    names: [www.",
      kBenchZone, "]\n",
      "    issuer: pebble\n    targets:\n      - target: ", kBenchTarget, "\n",
      "rollout:\n  waves: [100%]\n  pool_label: \"\"\n",
      "  max_unavailable: 100%\n  bake_time: 0s\n");
}

absl::Status FanoutLab::StartSingle() {
  ASSIGN_OR_RETURN(agent_port_, harness::PickFreePort());
  ASSIGN_OR_RETURN(const int metrics_port, harness::PickFreePort());
  ASSIGN_OR_RETURN(admin_port_, harness::PickFreePort());
  const std::string config = dir_ + "/coordinator.yaml";
  RETURN_IF_ERROR(harness::WriteFileAtomically(
      config,
      absl::StrCat("store:\n  type: sqlite\n  path: ", dir_, "/store.db\n",
                   "key_encryption_key_file: ", dir_, "/kek\n",
                   "internal_ca_file: ", dir_, "/internal-ca.pem\n",
                   "agents:\n  listen: 127.0.0.1:", agent_port_,
                   "\n  server_names: [127.0.0.1]\n",
                   "metrics:\n  listen: 127.0.0.1:", metrics_port, "\n",
                   "admin:\n  listen: 127.0.0.1:", admin_port_, "\n",
                   CommonConfig()),
      0600));
  ASSIGN_OR_RETURN(
      single_, harness::ServerProcess::Start(
                   {.name = "certfleet-coordinator",
                    .argv = {options_.coordinator, "serve", "--config", config},
                    .log_path = dir_ + "/coordinator.log"}));
  return harness::WaitForTcpPort(agent_port_, absl::Seconds(60), single_.get());
}

absl::Status FanoutLab::CreateAdminIdentity() {
  const std::string config = options_.ha
                                 ? replicas_->config_path(Coordinators()[0])
                                 : dir_ + "/coordinator.yaml";
  return harness::RunTool({options_.coordinator, "admin-identity", "create",
                           "--config", config, "--name", kAdminName, "--out",
                           dir_ + "/admin.pem"})
      .status();
}

std::vector<std::string> FanoutLab::Coordinators() const {
  if (options_.ha) return FailoverLab::Replicas();
  return {kSingle};
}

pid_t FanoutLab::pid(const std::string& coordinator) {
  if (options_.ha) return replicas_->pid(coordinator);
  return coordinator == kSingle && single_ ? single_->pid() : 0;
}

int FanoutLab::admin_port(const std::string& coordinator) {
  return options_.ha ? replicas_->admin_port(coordinator) : admin_port_;
}

std::string FanoutLab::Leader() {
  return options_.ha ? replicas_->Leader().replica : kSingle;
}

absl::Status FanoutLab::CheckRunning() {
  if (options_.ha) {
    RETURN_IF_ERROR(replicas_->CheckRunning());
  } else if (!single_->Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the coordinator exited; its log (", single_->log_path(),
                     ") ends:\n", single_->LogTail()));
  }
  for (Loadgen& lg : loadgens_) {
    absl::StatusOr<LoadgenStatus> s = lg.Status();
    if (absl::IsFailedPrecondition(s.status())) return s.status();
  }
  return absl::OkStatus();
}

absl::Status FanoutLab::StartAgents() {
  const std::vector<std::string> names = Coordinators();
  for (size_t k = 0; k < agents_per_.size(); ++k) {
    const std::string& name = names[k % names.size()];
    const int port = options_.ha ? replicas_->agent_port(name) : agent_port_;
    ASSIGN_OR_RETURN(
        Loadgen lg,
        Loadgen::Start(
            {.loadgen = options_.loadgen,
             .address = absl::StrCat("127.0.0.1:", port),
             .ca_path = dir_ + "/ca.pem",
             .identities_path = absl::StrCat(dir_, "/identities-", k, ".pem"),
             .max_connecting = options_.max_connecting,
             .log_path =
                 absl::StrCat(dir_, "/loadgen-", k, "-", name, ".log")}));
    loadgens_.push_back(std::move(lg));
  }
  return absl::OkStatus();
}

int FanoutLab::agents_on(const std::string& coordinator) const {
  const std::vector<std::string> names = Coordinators();
  int n = 0;
  for (size_t k = 0; k < agents_per_.size(); ++k) {
    if (names[k % names.size()] == coordinator) n += agents_per_[k];
  }
  return n;
}

absl::Status FanoutLab::Renew() {
  const std::string leader = Leader();
  if (leader.empty()) return absl::UnavailableError("no leader to renew with");
  return harness::RunTool({options_.ctl, "--coordinator",
                           absl::StrCat("127.0.0.1:", admin_port(leader)),
                           "--identity", dir_ + "/admin.pem", "renew",
                           kBenchCertificate})
      .status();
}

absl::StatusOr<int64_t> FanoutLab::NewestVersion() {
  if (!options_.ha) {
    return QueryInt(dir_ + "/store.db",
                    "SELECT COALESCE(MAX(version), 0) FROM versions "
                    "WHERE cert_name = ?1",
                    BindText(kBenchCertificate));
  }
  ASSIGN_OR_RETURN(std::optional<store::VersionRecord> v,
                   etcd_store_->LatestVersion(kBenchCertificate));
  return v.has_value() ? v->version : 0;
}

absl::Status FanoutLab::WaitForVersion(int64_t version,
                                       absl::Duration timeout) {
  return PollUntil(
      [&]() -> absl::StatusOr<bool> {
        RETURN_IF_ERROR(CheckRunning());
        absl::StatusOr<int64_t> newest = NewestVersion();
        return newest.ok() && *newest >= version;
      },
      timeout, absl::Milliseconds(10),
      absl::StrCat("version ", version, " of ", kBenchCertificate,
                   " to be stored"));
}

absl::Status FanoutLab::WatchInstalls() {
  if (!options_.ha || watch_ != nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(
      watch_,
      etcd_store_->WatchTargetStates(
          [this](const store::TargetStateRecord& s) {
            if (s.target != kBenchTarget || s.installed_version_id.empty()) {
              return;
            }
            const absl::Time now = absl::Now();
            absl::MutexLock lock(&mu_);
            if (installed_[s.installed_version_id].insert(s.agent_id).second) {
              last_installed_[s.installed_version_id] = now;
            }
          },
          [](const absl::Status& why) {
            if (absl::IsCancelled(why)) return;  // the lab stopping
            fprintf(stderr, "the watch of target states ended: %s\n",
                    why.ToString().c_str());
          }));
  return absl::OkStatus();
}

absl::StatusOr<FanoutLab::Installed> FanoutLab::InstalledCount(
    const std::string& version_id) {
  if (!options_.ha) {
    ASSIGN_OR_RETURN(const int64_t count,
                     QueryInt(dir_ + "/store.db",
                              "SELECT COUNT(*) FROM target_states WHERE "
                              "target = 'site' AND installed_version_id = ?1",
                              BindText(version_id)));
    return Installed{static_cast<int>(count), absl::Now()};
  }
  absl::MutexLock lock(&mu_);
  auto it = installed_.find(version_id);
  if (it == installed_.end()) return Installed{};
  return Installed{static_cast<int>(it->second.size()),
                   last_installed_[version_id]};
}

absl::StatusOr<int64_t> FanoutLab::EtcdRevision() {
  if (!options_.ha) return absl::FailedPreconditionError("no etcd");
  ASSIGN_OR_RETURN(
      etcd::GetResult got,
      client_->Get("/certfleet/leader", Context::Background().WithDeadline(
                                            absl::Now() + absl::Seconds(5))));
  return got.revision;
}

std::map<std::string, double> FanoutLab::EtcdMetrics(
    const std::vector<std::string>& names) {
  std::map<std::string, double> out;
  for (const std::string& name : names) out[name] = -1;
  if (!options_.ha) return out;
  const std::vector<std::string> members = replicas_->etcd_endpoints();
  for (size_t m = 0; m < members.size(); ++m) {
    const std::string body =
        HttpGet(absl::StrCat("http://", members[m], "/metrics"));
    for (absl::string_view line : absl::StrSplit(body, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      const size_t space = line.rfind(' ');
      if (space == absl::string_view::npos) continue;
      const std::string key(line.substr(0, space));
      auto it = out.find(key);
      double v = 0;
      if (it == out.end() || !absl::SimpleAtod(line.substr(space + 1), &v)) {
        continue;
      }
      // Each member applies every write, so its store's counters are the
      // cluster's (member 0's are taken); client traffic is per member, so
      // it is summed.
      if (absl::StartsWith(key, "etcd_network_client_")) {
        it->second = (m == 0 ? 0 : it->second) + v;
      } else if (m == 0) {
        it->second = v;
      }
    }
  }
  return out;
}

}  // namespace certfleet::bench
