#include "coordinator/ha/leader_election.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace certfleet::ha {

LeaderElection::LeaderElection(LeaderElectionOptions options, Clock& clock,
                               LeadershipObserver* observer)
    : options_(std::move(options)), clock_(clock), observer_(observer) {}

LeaderElection::~LeaderElection() { Stop(); }

void LeaderElection::Start() {
  if (thread_.joinable()) return;
  cancel_ = std::make_shared<Cancellation>();
  thread_ = std::thread([this] { Loop(); });
}

void LeaderElection::Stop() {
  if (!thread_.joinable()) return;
  cancel_->Cancel();
  thread_.join();
}

std::optional<Leadership> LeaderElection::leadership() const {
  absl::MutexLock lock(&mu_);
  return leadership_;
}

std::string LeaderElection::leader() const {
  absl::MutexLock lock(&mu_);
  return leader_;
}

void LeaderElection::Loop() {
  const Context ctx = Context::Background().WithCancellation(cancel_);
  while (!cancel_->IsCancelled()) {
    if (Campaign(ctx)) {
      const std::string why = Lead(ctx);
      const Leadership held = *leadership();
      StepDown(why.empty() ? "stopping: resigned" : why);
      // Resigning (or cleaning up after a loss): without the lease the key
      // goes at once and another replica need not wait for the TTL.
      (void)options_.client->LeaseRevoke(
          held.lease_id,
          Context::Background().WithDeadline(clock_.Now() + absl::Seconds(1)));
      continue;
    }
    (void)clock_.SleepFor(options_.poll_interval, ctx);
  }
}

bool LeaderElection::Campaign(const Context& ctx) {
  const Context call =
      ctx.WithDeadline(clock_.Now() + std::min(options_.ttl, absl::Seconds(2)));
  absl::StatusOr<etcd::GetResult> current =
      options_.client->Get(options_.key, call);
  if (!current.ok()) {
    CF_LOG_DEBUG("election: cannot read %s: %s", options_.key,
                 current.status().ToString());
    return false;
  }
  if (current->kv.has_value()) {
    absl::MutexLock lock(&mu_);
    leader_ = current->kv->value;
    return false;
  }
  // The lease runs from before it was asked for: a conservative start for
  // the leader's own count.
  const absl::Time granted_at = clock_.Now();
  absl::StatusOr<etcd::Lease> lease =
      options_.client->LeaseGrant(options_.ttl, call);
  if (!lease.ok()) {
    CF_LOG_WARN("election: cannot get a lease: %s", lease.status().ToString());
    return false;
  }
  // Created only if absent: of several campaigners exactly one wins.
  etcd::TxnRequest txn;
  txn.compares.push_back(etcd::Compare::Absent(options_.key));
  txn.success.push_back(
      etcd::TxnOp::Put(options_.key, options_.replica, lease->id));
  txn.failure.push_back(etcd::TxnOp::Get(options_.key));
  absl::StatusOr<etcd::TxnResult> result = options_.client->Txn(txn, call);
  if (!result.ok() || !result->succeeded) {
    (void)options_.client->LeaseRevoke(lease->id, call);
    if (result.ok() && !result->responses.empty() &&
        !result->responses[0].kvs.empty()) {
      absl::MutexLock lock(&mu_);
      leader_ = result->responses[0].kvs[0].value;
    }
    return false;
  }
  const Leadership won{options_.key, result->revision, lease->id};
  {
    absl::MutexLock lock(&mu_);
    leadership_ = won;
    leader_ = options_.replica;
    renewed_at_ = granted_at;
  }
  CF_LOG_INFO(
      "election: %s leads (%s created at revision %d, lease %x, "
      "ttl %s)",
      options_.replica, options_.key, won.create_revision, won.lease_id,
      absl::FormatDuration(options_.ttl));
  if (observer_ != nullptr) observer_->OnElected(won);
  return true;
}

std::string LeaderElection::Lead(const Context& ctx) {
  const Leadership held = *leadership();
  const absl::Duration every = options_.ttl / 3;
  const absl::Duration margin = std::min(options_.safety_margin, every);
  absl::Time renewed;
  {
    absl::MutexLock lock(&mu_);
    renewed = renewed_at_;
  }
  absl::Time next = renewed + every;
  std::string last_error;
  while (true) {
    if (!clock_.SleepUntil(next, ctx).ok()) return "";
    // By this time etcd may expire the lease: stop acting before it can.
    const absl::Time give_up = renewed + options_.ttl - margin;
    if (clock_.Now() >= give_up) {
      return absl::StrCat("could not renew the lease for ",
                          absl::FormatDuration(clock_.Now() - renewed), ": ",
                          last_error);
    }
    const absl::Time sent = clock_.Now();
    const Context call = ctx.WithDeadline(give_up);
    absl::StatusOr<int64_t> ttl =
        options_.client->LeaseKeepAliveOnce(held.lease_id, call);
    if (ttl.ok()) {
      // Still ours? An operator may have deleted the key.
      absl::StatusOr<etcd::GetResult> key =
          options_.client->Get(options_.key, call);
      if (key.ok() && (!key->kv.has_value() ||
                       key->kv->create_revision != held.create_revision)) {
        return absl::StrCat("the leadership key ", options_.key,
                            " was deleted or replaced");
      }
      renewed = sent;
      next = renewed + every;
      last_error.clear();
      continue;
    }
    if (ctx.cancellation() != nullptr && ctx.cancellation()->IsCancelled()) {
      return "";
    }
    if (absl::IsNotFound(ttl.status())) {
      return absl::StrCat("the lease expired: ", ttl.status().message());
    }
    last_error = ttl.status().ToString();
    CF_LOG_WARN("election: renewing the lease failed (%s); retrying",
                last_error);
    next = std::min(clock_.Now() + absl::Milliseconds(100), give_up);
  }
}

void LeaderElection::StepDown(const std::string& why) {
  {
    absl::MutexLock lock(&mu_);
    leadership_.reset();
    leader_.clear();
  }
  // The leader's work is told first (its fence cleared, its term ended), so
  // nothing it does is stamped after this line.
  if (observer_ != nullptr) observer_->OnDeposed(why);
  CF_LOG_WARN("election: %s no longer leads: %s", options_.replica, why);
}

}  // namespace certfleet::ha
