#include "coordinator/delivery/hub_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace certfleet::delivery {
const char* HubWriter::KindName(Kind kind) {
  switch (kind) {
    case Kind::kReport:
      return "report";
    case Kind::kDesired:
      return "desired";
    case Kind::kLastSeen:
      return "last_seen";
  }
  return "?";
}

HubWriter::HubWriter(store::Store& store, PostFn post, HubObserver* observer,
                     BackoffPolicy retry)
    : store_(store),
      post_(std::move(post)),
      observer_(observer),
      retry_(retry),
      thread_([this] { Run(); }) {}

HubWriter::~HubWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void HubWriter::PutTargetState(store::TargetStateRecord state) {
  Key key{Kind::kReport, state.agent_id, state.target};
  Queue(std::move(key), Write{.record = std::move(state)});
}

void HubWriter::RecordLastSeen(const std::string& agent_id, absl::Time at) {
  Queue(Key{Kind::kLastSeen, agent_id, ""}, Write{.at = at});
}

void HubWriter::PutDesiredVersion(
    store::TargetStateRecord desired,
    std::function<void(const absl::Status&)> done) {
  Key key{Kind::kDesired, desired.agent_id, desired.target};
  Queue(std::move(key),
        Write{.record = std::move(desired), .done = std::move(done)});
}

void HubWriter::Queue(Key key, Write write) {
  std::function<void(const absl::Status&)> replaced;
  {
    absl::MutexLock lock(&mu_);
    auto it = queued_.find(key);
    if (it == queued_.end()) {
      write.seq = next_seq_++;
      order_.emplace(write.seq, key);
      queued_.emplace(std::move(key), std::move(write));
    } else {
      // Keeps its place in the queue: a barrier queued after the first
      // write waits for this one, which carries it on.
      write.seq = it->second.seq;
      if (key.kind == Kind::kLastSeen)
        write.at = std::max(write.at, it->second.at);
      replaced = std::move(it->second.done);
      it->second = std::move(write);
    }
  }
  if (replaced) {
    post_([replaced = std::move(replaced)] {
      replaced(absl::AbortedError(
          "replaced by a later desired version before it was written"));
    });
  }
}

void HubWriter::Barrier(std::function<void()> done) {
  {
    absl::MutexLock lock(&mu_);
    if (!order_.empty() || writing_count_ > 0) {
      barriers_.emplace_back(next_seq_, std::move(done));
      return;
    }
  }
  post_(std::move(done));
}

std::vector<store::TargetStateRecord> HubWriter::PendingReports(
    const std::string& agent_id) const {
  std::map<std::string, store::TargetStateRecord> by_target;
  absl::MutexLock lock(&mu_);
  // Being written first: what is queued is newer.
  for (const auto& [key, record] : writing_) {
    if (key.kind == Kind::kReport && key.agent_id == agent_id) {
      by_target[key.target] = record;
    }
  }
  for (auto it = queued_.lower_bound(Key{Kind::kReport, agent_id, ""});
       it != queued_.end() && it->first.kind == Kind::kReport &&
       it->first.agent_id == agent_id;
       ++it) {
    by_target[it->first.target] = it->second.record;
  }
  std::vector<store::TargetStateRecord> out;
  out.reserve(by_target.size());
  for (auto& [target, record] : by_target) out.push_back(std::move(record));
  return out;
}

size_t HubWriter::pending() const {
  absl::MutexLock lock(&mu_);
  return queued_.size() + writing_count_;
}

void HubWriter::Run() {
  while (true) {
    std::vector<Outcome> batch;
    {
      absl::MutexLock lock(&mu_);
      // Waits for work, and after retryable failures for the backoff
      // (unless stopping: then what is queued is tried once, at once).
      while (order_.empty() || (!stopping_ && absl::Now() < next_batch_at_)) {
        if (order_.empty() && stopping_) return;
        if (order_.empty()) {
          mu_.Await(absl::Condition(
              +[](HubWriter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
                return w->stopping_ || !w->order_.empty();
              },
              this));
        } else {
          mu_.AwaitWithDeadline(absl::Condition(&stopping_), next_batch_at_);
        }
      }
      while (!order_.empty() && batch.size() < kMaxBatch) {
        auto first = order_.begin();
        auto it = queued_.find(first->second);
        Outcome o{.key = it->first, .write = std::move(it->second)};
        if (o.key.kind == Kind::kReport) {
          writing_.emplace_back(o.key, o.write.record);
        }
        queued_.erase(it);
        order_.erase(first);
        batch.push_back(std::move(o));
      }
      writing_count_ = batch.size();
    }
    WriteBatch(batch);
    Finish(batch);
  }
}

