#include "coordinator/ha/presence.h"

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
  while (!cancel_->IsCancelled()) {
    if (absl::Status s = Sync(ctx); !s.ok() && !cancel_->IsCancelled()) {
      CF_LOG_WARN("presence of %s's agents: %s", options_.replica,
                  s.ToString());
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
  }
  const std::set<std::string> now = options_.connected();
  for (const std::string& agent : now) {
    if (published_.count(agent)) continue;
    RETURN_IF_ERROR(options_.store->SetPresence(agent, options_.replica,
                                                lease_id_));
    published_.insert(agent);
  }
  for (auto it = published_.begin(); it != published_.end();) {
    if (now.count(*it)) {
      ++it;
      continue;
    }
    RETURN_IF_ERROR(options_.store->ClearPresence(*it));
    it = published_.erase(it);
  }
  return absl::OkStatus();
}

}  // namespace certfleet::ha
