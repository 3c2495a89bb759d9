// Terms of leadership of a coordinator replica, as its election reports
// them: the store's fence is set before a term starts and cleared the moment
// it ends, so a deposed leader's next leader-only write fails even before
// its work has stopped; the term's Cancellation ends that work. A term also
// ends when the replica stops: its Cancellation is a child of the serving
// Context's (EndTermsWith), no thread in between.
//
//   LeaderTerms terms(etcd_store);
//   terms.EndTermsWith(serve_ctx);
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

  // Terms begun from now on are cancelled when `ctx` is (at once if it
  // already is).
  void EndTermsWith(const Context& ctx) {
    absl::MutexLock lock(&mu_);
    ends_with_ = ctx;
  }

  void OnElected(const ha::Leadership& won) override {
    store_.SetFence(store::EtcdFence{won.key, won.create_revision});
    absl::MutexLock lock(&mu_);
    term_ = ends_with_.NewCancellation();
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
  Context ends_with_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Cancellation> term_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_LEADER_TERMS_H_
