// Decides which certificates need an order and runs them: at start it
// issues what is missing, resumes interrupted orders, and renews what is
// due; then it keeps checking. One order per certificate at a time, at most
// `max_concurrent_orders` across certificates (issuers add their own caps).
//
// A certificate is due when it has no version, when its configuration
// (names, key type, issuer) no longer matches its newest version, when its
// newest version was revoked, when an order of it is in flight, when its
// renewal time has come (renewal_policy.h; ARI when the CA offers it), or
// when an operator asked for it (renew_at = InfinitePast, set by
// `certfleetctl renew`; kept until a new version is issued). A
// failed attempt pushes the next one back — exponential backoff from
// retry_initial to retry_max, or the CA's Retry-After if later — and that
// time is persisted, so a restart does not hammer a CA that said "later".
//
//   Scheduler scheduler(config.certificates, issuers, store, runner, clock,
//   opts); ASSIGN_OR_RETURN(PassReport report, scheduler.RunPass(ctx));  //
//   --once scheduler.Run(ctx);                                         // serve
#ifndef CERTFLEET_COORDINATOR_SCHEDULER_SCHEDULER_H_
#define CERTFLEET_COORDINATOR_SCHEDULER_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "coordinator/config/config.h"
#include "coordinator/issuance/issuer.h"
#include "coordinator/issuance/order_runner.h"
#include "coordinator/store/store.h"

namespace certfleet::scheduler {

struct SchedulerOptions {
  int max_concurrent_orders = 16;
  absl::Duration check_interval = absl::Minutes(10);
  absl::Duration retry_initial = absl::Minutes(1);
  absl::Duration retry_max = absl::Hours(6);
  // How often ARI is asked again when the CA sends no Retry-After.
  absl::Duration ari_recheck = absl::Hours(6);
  uint64_t seed = std::random_device{}();
  // Called by Run after each pass that could read the store (housekeeping
  // that must run only where issuance runs: retention).
  std::function<void(const Context&)> after_pass;
  // Certificates taken out of service on purpose (config
  // removed_certificates): SweepOrphanOrders abandons their orders. A
  // certificate merely missing from `certificates` is left alone.
  std::set<std::string> removed;
  // This replica's name in messages ("not configured on c-2"); "" for a
  // single coordinator.
  std::string replica;
};

// Told about each certificate after each pass, for metrics. Called from
// the scheduler's threads.
class SchedulerObserver {
 public:
  virtual ~SchedulerObserver() = default;
  // The newest version's expiry and the planned renewal time.
  virtual void OnCertificate(const std::string& name, absl::Time not_after,
                             absl::Time renew_at) = 0;
};

struct PassReport {
  struct Entry {
    std::string certificate;
    // "missing", "renew", "resume", "changed", "revoked", "requested"
    std::string reason;
    absl::Status result;
    int64_t version = 0;  // when issued
  };
  std::vector<Entry> attempted;
  int not_due = 0;
  int backing_off = 0;  // skipped: a previous failure's retry time not reached
  // The earliest time something becomes due (InfiniteFuture if nothing).
  absl::Time next_due = absl::InfiniteFuture();

  int issued() const;
  // Attempts that failed; attempts cut short by shutdown are cancelled().
  int failed() const;
  int cancelled() const;
};

class Scheduler {
 public:
  Scheduler(std::vector<config::CertificateConfig> certificates,
            std::map<std::string, issuance::Issuer*> issuers,
            store::Store& store, issuance::CertificateOrders& runner,
            Clock& clock, SchedulerOptions options,
            SchedulerObserver* observer = nullptr);

  // Abandons the in-flight orders of certificates removed on purpose
  // (options.removed): their DNS records are removed, pending authorizations
  // deactivated at the CA, and each abandonment audited
  // ("certificate.order_abandoned"). The order of a certificate that is
  // only missing from this coordinator's configuration is kept, with a
  // warning: another replica's configuration may have it, and the next
  // leader that does resumes the same order (one order per renewal).
  absl::Status SweepOrphanOrders(const Context& ctx);

  // One pass over every certificate; returns when the orders it started
  // have finished. Fails only when the store cannot be read.
  absl::StatusOr<PassReport> RunPass(const Context& ctx);

  // Passes until `ctx` is cancelled, sleeping in between until the next due
  // time (at most check_interval) or until Wake().
  void Run(const Context& ctx);

  // Ends Run's current sleep, or makes Run pass once more right after the
  // pass in progress, so a change made to the store from outside (a renewal
  // request) is seen at once. Thread-safe; no effect without Run.
  void Wake();

 private:
  struct Job {
    const config::CertificateConfig* cert;
    std::string reason;
    std::string replaces;
    absl::Time urgency;  // earlier runs first
  };
  // Whether `cert` needs an order now; updates `report` for the others.
  // A wait set by the issuer's client-side order limit ends when that limit
  // changed (raised or lowered, and so at the next start): the slot it
  // waited for was counted under a limit that no longer applies.
  absl::Status LiftChangedLimit(const config::CertificateConfig& cert,
                                store::CertificateState& state, absl::Time now);
  absl::StatusOr<std::optional<Job>> Evaluate(
      const config::CertificateConfig& cert, PassReport& report,
      const Context& ctx);
  // The renewal time of `latest`: the persisted one, or a new one from ARI
  // or the lifetime.
  absl::Time RenewAt(const config::CertificateConfig& cert,
                     const store::VersionRecord& latest,
                     store::CertificateState& state, bool& state_changed,
                     const Context& ctx);
  void Attempt(const Job& job, PassReport::Entry& entry, const Context& ctx);
  // Certificates the store holds that this configuration neither has nor
  // removed: their expiry stays watched (the observer is told), and each is
  // named once in a warning — nobody renews it while this replica leads.
  absl::Status WatchUnconfigured();
  // "this coordinator", or "replica <name>".
  std::string Here() const;
  double Uniform();

  const std::vector<config::CertificateConfig> certificates_;
  // Their names, for the certificates the store holds beyond them.
  const std::set<std::string> configured_;
  const std::map<std::string, issuance::Issuer*> issuers_;
  store::Store& store_;
  issuance::CertificateOrders& runner_;
  Clock& clock_;
  const SchedulerOptions options_;
  SchedulerObserver* const observer_;

  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  // When ARI may be asked again, per certificate (not persisted: a restart
  // asks once more, which is cheap and allowed).
  std::map<std::string, absl::Time> next_ari_check_ ABSL_GUARDED_BY(mu_);
  // Wake() before Run's next sleep; the sleep in progress, if any.
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<Cancellation> nap_ ABSL_GUARDED_BY(mu_);
  // Unconfigured certificates already warned about.
  std::set<std::string> warned_unconfigured_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::scheduler

#endif  // CERTFLEET_COORDINATOR_SCHEDULER_SCHEDULER_H_
