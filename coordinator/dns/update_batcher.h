// Group commit for DNS UPDATEs. While one UPDATE for a zone is in flight,
// later callers for that zone queue up; when it completes, one queued caller
// sends a single UPDATE carrying everything queued meanwhile. An idle zone
// adds no latency; a busy one turns N concurrent calls into a few UPDATEs.
// This is the throughput lever: BIND writes and fsyncs its journal once per
// UPDATE, not once per record.
//
// Each caller's operations stay together in one UPDATE (RFC 2136 §3.4.2
// applies an UPDATE all or nothing), in arrival order, and each caller gets
// the result of the UPDATE that carried them. Thread-safe.
//
//   UpdateBatcher batcher([&](const std::string& zone,
//                             const std::vector<UpdateOp>& ops,
//                             absl::Time deadline) { return Send(zone, ops);
//                             });
//   RETURN_IF_ERROR(batcher.Submit("example.test.", {{UpdateOp::kAdd, rec}},
//   ctx));
#ifndef CERTFLEET_COORDINATOR_DNS_UPDATE_BATCHER_H_
#define CERTFLEET_COORDINATOR_DNS_UPDATE_BATCHER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/context.h"
#include "coordinator/dns/dns_provider.h"

namespace certfleet::dns {

// One change inside an UPDATE: add the TXT value (RFC 2136 §2.5.1) or delete
// exactly that value (§2.5.4).
struct UpdateOp {
  enum Kind { kAdd, kDelete };
  Kind kind = kAdd;
  TxtRecord record;

  bool operator==(const UpdateOp&) const = default;
};

class UpdateBatcher {
 public:
  // Sends one UPDATE for `zone` with `ops`; must give up by `deadline`
  // (real time: the latest deadline among the callers it carries).
  using SendFn = std::function<absl::Status(const std::string& zone,
                                            const std::vector<UpdateOp>& ops,
                                            absl::Time deadline)>;

  // `max_batch_bytes` bounds the estimated size of one UPDATE (a DNS message
  // over TCP is at most 65535 bytes); a caller whose operations alone exceed
  // it is sent on its own.
  explicit UpdateBatcher(SendFn send, size_t max_batch_bytes = 48 * 1024);

  // Blocks until an UPDATE carrying `ops` completed and returns its result.
  // If `ctx` ends while the ops are still queued, they are withdrawn and
  // kDeadlineExceeded/kCancelled returned; once sent, the call waits for the
  // UPDATE's own result.
  absl::Status Submit(const std::string& zone, std::vector<UpdateOp> ops,
                      const Context& ctx);

  // UPDATEs sent so far.
  int64_t batches_sent() const;
  // Operations waiting behind the UPDATE in flight for `zone` (for tests).
  size_t queued_ops(const std::string& zone) const;

 private:
  struct Batch {
    std::vector<std::pair<int64_t, UpdateOp>> ops;  // (caller id, op)
    size_t bytes = 0;
    absl::Time deadline = absl::InfinitePast();
    bool sent = false;
    bool done = false;
    absl::Status result;
  };
  struct ZoneQueue {
    bool in_flight = false;
    std::deque<std::shared_ptr<Batch>> waiting;
  };

  static size_t EstimateBytes(const std::vector<UpdateOp>& ops);
  // Sends `batch` (already taken off the queue) and publishes its result.
  void Lead(const std::string& zone, const std::shared_ptr<Batch>& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SendFn send_;
  const size_t max_batch_bytes_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  std::map<std::string, ZoneQueue> zones_ ABSL_GUARDED_BY(mu_);
  int64_t next_caller_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t batches_sent_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_UPDATE_BATCHER_H_
