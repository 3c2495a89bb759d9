// Leader election among coordinators on an etcd lease. Exactly one replica
// leads: it holds the leadership key, attached to its lease, and renews the
// lease every ttl/3. Only the leader places orders, renews certificates and
// drives rollouts; its writes are fenced on the key's create_revision
// (store/etcd_store.h), so a leader that was deposed without knowing it
// cannot write.
//
// A leader steps down — calls OnDeposed before anything else — when a
// renewal says the lease is gone, or when it has not renewed for
// ttl - safety_margin (it cannot reach etcd): by then etcd may let another
// replica win. So a leader cut off from etcd stops acting within the TTL,
// and the others take over when the lease expires.
//
// Followers poll the key every `poll_interval` and campaign when it is
// gone: grant a lease, then create the key only if it is absent (one
// transaction), so of several campaigners exactly one wins.
//
//   LeaderElection election({.client = client.get(),
//                            .key = "/certfleet/leader",
//                            .replica = "coord-1",
//                            .ttl = absl::Seconds(3)},
//                           clock, &observer);
//   election.Start();
//   ...
//   election.Stop();   // resigns: revokes the lease, the key goes at once
#ifndef CERTFLEET_COORDINATOR_HA_LEADER_ELECTION_H_
#define CERTFLEET_COORDINATOR_HA_LEADER_ELECTION_H_

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/context.h"
#include "common/etcd/etcd_client.h"

namespace certfleet::ha {

// What a leader won: the key and its create_revision (the fence).
struct Leadership {
  std::string key;
  int64_t create_revision = 0;
  int64_t lease_id = 0;
};

// Told of changes, on the election's thread. OnElected returns before the
// replica counts as acting; OnDeposed must stop every leader-only activity
// before it returns.
class LeadershipObserver {
 public:
  virtual ~LeadershipObserver() = default;
  virtual void OnElected(const Leadership& leadership) = 0;
  virtual void OnDeposed(const std::string& why) = 0;
};

struct LeaderElectionOptions {
  etcd::EtcdClient* client = nullptr;  // must outlive the election
  std::string key;                     // "/certfleet/leader"
  std::string replica;                 // the key's value: who leads
  absl::Duration ttl = absl::Seconds(3);
  // A leader that has not renewed for ttl - safety_margin steps down; at
  // most ttl / 3.
  absl::Duration safety_margin = absl::Milliseconds(500);
  // How often a follower looks whether the key is gone.
  absl::Duration poll_interval = absl::Milliseconds(200);
};

class LeaderElection {
 public:
  LeaderElection(LeaderElectionOptions options, Clock& clock,
                 LeadershipObserver* observer);
  // Stops (and resigns).
  ~LeaderElection();

  // Starts the election's thread.
  void Start();
  // Ends the thread; a leader resigns (OnDeposed, then the lease is
  // revoked so another replica takes over without waiting for the TTL).
  void Stop();

  // The leadership held now, if any.
  std::optional<Leadership> leadership() const;
  // The replica named by the key as last read ("" when none or unknown).
  std::string leader() const;

 private:
  void Loop();
  // One campaign: true when won (leadership_ set, OnElected called).
  bool Campaign(const Context& ctx);
  // Renews until the lease is lost or the context ends; returns why it
  // stepped down ("" when stopped).
  std::string Lead(const Context& ctx);
  void StepDown(const std::string& why);

  const LeaderElectionOptions options_;
  Clock& clock_;
  LeadershipObserver* const observer_;

  mutable absl::Mutex mu_;
  std::optional<Leadership> leadership_ ABSL_GUARDED_BY(mu_);
  std::string leader_ ABSL_GUARDED_BY(mu_);
  // When the lease was last known good (granted or renewed).
  absl::Time renewed_at_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Cancellation> cancel_;
  std::thread thread_;
};

}  // namespace certfleet::ha

#endif  // CERTFLEET_COORDINATOR_HA_LEADER_ELECTION_H_
