// The rollout runner of this coordinator while it may drive rollouts: from
// start-up on a single coordinator, while it leads with several (HA). The
// issuance observer, the hub's report listener and the admin API's rollout
// commands look it up at each use, so a deposed leader's runner is never
// used once it is taken out.
//
//   RunnerSlot slot;
//   slot.Set(runner);                          // elected
//   if (auto r = slot.Get()) r->Poke();        // anywhere, any thread
//   slot.Set(nullptr);                         // deposed
#ifndef CERTFLEET_COORDINATOR_APP_RUNNER_SLOT_H_
#define CERTFLEET_COORDINATOR_APP_RUNNER_SLOT_H_

#include <memory>

#include "absl/synchronization/mutex.h"
#include "coordinator/rollout/runner/rollout_runner.h"

namespace certfleet::app {

class RunnerSlot {
 public:
  // The runner now; null when this coordinator does not drive rollouts.
  std::shared_ptr<rollout::RolloutRunner> Get() const {
    absl::MutexLock lock(&mu_);
    return runner_;
  }
  void Set(std::shared_ptr<rollout::RolloutRunner> runner) {
    absl::MutexLock lock(&mu_);
    runner_ = std::move(runner);
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<rollout::RolloutRunner> runner_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_RUNNER_SLOT_H_
