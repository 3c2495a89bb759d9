#include "tests/fleet_rollout/rollout_lab.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/client/identity.h"
#include "common/crypto/public_key.h"
#include "common/filesystem.h"
#include "common/status_macros.h"
#include "coordinator/store/version_id.h"
#include "gtest/gtest.h"
#include "tests/agent_web/agent_web_support.h"
#include "tests/crypto/test_certs.h"
#include "tests/delivery/test_versions.h"
#include "tests/harness/tls_probe.h"
#include "tests/testing/wait_for.h"

namespace certfleet::fleet_rollout {
namespace {

using ::certfleet::testing::WaitForOk;

// The CA of every version the lab publishes and of the placeholders.
const crypto::testing::TestCa& Issuer() {
  static const auto* ca = new crypto::testing::TestCa(
      crypto::testing::TestCa::Create("Fleet Rollout Test"));
  return *ca;
}

config::CertificateConfig WebCertificate(rollout::RolloutPolicy policy) {
  config::CertificateConfig c;
  c.name = kCertificate;
  c.names = {kServerName};
  c.issuer = "test";
  c.targets = {{.agent_labels = {{"role", "web"}}, .target = "www"}};
  c.rollout = std::move(policy);
  return c;
}

absl::Status WriteText(const std::string& path, const std::string& text,
                       mode_t mode = 0644) {
  LocalFilesystem fs;
  RETURN_IF_ERROR(fs.WriteFileAtomic(path, text, mode));
  return absl::OkStatus();
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("mkdir ", path));
  }
  return absl::OkStatus();
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

std::string FileTail(const std::string& path, size_t max_bytes) {
  LocalFilesystem fs;
  absl::StatusOr<std::string> text = fs.ReadFile(path);
  if (!text.ok()) return "";
  return text->size() <= max_bytes ? *text
                                   : text->substr(text->size() - max_bytes);
}

}  // namespace

RolloutLab::RolloutLab(rollout::RolloutPolicy policy, LabOptions options)
    : options_(options),
      certificates_({WebCertificate(std::move(policy))}),
      assignments_(certificates_) {}

absl::StatusOr<std::unique_ptr<RolloutLab>> RolloutLab::Start(
    rollout::RolloutPolicy policy, LabOptions options) {
  std::unique_ptr<RolloutLab> lab(new RolloutLab(std::move(policy), options));
  RETURN_IF_ERROR(lab->StartCoordinator());
  RETURN_IF_ERROR(lab->EnrollAgents());
  RETURN_IF_ERROR(lab->StartFleet());
  RETURN_IF_ERROR(lab->WaitForFirstVersion());
  return lab;
}

RolloutLab::~RolloutLab() {
  for (LabAgent& a : agents_) a.process.reset();
  for (LabAgent& a : agents_) a.nginx.reset();
  StopCoordinator();
  if (::testing::Test::HasFailure()) {
    tmp_.Keep();
    fprintf(stderr, "rollout lab kept in %s\n", tmp_.path().c_str());
  }
}

