// The Coordinator as one of several replicas on etcd (store.type etcd):
// every replica serves agents and the admin API; the elected leader alone
// places orders, renews and drives rollouts, its writes fenced on its
// leadership key. Also the rollout runner's start and stop, which a single
// coordinator does once and a replica at every term.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/etcd/etcd_client.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/app/coordinator.h"
#include "coordinator/app/leader_terms.h"
#include "coordinator/ha/leader_election.h"
#include "coordinator/ha/presence.h"
#include "coordinator/store/etcd_store.h"

namespace certfleet::app {

// `watching` turns false when the watch ends, so the serve loop opens it
// again.
struct ReplicaWatch {
  std::unique_ptr<etcd::EtcdWatch> watch;
  std::atomic<bool> watching{false};
};

absl::Status Coordinator::StartElection() {
  std::string replica = config_.ha.replica;
  if (replica.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    replica = host;
  }
  election_replica_ = replica;
  std::vector<std::string> names;
  for (const config::CertificateConfig& c : config_.certificates) {
    names.push_back(c.name);
  }
  agreement_ = std::make_unique<ha::ConfigAgreement>(
      replica, config_.cluster_digest, std::move(names));
  leadership_ = std::make_unique<LeaderTerms>(*etcd_store_);
  election_ = std::make_unique<ha::LeaderElection>(
      ha::LeaderElectionOptions{.client = etcd_client_.get(),
                                .key = config_.store.etcd.prefix + "leader",
                                .replica = replica,
                                .ttl = config_.ha.lease_ttl},
      clock_, leadership_.get());
  return absl::OkStatus();
}

bool Coordinator::leading() const {
  return election_ == nullptr || leadership_->term() != nullptr;
}

absl::Status Coordinator::StartRollouts(
    std::shared_ptr<const Cancellation> term) {
  rollout::RolloutRunnerOptions options;
  options.term = std::move(term);
  if (etcd_store_ != nullptr) {
    // Agents served by other replicas are online too; and a target seen for
    // the first time must get its version through the store, which the
    // replica serving it watches.
    options.connected_agents = [hub = hub_.get(), store = etcd_store_] {
      std::set<std::string> all = hub->ConnectedAgents();
      absl::StatusOr<std::set<std::string>> elsewhere = store->PresentAgents();
      if (elsewhere.ok()) all.insert(elsewhere->begin(), elsewhere->end());
      return all;
    };
    options.assign_fallbacks = true;
    // A leader judges staleness from its own term on (it observes every
    // replica's agents at each step from then); the admin API's judge has
    // only seen what this replica's callers asked for.
    options.stale_after = config_.agents.stale_after;
  } else {
    options.staleness = staleness_.get();
  }
  auto runner = std::make_shared<rollout::RolloutRunner>(
      *store_, *hub_, config_.certificates, *assignments_, clock_, options);
  if (absl::Status s = runner->Resume(); !s.ok()) {
    return Annotate(s, "resuming rollouts");
  }
  runner->Start();
  runner_slot_.Set(std::move(runner));
  return absl::OkStatus();
}

void Coordinator::StopRollouts() {
  std::shared_ptr<rollout::RolloutRunner> runner = runner_slot_.Get();
  runner_slot_.Set(nullptr);
  if (runner != nullptr) runner->Stop();
  if (etcd_store_ != nullptr && hub_ != nullptr) {
    // A follower again: its agents get only what the store says (the next
    // leader's decisions), never a fallback this term chose.
    for (const config::CertificateConfig& c : config_.certificates) {
      hub_->HoldCertificate(c.name, "");
    }
  }
}

absl::Status Coordinator::ServeReplica(const Context& ctx) {
  CF_LOG_INFO(
      "coordinator replica serving agents and the admin API; "
      "campaigning to lead %d certificates",
      config_.certificates.size());
  // A term ends when this replica stops, too: chained, no thread between.
  leadership_->EndTermsWith(ctx);
  election_->Start();
  // Every replica publishes itself (its configuration's digest); one that
  // serves agents also which agents it holds.
  auto presence = std::make_unique<ha::Presence>(
      ha::PresenceOptions{
          .client = etcd_client_.get(),
          .store = etcd_store_,
          .replica = election_replica_,
          .connected =
              [hub = hub_.get()] {
                return hub != nullptr ? hub->ConnectedAgents()
                                      : std::set<std::string>();
              },
          .ttl = config_.ha.cut_off_after,
          .on_cut_off =
              [this](bool cut_off) {
                cut_off_ = cut_off;
                if (agent_server_ != nullptr) {
                  agent_server_->SetServing(
                      !cut_off,
                      absl::StrCat("coordinator replica ", election_replica_,
                                   " is cut off from etcd: use "
                                   "another replica"));
                }
              },
          .self = ReplicaSelf(),
          .on_replicas =
              [this](const std::vector<store::ReplicaRecord>& replicas) {
                OnReplicas(replicas);
              }},
      clock_);
  presence->Start();
  ReplicaWatch targets, desired, agents;
  while (!ctx.IsCancelled()) {
    if (hub_ != nullptr) KeepWatching(&targets, &desired, &agents);
    std::shared_ptr<Cancellation> term = leadership_->term();
    if (term == nullptr || term->IsCancelled()) {
      (void)clock_.SleepFor(absl::Milliseconds(100), ctx);
      continue;
    }
    // The term ends when deposed or when the coordinator stops (it is a
    // child of `ctx`'s cancellation: LeaderTerms::EndTermsWith).
    const Context lead = Context::Background().WithCancellation(term);
    CF_LOG_INFO("leading: ordering, renewing and driving rollouts");
    absl::Status started = hub_ ? StartRollouts(term) : absl::OkStatus();
    if (!started.ok()) {
      CF_LOG_WARN("leading without rollouts this term: %s", started.ToString());
    }
    if (absl::Status s = scheduler_->SweepOrphanOrders(lead); !s.ok()) {
      CF_LOG_WARN("abandoning orders of removed certificates: %s",
                  s.ToString());
    }
    scheduler_->Run(lead);
    StopRollouts();
    term->Cancel();
    metrics_.ForgetCertificates();
    CF_LOG_INFO("no longer leading");
  }
  for (ReplicaWatch* w : {&targets, &desired, &agents}) {
    if (w->watch != nullptr) w->watch->Cancel();
  }
  presence->Stop();
  election_->Stop();
  return absl::OkStatus();
}

namespace {

// Opens `w` with `open` unless it is open; logs a failure (the caller
// retries on its next round).
void Rewatch(
    ReplicaWatch* w, const char* what,
    const std::function<absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>>(
        std::function<void(const absl::Status&)>)>& open) {
  if (w->watching) return;
  w->watch.reset();
  absl::StatusOr<std::unique_ptr<etcd::EtcdWatch>> opened = open(
      [watching = &w->watching](const absl::Status&) { *watching = false; });
  if (!opened.ok()) {
    CF_LOG_WARN("cannot watch %s (retrying): %s", what,
                opened.status().ToString());
    return;
  }
  w->watch = *std::move(opened);
  w->watching = true;
}

}  // namespace

store::ReplicaRecord Coordinator::ReplicaSelf() const {
  store::ReplicaRecord self{.replica = election_replica_,
                            .version = adminapi::AdminBackendOptions().version,
                            .config_digest = config_.cluster_digest,
                            .started_at = clock_.Now()};
  for (const config::CertificateConfig& c : config_.certificates) {
    self.certificates.push_back(c.name);
  }
  std::sort(self.certificates.begin(), self.certificates.end());
  return self;
}

void Coordinator::OnReplicas(
    const std::vector<store::ReplicaRecord>& replicas) {
  const ha::ConfigAgreement::Change change = agreement_->Observe(replicas);
  if (!change.changed) return;
  metrics_.OnConfigDifferences(agreement_->differences().size());
  if (change.agreed) {
    CF_LOG_INFO("%s", change.message);
  } else {
    CF_LOG_WARN("%s", change.message);
  }
  // Every replica that sees it records it: the audit log says when the
  // cluster's configurations parted and when they met again.
  absl::StatusOr<int64_t> audited = store_->AppendAudit(
      {.at = clock_.Now(),
       .actor = absl::StrCat("coordinator:", election_replica_),
       .action = change.agreed ? "config.agreed" : "config.differs",
       .detail = change.message,
       .result = change.agreed ? "ok" : "warning"});
  if (!audited.ok()) {
    CF_LOG_WARN("configuration agreement not audited: %s",
                audited.status().ToString());
  }
}

void Coordinator::KeepWatching(ReplicaWatch* targets, ReplicaWatch* desired,
                               ReplicaWatch* agents) {
  delivery::AgentHub* hub = hub_.get();
  RunnerSlot* slot = &runner_slot_;
  Rewatch(targets, "target states", [&](auto on_end) {
    return etcd_store_->WatchTargetStates(
        [slot](const store::TargetStateRecord&) {
          if (auto runner = slot->Get()) runner->Poke();
        },
        std::move(on_end));
  });
  Rewatch(desired, "desired versions", [&](auto on_end) {
    return etcd_store_->WatchDesiredVersions(
        [hub](const store::TargetStateRecord& s) {
          hub->OnDesiredStored(s.agent_id, s.target, s.certificate,
                               s.desired_version_id);
        },
        std::move(on_end));
  });
  // A removal also concerns the leader's rollouts: poke them.
  Rewatch(agents, "agents", [&](auto on_end) {
    return etcd_store_->WatchAgents(
        [hub, slot](const store::AgentRecord& record) {
          hub->OnAgentStored(record);
          if (record.status != store::AgentStatus::kActive) {
            if (auto runner = slot->Get()) runner->Poke();
          }
        },
        std::move(on_end));
  });
}

}  // namespace certfleet::app
