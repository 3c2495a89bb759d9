// Whether the replicas of a cluster run one configuration: each publishes
// the digest of its cluster-wide sections (config/cluster_digest.h) and the
// certificates it configures (presence.h); every replica compares them with
// its own. Replicas that decide differently lose work silently — a leader
// without a certificate does not renew it — so a difference must be loud:
// the coordinator logs a warning, audits it and sets a metric when the set
// of differing replicas changes (Observe says when).
//
//   ConfigAgreement agreement("c-1", cfg.cluster_digest, names);
//   ConfigAgreement::Change c = agreement.Observe(store.ListReplicas());
//   if (c.changed) CF_LOG_WARN("%s", c.message);
#ifndef CERTFLEET_COORDINATOR_HA_CONFIG_AGREEMENT_H_
#define CERTFLEET_COORDINATOR_HA_CONFIG_AGREEMENT_H_

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "coordinator/store/etcd_store.h"

namespace certfleet::ha {

// A live replica whose configuration differs from this one's.
struct ConfigDifference {
  std::string replica;
  std::string digest;
  std::vector<std::string> only_there;  // certificates it has, this one not
  std::vector<std::string> only_here;   // and the other way round

  bool operator==(const ConfigDifference&) const = default;
};

class ConfigAgreement {
 public:
  ConfigAgreement(std::string replica, std::string digest,
                  std::vector<std::string> certificates);

  struct Change {
    bool changed = false;  // the differing replicas are not those of before
    bool agreed = true;    // no live replica differs now
    // For the log and the audit record: every difference, or that the
    // replicas agree again.
    std::string message;
  };
  // Compares this replica with what every replica publishes now (its own
  // record among them is ignored). Thread-safe.
  Change Observe(const std::vector<store::ReplicaRecord>& replicas);

  // As of the last Observe: the replicas that differ, and every replica seen.
  std::vector<ConfigDifference> differences() const;
  std::vector<store::ReplicaRecord> replicas() const;
  const std::string& digest() const { return digest_; }

 private:
  const std::string replica_;
  const std::string digest_;
  const std::vector<std::string> certificates_;  // sorted
  mutable absl::Mutex mu_;
  std::vector<ConfigDifference> differences_ ABSL_GUARDED_BY(mu_);
  std::vector<store::ReplicaRecord> replicas_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::ha

#endif  // CERTFLEET_COORDINATOR_HA_CONFIG_AGREEMENT_H_
