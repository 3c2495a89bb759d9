#include "coordinator/dns/update_batcher.h"

#include <algorithm>

namespace certfleet::dns {

UpdateBatcher::UpdateBatcher(SendFn send, size_t max_batch_bytes)
    : send_(std::move(send)), max_batch_bytes_(max_batch_bytes) {}

size_t UpdateBatcher::EstimateBytes(const std::vector<UpdateOp>& ops) {
  // Owner name, type/class/TTL/RDLENGTH, one length byte per 255 of value.
  size_t n = 0;
  for (const UpdateOp& op : ops) {
    n += op.record.fqdn.size() + 1 + 10 + op.record.value.size() +
         op.record.value.size() / 255 + 1;
  }
  return n;
}

absl::Status UpdateBatcher::Submit(const std::string& zone,
                                   std::vector<UpdateOp> ops,
                                   const Context& ctx) {
  if (ops.empty()) return absl::OkStatus();
  if (ctx.IsCancelled()) return absl::CancelledError("cancelled");
  if (absl::Now() >= ctx.deadline()) {
    return absl::DeadlineExceededError("deadline exceeded before the update");
  }
  const size_t bytes = EstimateBytes(ops);
  absl::MutexLock lock(&mu_);
  ZoneQueue& q = zones_[zone];
  const int64_t me = next_caller_++;

  auto batch = std::make_shared<Batch>();
  if (!q.in_flight && q.waiting.empty()) {
    // Idle zone: send right away.
    for (UpdateOp& op : ops) batch->ops.emplace_back(me, std::move(op));
    batch->deadline = ctx.deadline();
    q.in_flight = true;
    Lead(zone, batch);
    return batch->result;
  }
  if (!q.waiting.empty() &&
      q.waiting.back()->bytes + bytes <= max_batch_bytes_) {
    batch = q.waiting.back();
  } else {
    q.waiting.push_back(batch);
  }
  for (UpdateOp& op : ops) batch->ops.emplace_back(me, std::move(op));
  batch->bytes += bytes;
  batch->deadline = std::max(batch->deadline, ctx.deadline());

  while (true) {
    if (batch->done) return batch->result;
    if (!batch->sent) {
      if (!q.in_flight && q.waiting.front() == batch) {
        // The previous UPDATE finished: this caller sends the queued batch.
        q.waiting.pop_front();
        q.in_flight = true;
        Lead(zone, batch);
        return batch->result;
      }
      const bool cancelled = ctx.IsCancelled();
      if (cancelled || absl::Now() >= ctx.deadline()) {
        // Withdraw this caller's records; the rest of the batch goes on.
        auto& v = batch->ops;
        v.erase(std::remove_if(v.begin(), v.end(),
                               [me](const auto& p) { return p.first == me; }),
                v.end());
        batch->bytes -= bytes;
        if (v.empty()) {
          q.waiting.erase(std::find(q.waiting.begin(), q.waiting.end(), batch));
          changed_.SignalAll();
        }
        return cancelled ? absl::CancelledError("cancelled while queued")
                         : absl::DeadlineExceededError(
                               "deadline exceeded while queued behind "
                               "another update of the zone");
      }
    }
    // Wake up now and then to notice cancellation (it cannot signal us).
    absl::Time wake = absl::Now() + absl::Milliseconds(50);
    if (!batch->sent) wake = std::min(wake, ctx.deadline());
    changed_.WaitWithDeadline(&mu_, wake);
  }
}

void UpdateBatcher::Lead(const std::string& zone,
                         const std::shared_ptr<Batch>& batch) {
  batch->sent = true;
  std::vector<UpdateOp> ops;
  ops.reserve(batch->ops.size());
  for (auto& [id, op] : batch->ops) ops.push_back(std::move(op));
  const absl::Time deadline = batch->deadline;
  mu_.Unlock();
  absl::Status status = send_(zone, ops, deadline);
  mu_.Lock();
  batch->result = std::move(status);
  batch->done = true;
  ++batches_sent_;
  zones_[zone].in_flight = false;
  changed_.SignalAll();
}

int64_t UpdateBatcher::batches_sent() const {
  absl::MutexLock lock(&mu_);
  return batches_sent_;
}

size_t UpdateBatcher::queued_ops(const std::string& zone) const {
  absl::MutexLock lock(&mu_);
  auto it = zones_.find(zone);
  if (it == zones_.end()) return 0;
  size_t n = 0;
  for (const auto& b : it->second.waiting) n += b->ops.size();
  return n;
}

}  // namespace certfleet::dns