absl::Status RolloutLab::StartCoordinator() {
  LocalFilesystem fs;
  if (!kek_.has_value()) {
    ASSIGN_OR_RETURN(crypto::Kek kek,
                     crypto::Kek::LoadOrCreate(tmp_.File("kek"), fs));
    kek_.emplace(std::move(kek));
  }
  ASSIGN_OR_RETURN(store_, store::SqliteStore::Open(tmp_.File("store.db")));
  ASSIGN_OR_RETURN(ca_,
                   identity::InternalCa::LoadOrCreate(*store_, *kek_, clock_));
  tokens_ = std::make_unique<identity::BootstrapTokens>(*store_, clock_);
  enrollment_ = std::make_unique<identity::EnrollmentService>(
      *store_, *ca_, *tokens_, clock_,
      identity::EnrollmentOptions{.identity_lifetime = absl::Hours(24)});
  hub_ = std::make_unique<delivery::AgentHub>(
      *store_, *kek_, assignments_, *enrollment_, ca_->ca_pem(), clock_);
  staleness_ =
      std::make_unique<delivery::Staleness>(options_.stale_after, clock_.Now());
  // Steps every 250 ms (2 s in production) so bakes of a second end on
  // time; agent reports poke it anyway.
  runner_ = std::make_unique<rollout::RolloutRunner>(
      *store_, *hub_, certificates_, assignments_, clock_,
      rollout::RolloutRunnerOptions{.interval = absl::Milliseconds(250),
                                    .staleness = staleness_.get()});
  RETURN_IF_ERROR(runner_->Resume());
  hub_->SetReportListener([runner = runner_.get()] { runner->Poke(); });
  runner_->Start();
  admin_ = std::make_unique<adminapi::AdminBackend>(
      *store_, *tokens_, clock_,
      adminapi::AdminBackendOptions{
          .certificates = certificates_,
          .connected_agents =
              [hub = hub_.get()] { return hub->ConnectedSince(); },
          .staleness = staleness_.get(),
          .agent_changed =
              [hub = hub_.get()](const std::string& id) {
                hub->AgentChanged(id);
              },
          .poke_rollouts = [runner = runner_.get()] { runner->Poke(); },
          .skip_host =
              [runner = runner_.get()](const std::string& certificate,
                                       const std::string& agent_id,
                                       const std::string& actor) {
                return runner->Skip(certificate, agent_id, actor);
              }});
  ASSIGN_OR_RETURN(admin_server_,
                   adminapi::AdminServer::Start(
                       {.listen = "127.0.0.1:0", .server_names = {"127.0.0.1"}},
                       *ca_, *admin_));
  const crypto::PrivateKey admin_key = crypto::testing::GenerateKeyOrDie();
  ASSIGN_OR_RETURN(
      std::string admin_cert,
      ca_->IssueAdminIdentity("alice", crypto::PublicKey::Of(admin_key),
                              absl::Hours(24 * 7)));
  ASSIGN_OR_RETURN(std::string admin_key_pem, admin_key.ToPem());
  admin_client_ = ctl::AdminClient::Connect(
      absl::StrCat("127.0.0.1:", admin_server_->port()),
      {.key_pem = admin_key_pem,
       .cert_pem = admin_cert,
       .ca_pem = ca_->ca_pem()},
      absl::Seconds(20));
  ASSIGN_OR_RETURN(server_, agentapi::AgentServer::Start(
                                {.listen = absl::StrCat("127.0.0.1:", port_),
                                 .server_names = {"127.0.0.1"}},
                                *ca_, *enrollment_, *hub_));
  port_ = server_->port();
  return absl::OkStatus();
}

void RolloutLab::StopCoordinator() {
  // The order of Coordinator's destructor: streams, the runner's thread,
  // the hub, then what they used.
  if (server_) server_->Shutdown(absl::ZeroDuration());
  server_.reset();
  if (runner_) runner_->Stop();
  admin_client_.reset();
  if (admin_server_) admin_server_->Shutdown(absl::ZeroDuration());
  admin_server_.reset();
  admin_.reset();
  hub_.reset();
  runner_.reset();
  staleness_.reset();
  enrollment_.reset();
  tokens_.reset();
  ca_.reset();
  store_.reset();
}

absl::StatusOr<LabVersion> RolloutLab::Publish(absl::Duration lifetime) {
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(delivery::testing::TestVersion v,
                   delivery::testing::MakeTestVersion(
                       Issuer(), *kek_,
                       {.certificate = kCertificate,
                        .names = {kServerName},
                        .not_before = now - absl::Hours(1),
                        .not_after = now + lifetime,
                        .serial_hex = absl::StrFormat("5e%04x", next_serial_++),
                        .created_at = now}));
  ASSIGN_OR_RETURN(const int64_t number, store_->AddVersion(v.record));
  RETURN_IF_ERROR(runner_->OnVersionStored(kCertificate, number));
  return LabVersion{number, store::VersionId(kCertificate, number),
                    v.record.serial_hex};
}

absl::StatusOr<store::RolloutRecord> RolloutLab::LatestRollout() {
  ASSIGN_OR_RETURN(
      std::vector<store::RolloutRecord> all,
      store_->ListRollouts({.certificate = kCertificate, .limit = 1}));
  if (all.empty()) return absl::NotFoundError("no rollout of web yet");
  return all.front();
}

