// A running etcd watch (EtcdClient::Watch): a thread reading one Watch
// stream and handing each batch of events to a callback, in revision order.
//
// When the stream breaks with kUnavailable (a member went down), the watch
// resumes on another member from the revision after the last one delivered,
// so no change is lost or repeated; it keeps trying, with backoff, until
// cancelled, and logs a warning at each failure. The callback's last call
// carries a non-OK status, exactly once:
//   kCancelled   — Cancel() (or the destructor) ended it;
//   kOutOfRange  — the start revision (or the resume revision) has been
//                  compacted: re-read the state, then watch again from the
//                  revision of that read + 1; the message names the compact
//                  revision;
//   other codes  — etcd cancelled the watch (its reason) or a permanent
//                  error ended the stream.
//
//   ASSIGN_OR_RETURN(auto watch, client->Watch(
//       {.range = KeyRange::Prefix("/certfleet/leader"), .start_revision = 0},
//       [&](absl::StatusOr<WatchUpdate> update) { ... }, ctx));
//   ...
//   watch->Cancel();  // the callback has run its last time when this returns
#ifndef CERTFLEET_COMMON_ETCD_ETCD_WATCH_H_
#define CERTFLEET_COMMON_ETCD_ETCD_WATCH_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "common/etcd/etcd_types.h"

namespace certfleet::etcd {

namespace internal {
struct Connection;
struct WatchState;
}  // namespace internal

// What to watch and from which revision.
struct WatchOptions {
  KeyRange range;
  // The first revision to report; 0: changes after the watch is created.
  // A compacted revision ends the watch with kOutOfRange.
  int64_t start_revision = 0;
  // Deliver each event's previous key-value too.
  bool prev_kv = false;
};

// Called on the watch's own thread, never concurrently with itself, and
// possibly before Watch() has returned (history from start_revision comes at
// once). It may call Cancel() or destroy the watch. Keep it short: etcd's
// events wait.
using WatchCallback = std::function<void(absl::StatusOr<WatchUpdate>)>;

// The handle of one running watch; destroying it cancels the watch.
class EtcdWatch {
 public:
  // Cancels.
  ~EtcdWatch();
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // Ends the watch. When it returns (called from any thread but the
  // callback's), the callback has been called for the last time: with
  // kCancelled, unless the watch had already ended. Idempotent.
  void Cancel();
  // True once the watch has ended for good: the callback's final call has
  // been made or is being made. (After Cancel() returns, it has been made.)
  bool Done() const;

 private:
  friend class EtcdClient;
  EtcdWatch(std::shared_ptr<internal::WatchState> state, std::thread thread);

  std::shared_ptr<internal::WatchState> state_;
  std::thread thread_;
};

}  // namespace certfleet::etcd

#endif  // CERTFLEET_COMMON_ETCD_ETCD_WATCH_H_
