// Retention of certificate versions: every version is kept (with its sealed
// private key) until it has been expired for `expired_versions`, then
// deleted — except a certificate's newest version, and the versions its
// newest and its active rollout name, which a rollback or a returning host
// may still need. Each deletion is audited ("version.prune"). Runs only
// where issuance runs (the single coordinator, or the elected leader; the
// etcd store fences the deletion itself).
//
//   VersionPruner pruner(store, clock, {.expired_versions = absl::Hours(720)});
//   ASSIGN_OR_RETURN(PruneReport report, pruner.Prune(ctx));
//   pruner.PruneIfDue(ctx);  // at most once per interval, after each pass
#ifndef CERTFLEET_COORDINATOR_RETENTION_VERSION_PRUNER_H_
#define CERTFLEET_COORDINATOR_RETENTION_VERSION_PRUNER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/context.h"
#include "coordinator/store/store.h"

namespace certfleet::retention {

struct PrunerOptions {
  // How long a version stays after its not_after.
  absl::Duration expired_versions = absl::Hours(24 * 30);
  // PruneIfDue's spacing: pruning is housekeeping, not urgent.
  absl::Duration interval = absl::Hours(1);
};

// Told about each pass, for metrics.
class PrunerObserver {
 public:
  virtual ~PrunerObserver() = default;
  virtual void OnVersionsPruned(const std::string& certificate, int count) = 0;
  virtual void OnPruneFailed(const std::string& certificate) = 0;
};

struct PruneReport {
  int deleted = 0;
  // Certificates whose versions could not be listed or deleted; tried again
  // at the next pass.
  int failed = 0;
};

class VersionPruner {
 public:
  VersionPruner(store::Store& store, Clock& clock, PrunerOptions options,
                PrunerObserver* observer = nullptr);

  // One pass over every certificate that has versions, configured or not.
  // Fails only when the certificates cannot be listed; a certificate that
  // fails is counted and logged, and the others carry on.
  absl::StatusOr<PruneReport> Prune(const Context& ctx);

  // Prune() when `interval` has passed since the last pass (or there was
  // none). Logs a failure. Not thread-safe: one caller (the scheduler loop).
  void PruneIfDue(const Context& ctx);

 private:
  // Deletes the expired versions of `certificate`; returns how many.
  absl::StatusOr<int> PruneCertificate(const std::string& certificate,
                                       absl::Time expired_before);

  store::Store& store_;
  Clock& clock_;
  const PrunerOptions options_;
  PrunerObserver* const observer_;
  absl::Time last_pass_ = absl::InfinitePast();
};

}  // namespace certfleet::retention

#endif  // CERTFLEET_COORDINATOR_RETENTION_VERSION_PRUNER_H_
