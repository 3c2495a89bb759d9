#include "coordinator/app/coordinator.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/app/store_opener.h"
#include "coordinator/app/token_command.h"
#include "coordinator/dns/ldns_resolver.h"
#include "coordinator/dns/providers/provider_registry.h"

namespace certfleet::app {

// Issuance events go to the metrics, and new versions to the agents
// (through the rollout runner, which delivers a first version directly and
// rolls out the others in waves).
class IssuanceFanout : public issuance::IssuanceObserver {
 public:
  IssuanceFanout(CoordinatorMetrics& metrics, const RunnerSlot& runner)
      : metrics_(metrics), runner_(runner) {}
  void OnOrderFinished(const std::string& issuer,
                       absl::string_view outcome) override {
    metrics_.OnOrderFinished(issuer, outcome);
  }
  void OnPropagation(absl::Duration waited) override {
    metrics_.OnPropagation(waited);
  }
  void OnDnsCleanupFailed(const std::string& cert_name) override {
    metrics_.OnDnsCleanupFailed(cert_name);
  }
  void OnVersionStored(const std::string& cert_name, int64_t version) override {
    const std::shared_ptr<rollout::RolloutRunner> runner = runner_.Get();
    if (runner == nullptr) return;
    if (absl::Status s = runner->OnVersionStored(cert_name, version); !s.ok()) {
      CF_LOG_WARN("certificate %s version %d: not delivered: %s", cert_name,
                  version, s.ToString());
    }
  }