absl::StatusOr<rollout::RolloutState> RolloutLab::LatestState() {
  ASSIGN_OR_RETURN(store::RolloutRecord r, LatestRollout());
  return rollout::RolloutStateFromJson(r.state_json);
}

absl::Status RolloutLab::WaitForState(
    const std::function<bool(const rollout::RolloutState&)>& condition,
    const std::string& what, absl::Duration timeout) {
  return WithAgentLogs(WaitForOk(
      absl::StrCat("the rollout to be ", what),
      [&]() -> absl::Status {
        ASSIGN_OR_RETURN(store::RolloutRecord r, LatestRollout());
        absl::StatusOr<rollout::RolloutState> s =
            rollout::RolloutStateFromJson(r.state_json);
        if (s.ok() && condition(*s)) return absl::OkStatus();
        return absl::FailedPreconditionError("state " + r.state_json);
      },
      timeout));
}

absl::Status RolloutLab::WaitForPhase(const std::string& phase,
                                      absl::Duration timeout) {
  return WaitForState(
      [&](const rollout::RolloutState& s) {
        return rollout::PhaseName(s.phase) == phase;
      },
      phase, timeout);
}

absl::Status RolloutLab::WriteAgentConfig(LabAgent& agent) const {
  std::vector<std::string> reload = {tmp_.File("reload.sh"),
                                     agent.dir + "/reload.log"};
  if (agent.nginx) {
    for (const std::string& arg : agent.nginx->ReloadCommand()) {
      reload.push_back(arg);
    }
  } else {
    reload.push_back("/bin/true");
  }
  std::vector<std::string> quoted;
  for (const std::string& arg : reload) quoted.push_back(Quoted(arg));
  std::string yaml = absl::StrCat(
      "coordinators: [\"127.0.0.1:", port_, "\"]\n",
      "coordinator_ca: ", Quoted(tmp_.File("coordinator-ca.pem")), "\n",
      "identity_dir: ", Quoted(agent.dir + "/identity"), "\n",
      "reconnect: {initial: 100ms, max: 500ms}\n", "targets:\n",
      "  - name: www\n", "    directory: ", Quoted(agent.target_dir), "\n",
      "    require_names: [", kServerName, "]\n", "    files:\n",
      "      - {path: fullchain.pem, format: fullchain}\n",
      "      - {path: key.pem, format: key}\n", "    reload: {command: [",
      absl::StrJoin(quoted, ", "), "], timeout: 10s}\n", "    grace: 0s\n");
  if (agent.nginx) {
    absl::StrAppend(&yaml, "    health:\n      - tls: {address: \"",
                    agent.nginx->address(), "\", server_name: ", kServerName,
                    "}\n    health_timeout: 10s\n");
  }
  return WriteText(agent.dir + "/agent.yaml", yaml);
}

absl::Status RolloutLab::EnrollAgents() {
  RETURN_IF_ERROR(WriteText(tmp_.File("coordinator-ca.pem"), ca_->ca_pem()));
  RETURN_IF_ERROR(WriteText(tmp_.File("reload.sh"), ReloadScript(), 0755));
  LocalFilesystem fs;
  for (int slot = 0; slot < kAgents; ++slot) {
    LabAgent a;
    a.slot = slot;
    a.pool = absl::StrCat("p", slot % kPools);
    a.dir = tmp_.File(absl::StrCat("agent-", slot));
    a.target_dir = a.dir + "/www";
    RETURN_IF_ERROR(MakeDir(a.dir));
    RETURN_IF_ERROR(WriteAgentConfig(a));
    ASSIGN_OR_RETURN(std::string token,
                     tokens_->Create({{"role", "web"}, {"pool", a.pool}},
                                     absl::Hours(1), "fleet rollout test"));
    RETURN_IF_ERROR(WriteText(a.dir + "/token", token, 0600));
    RETURN_IF_ERROR(harness::RunTool({CERTFLEET_AGENT_BINARY, "enroll",
                                      "--config", a.dir + "/agent.yaml",
                                      "--token-file", a.dir + "/token"})
                        .status());
    agent::IdentityStore identities(a.dir + "/identity", fs);
    ASSIGN_OR_RETURN(agent::Identity id, identities.Load());
    a.agent_id = id.agent_id;
    agents_.push_back(std::move(a));
  }
  return absl::OkStatus();
}

