// The agent hub's store writes, written behind on a thread of their own: a
// slow store (etcd under load or unreachable, up to its request_timeout per
// call) holds up this thread, never the hub's, which keeps serving every
// agent's stream meanwhile (AgentHub).
//
// A write is queued under a key, and a later write with the same key
// replaces one still waiting, so the queue never holds two writes of one
// key and its length is bounded by the fleet's targets and agents:
//   - a target's report (PutTargetState), per (agent, target): the record
//     as the hub knows it when queued;
//   - an agent's last-seen time, per agent: the latest;
//   - a target's desired version (PutDesiredVersion), per (agent, target),
//     with `done` told whether the store took it: the hub sends the bundle
//     only then (decide, persist with the fence, then act: docs/ha.md). A
//     write replaced while still waiting is told kAborted.
//
// The thread takes up to kMaxBatch waiting writes, oldest first, and writes
// each kind with one batch call (Store::PutTargetStates, PutDesiredVersions,
// RecordLastSeen: one transaction, or a few, per kind on etcd and SQLite).
// Reports go before decisions: a report queued before the decision for the
// same target may not name its certificate yet, and must not land over it.
// One batch at a time, so two writes of one key are never reordered.
//
// A report or last-seen write that failed with a retryable status
// (common/backoff.h IsRetryable: etcd away for a moment) is queued again,
// unless a newer one for its key waits, and the thread waits a backoff
// before its next batch: what agents reported is not lost while etcd is
// away. Other failures are logged (a warning per batch naming the first
// record) and counted (HubObserver::OnStoreWriteFailed). A desired version
// is never retried here: its `done` says why, and the hub decides again.
//
// Every callback (`done`, Barrier's) is handed to `post` in order after the
// store call it concerns, so the hub runs them on its own thread; after
// each batch `post` is also given a no-op, so the hub looks at pending()
// again (it holds agents' streams back while too many writes wait).
//
// Thread-safe. HubWriter::mu_ is a leaf: nothing is called while it is held.
//
//   HubWriter writer(store, [this](std::function<void()> f) { Post(f); });
//   writer.PutDesiredVersion("agt-0a1b2c3d4e5f", "www", "web", "web/3",
//                            [](const absl::Status& stored) { ... });
//   writer.Barrier([] { ... });  // after everything queued so far
#ifndef CERTFLEET_COORDINATOR_DELIVERY_HUB_WRITER_H_
#define CERTFLEET_COORDINATOR_DELIVERY_HUB_WRITER_H_

#include <compare>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "coordinator/delivery/agent_hub_observer.h"
#include "coordinator/store/store.h"

namespace certfleet::delivery {

class HubWriter {
 public:
  using PostFn = std::function<void(std::function<void()>)>;
  // Writes at most this many records per batch (a few etcd transactions of
  // up to 128 operations each).
  static constexpr size_t kMaxBatch = 512;

  // `observer` may be null.
  HubWriter(store::Store& store, PostFn post, HubObserver* observer = nullptr,
            BackoffPolicy retry = {.initial = absl::Milliseconds(200),
                                   .max = absl::Seconds(5)});
  // Writes what is queued — once: failures are logged, not retried — and
  // joins the thread. Callbacks are still handed to `post`.
  ~HubWriter();

  void PutTargetState(store::TargetStateRecord state);
  // Never moves a stored last-seen time backwards.
  void RecordLastSeen(const std::string& agent_id, absl::Time at);
  // Only agent_id, target, certificate and desired_version_id of
  // `desired` are written.
  void PutDesiredVersion(store::TargetStateRecord desired,
                         std::function<void(const absl::Status&)> done);
  // `done` is posted once every write queued before this call was tried:
  // written, failed, or failed and queued again (a barrier does not wait
  // for etcd to come back).
  void Barrier(std::function<void()> done);

  // The reports of `agent_id` queued or being written, newest for each
  // target: what a read of the store may not show yet. Call it before the
  // read: a write finishing between the two is then in one or the other.
  std::vector<store::TargetStateRecord> PendingReports(
      const std::string& agent_id) const;
  // Writes queued or being written.
  size_t pending() const;

 private:
  enum class Kind { kReport, kDesired, kLastSeen };
  struct Key {
    Kind kind;
    std::string agent_id;
    std::string target;  // "" for kLastSeen
    auto operator<=>(const Key&) const = default;
  };
  struct Write {
    uint64_t seq = 0;  // when first queued (a replacement keeps it)
    store::TargetStateRecord record;                // kReport, kDesired
    absl::Time at;                                  // kLastSeen
    std::function<void(const absl::Status&)> done;  // kDesired
  };
  struct Outcome {
    Key key;
    Write write;
    absl::Status status;
  };

  static const char* KindName(Kind kind);
  void Queue(Key key, Write write);
  void Run();
  // Writes `batch` (one store call per kind) and fills in each status.
  void WriteBatch(std::vector<Outcome>& batch);
  // After a batch: retryable failures queued again, barriers due posted.
  void Finish(std::vector<Outcome>& batch);

  store::Store& store_;
  const PostFn post_;
  HubObserver* const observer_;

  mutable absl::Mutex mu_;
  std::map<Key, Write> queued_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Key> order_ ABSL_GUARDED_BY(mu_);  // seq → key
  // The batch being written (its records, for PendingReports).
  std::vector<std::pair<Key, store::TargetStateRecord>> writing_
      ABSL_GUARDED_BY(mu_);
  size_t writing_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  // Barriers waiting: each with the first seq queued after it.
  std::deque<std::pair<uint64_t, std::function<void()>>> barriers_
      ABSL_GUARDED_BY(mu_);
  Backoff retry_ ABSL_GUARDED_BY(mu_);
  absl::Time next_batch_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace certfleet::delivery

#endif  // CERTFLEET_COORDINATOR_DELIVERY_HUB_WRITER_H_