 private:
  CoordinatorMetrics& metrics_;
  const RunnerSlot& runner_;
};

Coordinator::Coordinator(const config::CoordinatorConfig& config, Clock& clock)
    : config_(config), clock_(clock), metrics_(registry_) {}

Coordinator::~Coordinator() {
  // The metrics server reads the registry: stop it first; then the agent
  // streams, before the hub they report to.
  metrics_server_.reset();
  admin_server_.reset();
  agent_server_.reset();
  // The hub may still poke the runner: stop its thread, drop it after the
  // hub.
  if (auto runner = runner_slot_.Get()) runner->Stop();
  hub_.reset();
  runner_slot_.Set(nullptr);
}

absl::Status Coordinator::LoadInternalCa() {
  ASSIGN_OR_RETURN(internal_ca_,
                   identity::InternalCa::LoadOrCreate(*store_, *kek_, clock_));
  // Agents need the CA to trust this coordinator when they enroll.
  RETURN_IF_ERROR(WriteInternalCaFile(config_, *internal_ca_, fs_));
  tokens_ = std::make_unique<identity::BootstrapTokens>(*store_, clock_);
  return absl::OkStatus();
}

absl::Status Coordinator::StartAgentService() {
  enrollment_ = std::make_unique<identity::EnrollmentService>(
      *store_, *internal_ca_, *tokens_, clock_,
      identity::EnrollmentOptions{.identity_lifetime =
                                      config_.agents.identity_ttl});
  assignments_ = std::make_unique<delivery::Assignments>(config_.certificates);
  // From now: after a restart nobody is stale before stale_after has passed
  // (streams cut by the restart never recorded their end).
  staleness_ = std::make_unique<delivery::Staleness>(config_.agents.stale_after,
                                                     clock_.Now());
  hub_ = std::make_unique<delivery::AgentHub>(
      *store_, *kek_, *assignments_, *enrollment_, internal_ca_->ca_pem(),
      clock_, &metrics_);
  hub_->SetReportListener([slot = &runner_slot_] {
    if (auto runner = slot->Get()) runner->Poke();
  });
  // With several coordinators only the leader drives rollouts (from its
  // election on: ServeReplica); alone, this one does from the start.
  if (etcd_store_ == nullptr) {
    // Before agents connect: held certificates must be held from the start.
    RETURN_IF_ERROR(StartRollouts());
  } else {
    // A replica sends a target only what the leader decided for it (its
    // desired version in the store), never a version on its own.
    for (const config::CertificateConfig& c : config_.certificates) {
      hub_->HoldCertificate(c.name, "");
    }
  }
  ASSIGN_OR_RETURN(
      agent_server_,
      agentapi::AgentServer::Start({.listen = config_.agents.listen,
                                    .server_names = config_.agents.server_names,
                                    .observer = &metrics_,
                                    .clock = &clock_},
                                   *internal_ca_, *enrollment_, *hub_));
  return absl::OkStatus();
}

namespace {

// Every live replica as the agreement check last read them; null without
// several coordinators.
std::function<std::vector<adminapi::AdminBackendOptions::Replica>()> ReplicasOf(
    const ha::ConfigAgreement* agreement) {
  if (agreement == nullptr) return nullptr;
  return [agreement] {
    std::vector<adminapi::AdminBackendOptions::Replica> out;
    for (const store::ReplicaRecord& r : agreement->replicas()) {
      out.push_back({r.replica, r.version, r.config_digest});
    }
    return out;
  };
}

// The runner for an operator's action, or why there is none here.
absl::StatusOr<std::shared_ptr<rollout::RolloutRunner>> RunnerFor(
    const RunnerSlot& slot) {
  std::shared_ptr<rollout::RolloutRunner> runner = slot.Get();
  if (runner == nullptr) {
    return absl::FailedPreconditionError(
        "this coordinator does not lead: rollouts are driven by the leader; "
        "send the command to it (certfleetctl status names it)");
  }
  return runner;
}

// The admin API's rollout actions, carried out by the runner in `slot`;
// none without an agent service.
adminapi::RolloutCommandFn RolloutCommandOf(const RunnerSlot* slot) {
  if (slot == nullptr) return nullptr;
  return
      [slot](adminapi::RolloutCommand command, const std::string& certificate,
             const std::string& actor) -> absl::StatusOr<store::RolloutRecord> {
        ASSIGN_OR_RETURN(std::shared_ptr<rollout::RolloutRunner> runner,
                         RunnerFor(*slot));
        rollout::OperatorAction action = rollout::OperatorAction::kPause;
        if (command == adminapi::RolloutCommand::kResume) {
          action = rollout::OperatorAction::kResume;
        } else if (command == adminapi::RolloutCommand::kAbort) {
          action = rollout::OperatorAction::kAbort;
        }
        return runner->Act(certificate, action, actor);
      };
}

adminapi::SkipHostFn SkipHostOf(const RunnerSlot* slot) {
  if (slot == nullptr) return nullptr;
  return
      [slot](const std::string& certificate, const std::string& agent_id,
             const std::string& actor) -> absl::StatusOr<store::RolloutRecord> {
        ASSIGN_OR_RETURN(std::shared_ptr<rollout::RolloutRunner> runner,
                         RunnerFor(*slot));
        return runner->Skip(certificate, agent_id, actor);
      };
}

adminapi::RollbackFn RollbackOf(const RunnerSlot* slot) {
  if (slot == nullptr) return nullptr;
  return
      [slot](const std::string& certificate, int64_t to_version, bool expedite,
             const std::string& actor) -> absl::StatusOr<store::RolloutRecord> {
        ASSIGN_OR_RETURN(std::shared_ptr<rollout::RolloutRunner> runner,
                         RunnerFor(*slot));
        return runner->Rollback(certificate, to_version, expedite, actor);
      };
}

}  // namespace

std::set<std::string> Coordinator::PresentAgents() const {
  std::set<std::string> all;
  if (hub_) all = hub_->ConnectedAgents();
  if (etcd_store_ != nullptr) {
    absl::StatusOr<std::set<std::string>> elsewhere =
        etcd_store_->PresentAgents();
    if (elsewhere.ok()) all.insert(elsewhere->begin(), elsewhere->end());
  }
  return all;
}

absl::Status Coordinator::StartAdminService() {
  adminapi::ConnectedAgentsFn connected;
  std::function<std::set<std::string>()> present;
  std::function<void(const std::string&)> agent_changed;
  std::function<void()> poke_rollouts;
  if (hub_) {
    connected = [hub = hub_.get()] { return hub->ConnectedSince(); };
    present = [this] { return PresentAgents(); };
    // Other replicas learn of the change through the store's watch.
    agent_changed = [hub = hub_.get()](const std::string& id) {
      hub->AgentChanged(id);
    };
    poke_rollouts = [slot = &runner_slot_] {
      if (auto runner = slot->Get()) runner->Poke();
    };
  }
  admin_backend_ = std::make_unique<adminapi::AdminBackend>(
      *store_, *tokens_, clock_,
      adminapi::AdminBackendOptions{
          .certificates = config_.certificates,
          .default_token_ttl = config_.agents.default_token_ttl,
          .wake_scheduler = [s = scheduler_.get()] { s->Wake(); },
          .leading = [this] { return leading(); },
          .rollout_command = RolloutCommandOf(hub_ ? &runner_slot_ : nullptr),
          .rollback = RollbackOf(hub_ ? &runner_slot_ : nullptr),
          .connected_agents = std::move(connected),
          .present_agents = std::move(present),
          .staleness = staleness_.get(),
          .agent_changed = std::move(agent_changed),
          .poke_rollouts = std::move(poke_rollouts),
          .skip_host = SkipHostOf(hub_ ? &runner_slot_ : nullptr),
          .replica = election_ ? election_replica_ : "",
          .leader = election_
                        ? std::function<std::string()>(
                              [e = election_.get()] { return e->leader(); })
                        : nullptr,
          .config_digest = config_.cluster_digest,
          .replicas = ReplicasOf(agreement_.get())});
  ASSIGN_OR_RETURN(
      admin_server_,
      adminapi::AdminServer::Start({.listen = config_.admin.listen,
                                    .server_names = config_.admin.server_names},
                                   *internal_ca_, *admin_backend_));
  return absl::OkStatus();
}

int Coordinator::admin_port() const {
  return admin_server_ ? admin_server_->port() : 0;
}

int Coordinator::agent_port() const {
  return agent_server_ ? agent_server_->port() : 0;
}

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(
    const config::CoordinatorConfig& config, Clock& clock,
    CoordinatorOptions options) {
  std::unique_ptr<Coordinator> c(new Coordinator(config, clock));

  ASSIGN_OR_RETURN(
      crypto::Kek kek,
      crypto::Kek::LoadOrCreate(config.key_encryption_key_file, c->fs_));
  c->kek_.emplace(std::move(kek));

  ASSIGN_OR_RETURN(OpenedStore opened,
                   OpenConfiguredStore(config.store, /*fenced=*/true));
  c->etcd_client_ = std::move(opened.etcd_client);
  c->etcd_store_ = opened.etcd_store;
  c->store_ = std::move(opened.store);
  if (c->etcd_store_ != nullptr) {
    c->etcd_store_->SetFenceRefusedObserver(
        [m = &c->metrics_](absl::string_view, absl::string_view reason) {
          m->OnFencedWriteRefused(reason);
        });
    RETURN_IF_ERROR(c->StartElection());
  }

  if (options.metrics_server && !config.metrics.listen.empty()) {
    ASSIGN_OR_RETURN(
        c->metrics_server_,
        metrics::MetricsServer::Start(
            config.metrics.listen, &c->registry_, nullptr,
            [co = c.get()]() -> absl::Status {
              if (co->cut_off_) {
                return absl::UnavailableError(
                    "cut off from etcd: agents are handed to other replicas");
              }
              return absl::OkStatus();
            }));
  }

  std::map<std::string, issuance::Issuer*> issuers;
  for (const config::IssuerConfig& ic : config.issuers) {
    c->acme_observers_.push_back(c->metrics_.ForIssuer(ic.name));
    ASSIGN_OR_RETURN(
        std::unique_ptr<issuance::Issuer> issuer,
        issuance::Issuer::Create(ic, clock, c->acme_observers_.back().get()));
    issuers[ic.name] = issuer.get();
    c->issuers_[ic.name] = std::move(issuer);
  }

  std::vector<dns::ProviderBinding> bindings;
  for (const config::DnsProviderConfig& pc : config.dns_providers) {
    ASSIGN_OR_RETURN(
        std::shared_ptr<dns::DnsProvider> provider,
        dns::BuiltInProviders().Create(pc, {.processes = c->processes_}));
    bindings.push_back({std::move(provider), pc.zones});
  }
  c->resolver_ = std::make_unique<dns::LdnsResolver>();
  c->authoritative_resolver_ = std::make_unique<dns::LdnsResolver>(
      dns::LdnsResolverOptions{.recursion_desired = false});
  c->solver_ = std::make_unique<dns::Dns01Solver>(
      std::move(bindings), *c->resolver_,
      dns::SolverOptions{
          .resolvers = config.dns.resolvers,
          .nameserver_port = config.dns.nameserver_port,
          .propagation_interval = config.dns.propagation_interval,
          .propagation_timeout = config.dns.propagation_timeout,
          .follow_cname = config.dns.follow_cname},
      clock, c->authoritative_resolver_.get());
  if (!config.agents.listen.empty() || !config.admin.listen.empty()) {
    if (absl::Status s = c->LoadInternalCa(); !s.ok()) {
      return Annotate(s, "internal CA");
    }
  }
  if (!config.agents.listen.empty()) {
    if (absl::Status s = c->StartAgentService(); !s.ok()) {
      return Annotate(s, "agent service");
    }
  }
  c->issuance_observer_ =
      std::make_unique<IssuanceFanout>(c->metrics_, c->runner_slot_);
  issuance::OrderRunnerOptions order_options;
  if (c->leadership_ != nullptr) {
    // A deposed leader leaves its order to the next one, records included.
    // The term first (no etcd call once it ended), then etcd itself: a
    // leader that woke from a pause may not have noticed yet.
    order_options.acting = [terms = c->leadership_.get(),
                            store = c->etcd_store_] {
      std::shared_ptr<Cancellation> term = terms->term();
      return term != nullptr && !term->IsCancelled() && store->FenceHolds();
    };
  }
  c->runner_ = std::make_unique<issuance::OrderRunner>(
      *c->store_, *c->kek_, *c->solver_, clock, std::move(order_options),
      c->issuance_observer_.get());
  c->pruner_ = std::make_unique<retention::VersionPruner>(
      *c->store_, clock,
      retention::PrunerOptions{.expired_versions =
                                   config.retention.expired_versions},
      &c->metrics_);
  c->scheduler_ = std::make_unique<scheduler::Scheduler>(
      config.certificates, std::move(issuers), *c->store_, *c->runner_, clock,
      scheduler::SchedulerOptions{
          .max_concurrent_orders = config.scheduler.max_concurrent_orders,
          .check_interval = config.scheduler.check_interval,
          .retry_initial = config.scheduler.retry_initial,
          .retry_max = config.scheduler.retry_max,
          .after_pass = [p = c->pruner_.get()](
                            const Context& ctx) { p->PruneIfDue(ctx); },
          .removed = {config.removed_certificates.begin(),
                      config.removed_certificates.end()},
          .replica = config.ha.replica},
      &c->metrics_);
  // After the scheduler: `certfleetctl renew` wakes it.
  if (!config.admin.listen.empty()) {
    if (absl::Status s = c->StartAdminService(); !s.ok()) {
      return Annotate(s, "admin API");
    }
  }
  return c;
}

absl::Status Coordinator::Serve(const Context& ctx) {
  if (election_ != nullptr) return ServeReplica(ctx);
  if (absl::Status s = scheduler_->SweepOrphanOrders(ctx); !s.ok()) {
    CF_LOG_WARN("abandoning orders of removed certificates: %s", s.ToString());
  }
  CF_LOG_INFO("coordinator serving %d certificates from %d issuers",
              config_.certificates.size(), config_.issuers.size());
  scheduler_->Run(ctx);
  return absl::OkStatus();
}

absl::StatusOr<scheduler::PassReport> Coordinator::RunOnce(const Context& ctx) {
  if (election_ != nullptr) {
    return absl::FailedPreconditionError(
        "--once runs a single coordinator's pass; with store.type etcd the "
        "elected leader issues: run serve");
  }
  if (absl::Status s = scheduler_->SweepOrphanOrders(ctx); !s.ok()) {
    CF_LOG_WARN("abandoning orders of removed certificates: %s", s.ToString());
  }
  ASSIGN_OR_RETURN(scheduler::PassReport report, scheduler_->RunPass(ctx));
  if (!report.attempted.empty() && !ctx.IsCancelled()) {
    // Look once more so new versions get their renewal times (nothing
    // freshly issued is due, and failures are backing off).
    absl::StatusOr<scheduler::PassReport> again = scheduler_->RunPass(ctx);
    if (!again.ok()) return again.status();
    report.not_due = again->not_due;
    report.next_due = again->next_due;
  }
  if (!ctx.IsCancelled()) pruner_->PruneIfDue(ctx);
  return report;
}

int Coordinator::metrics_port() const {
  return metrics_server_ ? metrics_server_->port() : 0;
}

uint64_t Coordinator::acme_exchanges() const {
  uint64_t n = 0;
  for (const auto& [name, issuer] : issuers_) n += issuer->client().exchanges();
  return n;
}

}  // namespace certfleet::app
