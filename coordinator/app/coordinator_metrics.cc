#include "coordinator/app/coordinator_metrics.h"

#include "absl/strings/str_cat.h"

namespace certfleet::app {
namespace {

class IssuerAcmeMetrics : public acme::AcmeObserver {
 public:
  IssuerAcmeMetrics(std::string issuer, metrics::CounterFamily& requests,
                    metrics::HistogramFamily& latency,
                    metrics::CounterFamily& limited)
      : issuer_(std::move(issuer)),
        requests_(requests),
        latency_(latency),
        limited_(limited) {}

  void OnExchange(absl::string_view endpoint, int http_status,
                  absl::Duration latency) override {
    const std::string ep(endpoint);
    requests_
        .WithLabels({issuer_, ep,
                     http_status == 0 ? "error" : absl::StrCat(http_status)})
        ->Increment();
    latency_.WithLabels({issuer_, ep})->Observe(absl::ToDoubleSeconds(latency));
  }

  void OnLimited(absl::string_view endpoint, absl::string_view limit) override {
    limited_.WithLabels({issuer_, std::string(endpoint), std::string(limit)})
        ->Increment();
  }

 private:
  const std::string issuer_;
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& latency_;
  metrics::CounterFamily& limited_;
};

}  // namespace

CoordinatorMetrics::CoordinatorMetrics(metrics::Registry& registry)
    : acme_requests_(registry.Counter(
          "certfleet_acme_requests_total",
          "ACME HTTP exchanges by issuer, endpoint and HTTP status (error: no "
          "response).",
          {"issuer", "endpoint", "status"})),
      acme_latency_(registry.Histogram(
          "certfleet_acme_request_duration_seconds",
          "Latency of ACME HTTP exchanges.", {"issuer", "endpoint"},
          metrics::ExponentialBuckets(0.001, 4, 8))),
      acme_limited_(registry.Counter(
          "certfleet_acme_limited_total",
          "Answers of an ACME CA that certfleet bounded or refused, by issuer, "
          "endpoint and limit: retry_after_capped (a Retry-After over 24h), "
          "url_refused (a URL off the directory's host, or not https), "
          "alternates_dropped (more alternate chains than are fetched).",
          {"issuer", "endpoint", "limit"})),
      orders_(registry.Counter(
          "certfleet_orders_total",
          "ACME orders by issuer and outcome (issued, failed: kept to resume, "
          "abandoned).",
          {"issuer", "outcome"})),
      propagation_(registry
                       .Histogram("certfleet_dns_propagation_seconds",
                                  "Time until every authoritative name server "
                                  "served an order's DNS-01 records.",
                                  {}, metrics::ExponentialBuckets(0.001, 4, 10))
                       .WithLabels({})),
      cleanup_failures_(registry.Counter(
          "certfleet_dns_cleanup_failures_total",
          "DNS-01 record removals that failed (retried later).",
          {"certificate"})),
      not_after_(registry.Gauge(
          "certfleet_certificate_not_after_timestamp_seconds",
          "Expiry (Unix time) of the newest version of each certificate.",
          {"certificate"})),
      renew_at_(registry.Gauge(
          "certfleet_certificate_renew_at_timestamp_seconds",
          "Planned renewal time (Unix time) of each certificate.",
          {"certificate"})),
      agents_connected_(registry
                            .Gauge("certfleet_agents_connected",
                                   "Agents with an open stream to this "
                                   "coordinator.",
                                   {})
                            .WithLabels({})),
      bundles_sent_(registry.Counter(
          "certfleet_agent_bundles_sent_total",
          "Certificate bundles sent to agents, by target name.", {"target"})),
      deliveries_(registry.Counter(
          "certfleet_agent_deliveries_total",
          "Delivery results reported by agents (installed and healthy, or "
          "rejected and rolled back).",
          {"result"})),
      identities_refused_(registry.Counter(
          "certfleet_agent_identities_refused_total",
          "Agent streams and identity renewals refused: unknown agent, "
          "disabled, removed, or not the agent's current identity "
          "certificate (stale_serial: an old or stolen copy).",
          {"call", "reason"})),
      reports_dropped_(registry.Counter(
          "certfleet_agent_reports_dropped_total",
          "Agent reports that did not count: a delivery result answering no "
          "delivery pending for that agent, target and nonce "
          "(result_not_pending), a health report for a target not listed or "
          "not assigned (health_not_assigned).",
          {"reason"})),
      refusals_(registry.Counter(
          "certfleet_agent_refusals_total",
          "Agent streams, messages and enrollment attempts refused by a "
          "limit of the agent listener.",
          {"limit"})),
      agent_problems_(registry.Counter(
          "certfleet_agent_problems_total",
          "Problems agents reported on their own hosts, once per change: an "
          "install rolled back by crash recovery, a state found untrustworthy.",
          {"kind"})),
      held_back_(registry
                     .Counter("certfleet_agent_messages_held_back_total",
                              "Agent messages handled while too many of the "
                              "hub's store writes waited: their streams "
                              "read nothing more until the writes drained.",
                              {})
                     .WithLabels({})),
      abandoned_(registry
                     .Counter("certfleet_agent_streams_abandoned_total",
                              "Agent streams that ended before the hub "
                              "attached them: their agents stopped waiting "
                              "for a Welcome (the hub is behind, e.g. many "
                              "agents reconnecting at once).",
                              {})
                     .WithLabels({})),
      store_writes_pending_(
          registry
              .Gauge("certfleet_hub_store_writes_pending",
                     "The agent hub's store writes (reports, last-seen "
                     "times, desired versions) waiting to be written, after "
                     "its last batch.",
                     {})
              .WithLabels({})),
      store_write_failures_(registry.Counter(
          "certfleet_hub_store_write_failures_total",
          "The agent hub's store writes that failed, by kind: report, "
          "desired, last_seen (reports and last-seen times failing "
          "transiently are written again).",
          {"kind"})),
      versions_pruned_(registry.Counter(
          "certfleet_versions_pruned_total",
          "Certificate versions (and their sealed keys) deleted by retention "
          "after being expired for retention.expired_versions.",
          {"certificate"})),
      prune_failures_(registry.Counter(
          "certfleet_version_prune_failures_total",
          "Retention passes that could not prune a certificate's versions "
          "(retried at the next pass, an hour later).",
          {"certificate"})),
      fenced_refused_(registry.Counter(
          "certfleet_fenced_writes_refused_total",
          "Leader-only writes to etcd that the leadership fence refused: "
          "not_leader (this replica does not lead), deposed (another replica "
          "leads since; nothing of the write landed).",
          {"reason"})),
      config_differences_(
          registry
              .Gauge("certfleet_config_differing_replicas",
                     "Live replicas whose configuration (its cluster-wide "
                     "sections) differs from this replica's; 0 when they "
                     "agree.",
                     {})
              .WithLabels({})) {}

void CoordinatorMetrics::OnFencedWriteRefused(absl::string_view reason) {
  fenced_refused_.WithLabels({std::string(reason)})->Increment();
}

void CoordinatorMetrics::OnConfigDifferences(size_t replicas) {
  config_differences_->Set(static_cast<double>(replicas));
}

void CoordinatorMetrics::OnVersionsPruned(const std::string& certificate,
                                          int count) {
  versions_pruned_.WithLabels({certificate})->Increment(count);
}

void CoordinatorMetrics::OnPruneFailed(const std::string& certificate) {
  prune_failures_.WithLabels({certificate})->Increment();
}

void CoordinatorMetrics::OnConnectedAgents(size_t count) {
  agents_connected_->Set(static_cast<double>(count));
}

void CoordinatorMetrics::OnBundleSent(const std::string& target) {
  bundles_sent_.WithLabels({target})->Increment();
}

void CoordinatorMetrics::OnDeliveryResult(const v1::DeliveryResult& result) {
  deliveries_.WithLabels({result.ok() ? "installed" : "rejected"})->Increment();
}

void CoordinatorMetrics::OnIdentityRefused(absl::string_view call,
                                           absl::string_view reason) {
  identities_refused_.WithLabels({std::string(call), std::string(reason)})
      ->Increment();
}

void CoordinatorMetrics::OnReportDropped(absl::string_view reason) {
  reports_dropped_.WithLabels({std::string(reason)})->Increment();
}

void CoordinatorMetrics::OnRefused(absl::string_view limit) {
  refusals_.WithLabels({std::string(limit)})->Increment();
}

void CoordinatorMetrics::OnAgentProblem(absl::string_view kind) {
  agent_problems_.WithLabels({std::string(kind)})->Increment();
}

void CoordinatorMetrics::OnMessageHeldBack() { held_back_->Increment(); }

void CoordinatorMetrics::OnStreamAbandoned() { abandoned_->Increment(); }

void CoordinatorMetrics::OnStoreWriteFailed(absl::string_view kind,
                                            size_t count) {
  store_write_failures_.WithLabels({std::string(kind)})
      ->Increment(static_cast<double>(count));
}

void CoordinatorMetrics::OnStoreWritesPending(size_t count) {
  store_writes_pending_->Set(static_cast<double>(count));
}

std::unique_ptr<acme::AcmeObserver> CoordinatorMetrics::ForIssuer(
    const std::string& issuer) {
  return std::make_unique<IssuerAcmeMetrics>(issuer, acme_requests_,
                                             acme_latency_, acme_limited_);
}

void CoordinatorMetrics::OnOrderFinished(const std::string& issuer,
                                         absl::string_view outcome) {
  orders_.WithLabels({issuer, std::string(outcome)})->Increment();
}

void CoordinatorMetrics::OnPropagation(absl::Duration waited) {
  propagation_->Observe(absl::ToDoubleSeconds(waited));
}

void CoordinatorMetrics::OnDnsCleanupFailed(const std::string& cert_name) {
  cleanup_failures_.WithLabels({cert_name})->Increment();
}

void CoordinatorMetrics::OnCertificate(const std::string& name,
                                       absl::Time not_after,
                                       absl::Time renew_at) {
  absl::MutexLock lock(&certificates_mu_);
  certificates_.insert(name);
  not_after_.WithLabels({name})->Set(absl::ToUnixSeconds(not_after));
  renew_at_.WithLabels({name})->Set(absl::ToUnixSeconds(renew_at));
}

void CoordinatorMetrics::ForgetCertificates() {
  absl::MutexLock lock(&certificates_mu_);
  for (const std::string& name : certificates_) {
    not_after_.Remove({name});
    renew_at_.Remove({name});
  }
  certificates_.clear();
}

}  // namespace certfleet::app