absl::Status RolloutLab::StartFleet() {
  // The lowest agent ids of each pool get an nginx: the first wave takes
  // the lowest id of p0 (wave_plan.h), so the canary is always one.
  std::map<std::string, std::vector<LabAgent*>> pools;
  for (LabAgent& a : agents_) pools[a.pool].push_back(&a);
  std::vector<LabAgent*> with_nginx;
  std::vector<harness::NginxOptions> options;
  for (auto& [pool, members] : pools) {
    std::sort(members.begin(), members.end(),
              [](const LabAgent* x, const LabAgent* y) {
                return x->agent_id < y->agent_id;
              });
    for (int i = 0; i < kNginxPerPool; ++i) {
      LabAgent& a = *members[i];
      // What the server was configured with before certfleet: the agent
      // adopts these files at its first install.
      RETURN_IF_ERROR(MakeDir(a.target_dir));
      const crypto::testing::IssuedCert placeholder =
          Issuer().IssueLeaf({.dns_names = {kServerName},
                              .not_before = absl::Now() - absl::Hours(1),
                              .not_after = absl::Now() + absl::Hours(24 * 30)});
      ASSIGN_OR_RETURN(std::string key_pem, placeholder.key.ToPem());
      RETURN_IF_ERROR(WriteText(a.target_dir + "/fullchain.pem",
                                Issuer().ChainPem(placeholder.cert)));
      RETURN_IF_ERROR(WriteText(a.target_dir + "/key.pem", key_pem, 0600));
      with_nginx.push_back(&a);
      options.push_back({.cert_path = a.target_dir + "/fullchain.pem",
                         .key_path = a.target_dir + "/key.pem",
                         .server_name = kServerName});
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::unique_ptr<harness::NginxServer>> nginx,
                   harness::NginxServer::StartMany(std::move(options)));
  for (size_t i = 0; i < nginx.size(); ++i) {
    with_nginx[i]->nginx = std::move(nginx[i]);
  }
  for (LabAgent& a : agents_) {
    RETURN_IF_ERROR(WriteAgentConfig(a));
    RETURN_IF_ERROR(StartAgent(a.slot));
  }
  return WithAgentLogs(WaitForOk(
      "every agent connected",
      [&]() -> absl::Status {
        if (hub_->connected() >= agents_.size()) return absl::OkStatus();
        return absl::UnavailableError(
            absl::StrCat(hub_->connected(), " of ", agents_.size()));
      },
      absl::Seconds(30)));
}

absl::Status RolloutLab::WaitForFirstVersion() {
  ASSIGN_OR_RETURN(LabVersion v1, Publish());
  RETURN_IF_ERROR(WaitAllServe(v1.serial, absl::Seconds(30)));
  // And the coordinator knows it: every agent has reported it healthy.
  return WithAgentLogs(WaitForOk(
      absl::StrCat("every agent to report ", v1.version_id, " healthy"),
      [&]() -> absl::Status {
        ASSIGN_OR_RETURN(std::vector<store::TargetStateRecord> states,
                         store_->ListAllTargetStates());
        size_t healthy = 0;
        for (const store::TargetStateRecord& s : states) {
          if (s.installed_version_id == v1.version_id && s.healthy) ++healthy;
        }
        if (healthy == agents_.size()) return absl::OkStatus();
        return absl::UnavailableError(
            absl::StrCat(healthy, " of ", agents_.size()));
      },
      absl::Seconds(30)));
}

int RolloutLab::CanarySlot() const {
  int best = -1;
  for (const LabAgent& a : agents_) {
    if (a.pool != "p0") continue;
    if (best < 0 || a.agent_id < agents_[best].agent_id) best = a.slot;
  }
  return best;
}

int RolloutLab::SlotOf(const std::string& agent_id) const {
  for (const LabAgent& a : agents_) {
    if (a.agent_id == agent_id) return a.slot;
  }
  return -1;
}

absl::StatusOr<std::string> RolloutLab::Served(int slot) const {
  const LabAgent& a = agents_[slot];
  if (a.nginx) {
    ASSIGN_OR_RETURN(
        harness::ServedCertificate served,
        harness::ProbeTls(a.nginx->address(), kServerName, absl::Seconds(2)));
    return served.serial_hex;
  }
  return agent::web_testing::MatchingSerial(a.target_dir + "/key.pem",
                                            a.target_dir + "/fullchain.pem");
}

absl::Status RolloutLab::WaitAllServe(const std::string& serial,
                                      absl::Duration timeout) const {
  return WithAgentLogs(WaitForOk(
      absl::StrCat("every agent to serve ", serial),
      [&]() -> absl::Status {
        std::string who;
        bool all = true;
        for (const LabAgent& a : agents_) {
          absl::StatusOr<std::string> s = Served(a.slot);
          const std::string got = s.ok() ? *s : s.status().ToString();
          if (got != serial) all = false;
          absl::StrAppend(&who, "\n  slot ", a.slot, " (", a.pool,
                          a.nginx ? ", nginx" : "", "): ", got);
        }
        return all ? absl::OkStatus() : absl::UnavailableError(who);
      },
      timeout));
}

std::vector<ReloadSpan> RolloutLab::Reloads() const {
  std::vector<ReloadSpan> all;
  LocalFilesystem fs;
  for (const LabAgent& a : agents_) {
    absl::StatusOr<std::string> text = fs.ReadFile(a.dir + "/reload.log");
    if (!text.ok()) continue;
    for (ReloadSpan& s : ParseReloadLog(*text, a.slot, a.pool)) {
      all.push_back(std::move(s));
    }
  }
  std::sort(all.begin(), all.end(),
            [](const ReloadSpan& x, const ReloadSpan& y) {
              return x.begin < y.begin;
            });
  return all;
}

std::string RolloutLab::CurrentLink(int slot) const {
  return agent::web_testing::ReadLink(agents_[slot].target_dir + "/current");
}

std::string RolloutLab::AgentLog(int slot) const {
  LocalFilesystem fs;
  absl::StatusOr<std::string> text =
      fs.ReadFile(agents_[slot].dir + "/agent.log");
  return text.ok() ? *text : "";
}

void RolloutLab::StopAgent(int slot) { agents_[slot].process.reset(); }

absl::Status RolloutLab::StartAgent(int slot) {
  LabAgent& a = agents_[slot];
  ASSIGN_OR_RETURN(a.process,
                   harness::ServerProcess::Start(
                       {.name = absl::StrCat("certfleet-agent ", a.slot),
                        .argv = {CERTFLEET_AGENT_BINARY, "run", "--config",
                                 a.dir + "/agent.yaml", "--log-level", "debug"},
                        .log_path = a.dir + "/agent.log"}));
  return absl::OkStatus();
}

absl::Status RolloutLab::WaitServes(int slot, const std::string& serial,
                                    absl::Duration timeout) const {
  const absl::Status served = WaitForOk(
      absl::StrCat("agent slot ", slot, " to serve ", serial),
      [&]() -> absl::Status {
        absl::StatusOr<std::string> s = Served(slot);
        if (!s.ok()) return s.status();
        if (*s != serial) return absl::UnavailableError("serves " + *s);
        return absl::OkStatus();
      },
      timeout);
  if (served.ok()) return served;
  return absl::Status(
      served.code(),
      absl::StrCat(served.message(), "\n",
                   FileTail(agents_[slot].dir + "/agent.log", 2000)));
}

absl::Status RolloutLab::WithAgentLogs(absl::Status s) const {
  if (s.ok()) return s;
  return absl::Status(s.code(),
                      absl::StrCat(s.message(), "\nagents:\n", AgentLogs()));
}

std::string RolloutLab::AgentLogs() const {
  std::string out;
  for (const LabAgent& a : agents_) {
    absl::StrAppend(&out, "--- agent slot ", a.slot, " (", a.agent_id, ")\n",
                    FileTail(a.dir + "/agent.log", 600), "\n");
  }
  return out;
}

}  // namespace certfleet::fleet_rollout
