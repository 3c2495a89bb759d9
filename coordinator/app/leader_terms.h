// Terms of leadership of a coordinator replica, as its election reports
// them: the store's fence is set before a term starts and cleared the moment
// it ends, so a deposed leader's next leader-only write fails even before
// its work has stopped; the term's Cancellation ends that work.
//
//   LeaderTerms terms(etcd_store);
//   LeaderElection election(options, clock, &terms);
//   if (std::shared_ptr<Cancellation> term = terms.term()) ... lead ...
#ifndef CERTFLEET_COORDINATOR_APP_LEADER_TERMS_H_
#define CERTFLEET_COORDINATOR_APP_LEADER_TERMS_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/context.h"
#include "coordinator/ha/leader_election.h"
#include "coordinator/store/etcd_store.h"

namespace certfleet::app {

class LeaderTerms : public ha::LeadershipObserver {
 public:
  explicit LeaderTerms(store::EtcdStore& store) : store_(store) {}

  void OnElected(const ha::Leadership& won) override {
    store_.SetFence(store::EtcdFence{won.key, won.create_revision});
    absl::MutexLock lock(&mu_);
    term_ = std::make_shared<Cancellation>();
  }
  void OnDeposed(const std::string&) override {
    store_.SetFence(std::nullopt);
    absl::MutexLock lock(&mu_);
    if (term_ != nullptr) term_->Cancel();
    term_.reset();
  }
  // The current term (cancelled when it ends); null when not leading.
  std::shared_ptr<Cancellation> term() const {
    absl::MutexLock lock(&mu_);
    return term_;
  }

 private:
  store::EtcdStore& store_;
  mutable absl::Mutex mu_;
  std::shared_ptr<Cancellation> term_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_LEADER_TERMS_H_