void HubWriter::WriteBatch(std::vector<Outcome>& batch) {
  std::vector<store::TargetStateRecord> reports, desired;
  std::vector<store::LastSeen> seen;
  std::vector<size_t> report_at, desired_at, seen_at;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Outcome& o = batch[i];
    switch (o.key.kind) {
      case Kind::kReport:
        reports.push_back(o.write.record);
        report_at.push_back(i);
        break;
      case Kind::kDesired:
        desired.push_back(o.write.record);
        desired_at.push_back(i);
        break;
      case Kind::kLastSeen:
        seen.push_back({.agent_id = o.key.agent_id, .at = o.write.at});
        seen_at.push_back(i);
        break;
    }
  }
  auto take = [&](const std::vector<absl::Status>& statuses,
                  const std::vector<size_t>& at) {
    for (size_t j = 0; j < at.size(); ++j) {
      batch[at[j]].status = j < statuses.size()
                                ? statuses[j]
                                : absl::InternalError("store: no result");
    }
  };
  if (!reports.empty()) take(store_.PutTargetStates(reports), report_at);
  if (!desired.empty()) {
    take(store_.PutDesiredVersions(desired), desired_at);
    // The bundles wait for this: told before the agents' last-seen times
    // are written.
    std::vector<
        std::pair<std::function<void(const absl::Status&)>, absl::Status>>
        told;
    for (size_t i : desired_at) {
      if (batch[i].write.done) {
        told.emplace_back(std::move(batch[i].write.done), batch[i].status);
      }
    }
    if (!told.empty()) {
      post_([told = std::move(told)] {
        for (const auto& [done, status] : told) done(status);
      });
    }
  }
  if (!seen.empty()) take(store_.RecordLastSeen(seen), seen_at);
}

void HubWriter::Finish(std::vector<Outcome>& batch) {
  // Failures by kind, for one log line each: how many, the first, retried.
  struct Failed {
    size_t count = 0;
    size_t retried = 0;
    const Outcome* first = nullptr;
  };
  Failed failed[3];
  std::vector<std::function<void()>> due;
  size_t pending = 0;
  absl::Duration backoff = absl::ZeroDuration();
  {
    absl::MutexLock lock(&mu_);
    bool retrying = false;
    for (Outcome& o : batch) {
      if (o.status.ok()) continue;
      Failed& f = failed[static_cast<int>(o.key.kind)];
      ++f.count;
      if (f.first == nullptr) f.first = &o;
      // Decisions are the hub's to take again; reports and last-seen
      // times are facts that would otherwise be lost.
      if (o.key.kind == Kind::kDesired || !IsRetryable(o.status) || stopping_ ||
          queued_.count(o.key) > 0) {
        continue;
      }
      ++f.retried;
      retrying = true;
      o.write.seq = next_seq_++;
      order_.emplace(o.write.seq, o.key);
      queued_.emplace(o.key, std::move(o.write));
    }
    if (retrying) {
      backoff = retry_.Next();
      next_batch_at_ = absl::Now() + backoff;
    } else {
      retry_.Reset();
      next_batch_at_ = absl::InfinitePast();
    }
    writing_.clear();
    writing_count_ = 0;
    const uint64_t oldest = order_.empty() ? next_seq_ : order_.begin()->first;
    while (!barriers_.empty() && barriers_.front().first <= oldest) {
      due.push_back(std::move(barriers_.front().second));
      barriers_.pop_front();
    }
    pending = queued_.size();
  }
  for (int k = 0; k < 3; ++k) {
    const Failed& f = failed[k];
    if (f.count == 0) continue;
    const char* kind = KindName(static_cast<Kind>(k));
    if (observer_) observer_->OnStoreWriteFailed(kind, f.count);
    // A refused decision is logged by the hub, per target.
    if (k == static_cast<int>(Kind::kDesired)) continue;
    CF_LOG_WARN("store: %d %s write(s) failed (first: agent %s%s%s): %s; %s",
                f.count, kind, f.first->key.agent_id,
                f.first->key.target.empty() ? "" : " target ",
                f.first->key.target, f.first->status.ToString(),
                f.retried > 0
                    ? absl::StrCat(f.retried, " queued again, next batch in ",
                                   absl::FormatDuration(backoff))
                    : std::string("not retried"));
  }
  if (observer_) observer_->OnStoreWritesPending(pending);
  // Also when nothing is due: the hub looks at pending() after each batch.
  post_([due = std::move(due)] {
    for (const std::function<void()>& done : due) done();
  });
}

}  // namespace certfleet::delivery
