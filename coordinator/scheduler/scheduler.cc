#include "coordinator/scheduler/scheduler.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/acme/problem.h"
#include "coordinator/issuance/renewal_policy.h"

namespace certfleet::scheduler {
namespace {

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

}  // namespace

int PassReport::issued() const {
  return static_cast<int>(
      std::count_if(attempted.begin(), attempted.end(),
                    [](const Entry& e) { return e.result.ok(); }));
}

int PassReport::failed() const {
  return static_cast<int>(
      std::count_if(attempted.begin(), attempted.end(), [](const Entry& e) {
        return !e.result.ok() &&
               e.result.code() != absl::StatusCode::kCancelled;
      }));
}

int PassReport::cancelled() const {
  return static_cast<int>(attempted.size()) - issued() - failed();
}

Scheduler::Scheduler(std::vector<config::CertificateConfig> certificates,
                     std::map<std::string, issuance::Issuer*> issuers,
                     store::Store& store, issuance::CertificateOrders& runner,
                     Clock& clock, SchedulerOptions options,
                     SchedulerObserver* observer)
    : certificates_(std::move(certificates)),
      configured_([this] {
        std::set<std::string> names;
        for (const auto& c : certificates_) names.insert(c.name);
        return names;
      }()),
      issuers_(std::move(issuers)),
      store_(store),
      runner_(runner),
      clock_(clock),
      options_(options),
      observer_(observer),
      rng_(options.seed) {}

double Scheduler::Uniform() {
  absl::MutexLock lock(&mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

std::string Scheduler::Here() const {
  return options_.replica.empty() ? "this coordinator"
                                  : absl::StrCat("replica ", options_.replica);
}

absl::Status Scheduler::SweepOrphanOrders(const Context&) {
  ASSIGN_OR_RETURN(std::vector<store::OrderRecord> orders, store_.ListOrders());
  absl::Status first_error;
  for (const store::OrderRecord& order : orders) {
    if (configured_.count(order.cert_name)) continue;
    if (options_.removed.count(order.cert_name) == 0) {
      CF_LOG_WARN(
          "certificate %s: not configured on %s, but its order %s is in "
          "flight: kept for a replica whose configuration has it (to give "
          "the certificate up, list it under removed_certificates)",
          order.cert_name, Here(), order.order_url);
      continue;
    }
    auto it = issuers_.find(order.issuer);
    const bool deactivating = it != issuers_.end();
    CF_LOG_WARN(
        "certificate %s is listed under removed_certificates: abandoning its "
        "order %s%s",
        order.cert_name, order.order_url,
        deactivating ? ""
                     : " (its issuer is not configured: its "
                       "authorizations are left to expire at the CA)");
    absl::Status s =
        runner_.Abandon(order, deactivating ? it->second : nullptr);
    absl::StatusOr<int64_t> audited = store_.AppendAudit(
        {.at = clock_.Now(),
         .actor = "coordinator",
         .action = "certificate.order_abandoned",
         .certificate = order.cert_name,
         .detail = absl::StrCat(
             "removed_certificates lists it: order ", order.order_url,
             deactivating ? ", pending authorizations deactivated"
                          : ", issuer " + order.issuer + " not configured",
             ", DNS-01 records removed"),
         .result = s.ok() ? "ok" : s.ToString()});
    if (!audited.ok()) {
      CF_LOG_WARN("certificate %s: abandonment not audited: %s",
                  order.cert_name, audited.status().ToString());
    }
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

absl::Status Scheduler::WatchUnconfigured() {
  ASSIGN_OR_RETURN(std::vector<store::CertificateState> states,
                   store_.ListCertificateStates());
  for (const store::CertificateState& state : states) {
    if (configured_.count(state.name) || options_.removed.count(state.name)) {
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<store::VersionRecord> latest,
                     store_.LatestVersion(state.name));
    if (!latest.has_value()) continue;
    if (observer_ != nullptr) {
      observer_->OnCertificate(state.name, latest->not_after, state.renew_at);
    }
    bool first;
    {
      absl::MutexLock lock(&mu_);
      first = warned_unconfigured_.insert(state.name).second;
    }
    if (first) {
      CF_LOG_WARN(
          "certificate %s: in the store (version %d expires %s) but not "
          "configured on %s: not renewed while it leads. Configure it, or "
          "list it under removed_certificates to give it up",
          state.name, latest->version, Rfc3339(latest->not_after), Here());
    }
  }
  return absl::OkStatus();
}

absl::Time Scheduler::RenewAt(const config::CertificateConfig& cert,
                              const store::VersionRecord& latest,
                              store::CertificateState& state,
                              bool& state_changed, const Context& ctx) {
  const absl::Time now = clock_.Now();
  auto issuer_it = issuers_.find(cert.issuer);
  bool ari = false;
  if (issuer_it != issuers_.end() && !latest.ari_cert_id.empty()) {
    absl::StatusOr<acme::Directory> dir =
        issuer_it->second->client().GetDirectory(ctx);
    ari = dir.ok() && !dir->renewal_info.empty();
  }
  if (ari) {
    absl::Time check_at;
    {
      absl::MutexLock lock(&mu_);
      auto it = next_ari_check_.find(cert.name);
      check_at =
          it == next_ari_check_.end() ? absl::InfinitePast() : it->second;
    }
    if (now >= check_at || state.renew_at == absl::InfiniteFuture()) {
      absl::StatusOr<acme::RenewalInfo> info =
          issuer_it->second->client().GetRenewalInfo(latest.ari_cert_id, ctx);
      absl::Time next_check = now + options_.ari_recheck;
      if (info.ok()) {
        if (info->retry_after) {
          next_check = std::clamp(*info->retry_after, now + absl::Minutes(1),
                                  now + absl::Hours(24));
        }
        // Safety net against a CA suggesting a window after (or too close
        // to) expiry: keep the last tenth of the lifetime as margin.
        const absl::Time latest_sane =
            latest.not_after - (latest.not_after - latest.not_before) / 10;
        issuance::RenewalWindow window{
            std::min(info->window_start, latest_sane),
            std::min(info->window_end, latest_sane)};
        if (issuance::OutsideWindow(state.renew_at, window)) {
          state.renew_at = issuance::ChooseInWindow(window, now, Uniform());
          state_changed = true;
          CF_LOG_INFO(
              "certificate %s: CA suggests renewal between %s and %s; "
              "chose %s",
              cert.name, Rfc3339(window.start), Rfc3339(window.end),
              Rfc3339(state.renew_at));
        }
        absl::MutexLock lock(&mu_);
        next_ari_check_[cert.name] = next_check;
        return state.renew_at;
      }
      CF_LOG_WARN(
          "certificate %s: renewal info unavailable (%s); using the "
          "lifetime rule",
          cert.name, info.status().ToString());
      absl::MutexLock lock(&mu_);
      next_ari_check_[cert.name] = now + absl::Hours(1);
    }
  }
  std::optional<absl::Duration> renew_before = cert.renew_before;
  if (renew_before && *renew_before >= latest.not_after - latest.not_before) {
    // Renewing "as soon as issued" would reissue on every pass.
    CF_LOG_WARN(
        "certificate %s: renew_before %s is not shorter than the "
        "certificate's lifetime %s; using a third of the lifetime",
        cert.name, absl::FormatDuration(*renew_before),
        absl::FormatDuration(latest.not_after - latest.not_before));
    renew_before.reset();
  }
  const issuance::RenewalWindow window = issuance::LifetimeWindow(
      latest.not_before, latest.not_after, renew_before);
  if (!ari && issuance::OutsideWindow(state.renew_at, window)) {
    state.renew_at = issuance::ChooseInWindow(window, now, Uniform());
    state_changed = true;
  } else if (ari && state.renew_at == absl::InfiniteFuture()) {
    state.renew_at = issuance::ChooseInWindow(window, now, Uniform());
    state_changed = true;
  }
  return state.renew_at;
}

absl::Status Scheduler::LiftChangedLimit(const config::CertificateConfig& cert,
                                         store::CertificateState& state,
                                         absl::Time now) {
  auto it = issuers_.find(cert.issuer);
  if (it == issuers_.end()) return absl::OkStatus();
  const config::IssuerConfig& ic = it->second->config();
  const std::string limit =
      acme::DescribeOrderLimit(ic.new_orders_per_window, ic.new_orders_window);
  if (limit == state.limited_by) return absl::OkStatus();
  CF_LOG_INFO(
      "certificate %s: was waiting until %s for issuer %s's client-side limit "
      "(%s); the limit is now %s, so it is attempted now",
      cert.name, Rfc3339(state.next_attempt_at), cert.issuer, state.limited_by,
      limit);
  state.next_attempt_at = absl::InfinitePast();
  state.limited_by.clear();
  state.updated_at = now;
  return store_.PutCertificateState(state);
}

absl::StatusOr<std::optional<Scheduler::Job>> Scheduler::Evaluate(
    const config::CertificateConfig& cert, PassReport& report,
    const Context& ctx) {
  const absl::Time now = clock_.Now();
  ASSIGN_OR_RETURN(std::optional<store::CertificateState> stored,
                   store_.GetCertificateState(cert.name));
  store::CertificateState state =
      stored.value_or(store::CertificateState{.name = cert.name});
  if (now < state.next_attempt_at && !state.limited_by.empty()) {
    RETURN_IF_ERROR(LiftChangedLimit(cert, state, now));
  }
  if (now < state.next_attempt_at) {
    ++report.backing_off;
    report.next_due = std::min(report.next_due, state.next_attempt_at);
    return std::nullopt;
  }
  ASSIGN_OR_RETURN(std::optional<store::OrderRecord> order,
                   store_.GetOrder(cert.name));
  ASSIGN_OR_RETURN(std::optional<store::VersionRecord> latest,
                   store_.LatestVersion(cert.name));
  if (order) {
    return Job{&cert, "resume", order->replaces, absl::InfinitePast()};
  }
  if (!latest) return Job{&cert, "missing", "", absl::InfinitePast()};
  if (issuance::VersionFingerprint(*latest) !=
      issuance::SpecFingerprint(cert)) {
    return Job{&cert, "changed", "", absl::InfinitePast()};
  }
  if (latest->revoked_at != absl::InfinitePast()) {
    return Job{&cert, "revoked", "", absl::InfinitePast()};
  }
  bool changed = false;
  if (state.renew_at == absl::InfinitePast() &&
      latest->created_at > state.updated_at) {
    // Requested, and a version was issued since: the request is met. A
    // leader that died between storing that version and recording it here
    // must not cost a second order for the same renewal.
    CF_LOG_INFO(
        "certificate %s: version %d, issued after the renewal request, "
        "meets it",
        cert.name, latest->version);
    state.renew_at = absl::InfiniteFuture();
    state.consecutive_failures = 0;
    state.last_error.clear();
    state.next_attempt_at = absl::InfinitePast();
    changed = true;
  }
  // An operator's request (certfleetctl renew) is not a planned time: it
  // must not be redrawn into the renewal window.
  const bool requested = state.renew_at == absl::InfinitePast();
  const absl::Time renew_at =
      requested ? state.renew_at : RenewAt(cert, *latest, state, changed, ctx);
  if (changed) {
    state.updated_at = now;
    RETURN_IF_ERROR(store_.PutCertificateState(state));
  }
  if (observer_) {
    // A requested renewal is due now (InfinitePast is no time for a gauge).
    observer_->OnCertificate(cert.name, latest->not_after,
                             requested ? now : renew_at);
  }
  if (now >= renew_at) {
    // RFC 9773 §5: name the certificate being replaced; the ACME client
    // retries without it if the CA objects.
    std::string replaces;
    auto it = issuers_.find(cert.issuer);
    if (it != issuers_.end()) {
      absl::StatusOr<acme::Directory> dir =
          it->second->client().GetDirectory(ctx);
      if (dir.ok() && !dir->renewal_info.empty())
        replaces = latest->ari_cert_id;
    }
    if (requested)
      return Job{&cert, "requested", replaces, absl::InfinitePast()};
    return Job{&cert, "renew", replaces, latest->not_after};
  }
  ++report.not_due;
  report.next_due = std::min(report.next_due, renew_at);
  return std::nullopt;
}

void Scheduler::Attempt(const Job& job, PassReport::Entry& entry,
                        const Context& ctx) {
  const config::CertificateConfig& cert = *job.cert;
  auto it = issuers_.find(cert.issuer);
  absl::StatusOr<store::VersionRecord> result =
      it == issuers_.end()
          ? absl::StatusOr<store::VersionRecord>(absl::FailedPreconditionError(
                absl::StrCat("certificate ", cert.name, ": unknown issuer ",
                             cert.issuer)))
          : runner_.Run(cert, *it->second, job.replaces, ctx);
  entry.result = result.status();
  if (result.ok()) entry.version = result->version;
  // A shutdown is not a failure of the certificate.
  if (result.status().code() == absl::StatusCode::kCancelled) return;

  const absl::Time now = clock_.Now();
  absl::StatusOr<std::optional<store::CertificateState>> stored =
      store_.GetCertificateState(cert.name);
  store::CertificateState state =
      stored.ok() && stored->has_value()
          ? **stored
          : store::CertificateState{.name = cert.name};
  state.last_attempt_at = now;
  state.updated_at = now;
  if (result.ok()) {
    state.consecutive_failures = 0;
    state.last_error.clear();
    state.next_attempt_at = absl::InfinitePast();
    state.limited_by.clear();
    state.renew_at = absl::InfiniteFuture();  // drawn for the new version
  } else {
    ++state.consecutive_failures;
    state.last_error = std::string(result.status().message());
    // Exponential backoff with jitter, capped; a CA's Retry-After wins
    // when it is later.
    absl::Duration delay = options_.retry_initial;
    for (int i = 1;
         i < state.consecutive_failures && delay < options_.retry_max; ++i) {
      delay *= 2;
    }
    delay = std::min(delay, options_.retry_max) * (0.75 + 0.25 * Uniform());
    absl::Time next = now + delay;
    state.limited_by.clear();
    if (std::optional<absl::Time> ra = acme::RetryAfterOf(result.status())) {
      if (*ra > next) state.limited_by = acme::ClientLimitOf(result.status());
      next = std::max(next, *ra);
    }
    state.next_attempt_at = next;
    CF_LOG_WARN("%s; attempt %d failed, next attempt at %s",
                result.status().message(), state.consecutive_failures,
                Rfc3339(next));
  }
  if (absl::Status s = store_.PutCertificateState(state); !s.ok()) {
    CF_LOG_ERROR("certificate %s: cannot save scheduling state: %s", cert.name,
                 s.ToString());
  }
}

absl::StatusOr<PassReport> Scheduler::RunPass(const Context& ctx) {
  PassReport report;
  std::vector<Job> jobs;
  for (const config::CertificateConfig& cert : certificates_) {
    ASSIGN_OR_RETURN(std::optional<Job> job, Evaluate(cert, report, ctx));
    if (job) jobs.push_back(*std::move(job));
  }
  if (absl::Status s = WatchUnconfigured(); !s.ok()) {
    CF_LOG_WARN("certificates not configured here: %s", s.ToString());
  }
  // Missing and interrupted first, then the soonest to expire.
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
    return a.urgency < b.urgency;
  });
  report.attempted.resize(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    report.attempted[i].certificate = jobs[i].cert->name;
    report.attempted[i].reason = jobs[i].reason;
    report.attempted[i].result = absl::CancelledError("not started");
  }
  const int workers = std::min<int>(std::max(1, options_.max_concurrent_orders),
                                    static_cast<int>(jobs.size()));
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < jobs.size(); i = next++) {
        if (ctx.IsCancelled()) break;
        Attempt(jobs[i], report.attempted[i], ctx);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return report;
}

void Scheduler::Wake() {
  absl::MutexLock lock(&mu_);
  wake_pending_ = true;
  if (nap_) nap_->Cancel();
}

void Scheduler::Run(const Context& ctx) {
  while (!ctx.IsCancelled()) {
    absl::StatusOr<PassReport> report = RunPass(ctx);
    if (report.ok() && options_.after_pass) options_.after_pass(ctx);
    const absl::Time now = clock_.Now();
    absl::Time wake = now + options_.check_interval;
    if (!report.ok()) {
      CF_LOG_ERROR("scheduler pass failed: %s", report.status().ToString());
      wake = now + std::min(options_.check_interval, absl::Minutes(1));
    } else if (report->issued() > 0) {
      continue;  // evaluate again at once: new versions get renewal times
    } else if (!report->attempted.empty()) {
      // Failures stored their next attempt; look again shortly (never in a
      // hot loop, even if storing that state failed).
      wake = now + absl::Seconds(1);
    } else {
      wake = std::min(wake, report->next_due);
    }
    std::shared_ptr<Cancellation> nap;
    {
      absl::MutexLock lock(&mu_);
      if (std::exchange(wake_pending_, false)) continue;
      nap = nap_ = std::make_shared<Cancellation>();
    }
    // Ends on Wake() or when `ctx` is cancelled: the nap is chained to it.
    (void)clock_.SleepUntil(wake, ctx.WithCancellation(nap));
    absl::MutexLock lock(&mu_);
    nap_.reset();
    wake_pending_ = false;
  }
}

}  // namespace certfleet::scheduler
