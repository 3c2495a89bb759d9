// Which agents this replica serves, published in etcd for the leader: its
// rollouts count an agent connected to any replica as online (and would
// otherwise wait for it as offline). Every `interval` the replica's
// connected agents (from its hub) are compared with what it published and
// the difference written; the keys hang on a lease of this replica's own,
// so they vanish with the replica (lease_ttl after it dies). A replica whose
// rounds fail for `ttl` is cut off: on_cut_off tells the coordinator, which
// hands its agents over to other replicas until etcd is back. The same
// lease carries the replica's own record (its configuration's digest), and
// every replica's records are read back for the agreement check.
//
//   Presence presence({.client = client, .store = store, .replica = "c-1",
//                      .connected = [&] { return hub.ConnectedAgents(); }},
//                     clock);
//   presence.Start();
#ifndef CERTFLEET_COORDINATOR_HA_PRESENCE_H_
#define CERTFLEET_COORDINATOR_HA_PRESENCE_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/context.h"
#include "common/etcd/etcd_client.h"
#include "coordinator/store/etcd_store.h"

namespace certfleet::ha {

struct PresenceOptions {
  etcd::EtcdClient* client = nullptr;
  store::EtcdStore* store = nullptr;
  std::string replica;
  std::function<std::set<std::string>()> connected;
  absl::Duration ttl = absl::Seconds(6);
  absl::Duration interval = absl::Milliseconds(500);
  // Called (on the presence thread) when this replica becomes cut off from
  // etcd — no round succeeded for `ttl`, so its presence keys are gone and
  // the leader counts its agents offline — and again when a round succeeds.
  std::function<void(bool cut_off)> on_cut_off;
  // Published at <prefix>replicas/<replica> on the same lease (its
  // configuration's digest, for the cluster's agreement check); its
  // `replica` is filled in. Every `replicas_interval` after a good round,
  // every replica's record is read and handed to `on_replicas` (on the
  // presence thread; null: not read).
  store::ReplicaRecord self;
  absl::Duration replicas_interval = absl::Seconds(5);
  std::function<void(const std::vector<store::ReplicaRecord>&)> on_replicas;
};

class Presence {
 public:
  Presence(PresenceOptions options, Clock& clock);
  ~Presence();  // Stop()
  void Start();
  // Ends the thread and revokes the lease: the keys go at once.
  void Stop();

 private:
  void Loop();
  // One round: lease kept alive (a new one, and everything republished,
  // when it was lost), then the difference written.
  absl::Status Sync(const Context& ctx);

  const PresenceOptions options_;
  Clock& clock_;
  int64_t lease_id_ = 0;  // 0: none yet
  bool cut_off_ = false;
  absl::Time renewed_at_ = absl::InfinitePast();
  std::set<std::string> published_;
  bool self_published_ = false;
  absl::Time replicas_read_at_ = absl::InfinitePast();
  std::shared_ptr<Cancellation> cancel_;
  std::thread thread_;
};

}  // namespace certfleet::ha

#endif  // CERTFLEET_COORDINATOR_HA_PRESENCE_H_
