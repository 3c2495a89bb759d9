#include "coordinator/ha/presence.h"

#include <vector>

#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::ha {

Presence::Presence(PresenceOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

Presence::~Presence() { Stop(); }

void Presence::Start() {
  if (thread_.joinable()) return;
  cancel_ = std::make_shared<Cancellation>();
  thread_ = std::thread([this] { Loop(); });
}

void Presence::Stop() {
  if (!thread_.joinable()) return;
  cancel_->Cancel();
  thread_.join();
  if (lease_id_ != 0) {
    (void)options_.client->LeaseRevoke(
        lease_id_,
        Context::Background().WithDeadline(clock_.Now() + absl::Seconds(1)));
    lease_id_ = 0;
  }
}

void Presence::Loop() {
  const Context ctx = Context::Background().WithCancellation(cancel_);
  absl::Time last_ok = clock_.Now();
  while (!cancel_->IsCancelled()) {
    const absl::Status s = Sync(ctx);
    if (cancel_->IsCancelled()) break;
    if (s.ok()) {
      last_ok = clock_.Now();
      if (cut_off_) {
        cut_off_ = false;
        CF_LOG_WARN("replica %s: etcd reachable again: serving agents",
                    options_.replica);
        if (options_.on_cut_off) options_.on_cut_off(false);
      }
    } else {
      CF_LOG_WARN("presence of %s's agents: %s", options_.replica,
                  s.ToString());
      if (!cut_off_ && clock_.Now() - last_ok >= options_.ttl) {
        cut_off_ = true;
        CF_LOG_ERROR(
            "replica %s: cut off from etcd for %s: its agents are handed to "
            "other replicas until etcd is back",
            options_.replica, absl::FormatDuration(clock_.Now() - last_ok));
        if (options_.on_cut_off) options_.on_cut_off(true);
      }
    }
    (void)clock_.SleepFor(options_.interval, ctx);
  }
}

absl::Status Presence::Sync(const Context& ctx) {
  const Context call = ctx.WithDeadline(clock_.Now() + absl::Seconds(2));
  if (lease_id_ != 0 && clock_.Now() - renewed_at_ >= options_.ttl / 3) {
    absl::StatusOr<int64_t> ttl =
        options_.client->LeaseKeepAliveOnce(lease_id_, call);
    if (ttl.ok()) {
      renewed_at_ = clock_.Now();
    } else if (absl::IsNotFound(ttl.status())) {
      lease_id_ = 0;  // expired with its keys: start over
    } else {
      return ttl.status();
    }
  }
  if (lease_id_ == 0) {
    ASSIGN_OR_RETURN(etcd::Lease lease,
                     options_.client->LeaseGrant(options_.ttl, call));
    lease_id_ = lease.id;
    renewed_at_ = clock_.Now();
    published_.clear();
    self_published_ = false;
  }
  if (!self_published_) {
    store::ReplicaRecord self = options_.self;
    self.replica = options_.replica;
    RETURN_IF_ERROR(options_.store->PublishReplica(self, lease_id_));
    self_published_ = true;
  }
  const std::set<std::string> now = options_.connected();
  std::vector<std::string> added, gone;
  for (const std::string& agent : now) {
    if (!published_.count(agent)) added.push_back(agent);
  }
  for (const std::string& agent : published_) {
    if (!now.count(agent)) gone.push_back(agent);
  }
  // Many keys per transaction: one write per agent made a round with
  // thousands of new agents outlast the lease, which it renews only between
  // rounds; the lease expired mid-round, every later round started over
  // with all agents, and the replica kept declaring itself cut off
  // (docs/benchmarks.md, "HA fan-out").
  absl::Status first;
  const std::vector<absl::Status> set =
      options_.store->SetPresences(added, options_.replica, lease_id_);
  for (size_t i = 0; i < added.size(); ++i) {
    if (set[i].ok()) {
      published_.insert(added[i]);
    } else if (first.ok()) {
      first = set[i];
    }
  }
  const std::vector<absl::Status> cleared =
      options_.store->ClearPresences(gone, options_.replica);
  for (size_t i = 0; i < gone.size(); ++i) {
    if (cleared[i].ok()) {
      published_.erase(gone[i]);
    } else if (first.ok()) {
      first = cleared[i];
    }
  }
  RETURN_IF_ERROR(first);
  if (options_.on_replicas &&
      clock_.Now() - replicas_read_at_ >= options_.replicas_interval) {
    ASSIGN_OR_RETURN(std::vector<store::ReplicaRecord> replicas,
                     options_.store->ListReplicas());
    replicas_read_at_ = clock_.Now();
    options_.on_replicas(replicas);
  }
  return absl::OkStatus();
}

}  // namespace certfleet::ha
