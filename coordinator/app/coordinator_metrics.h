// The coordinator's Prometheus metrics, fed by the observer seams of the
// ACME client, the order runner and the scheduler.
//
//   certfleet_acme_requests_total{issuer,endpoint,status}
//   certfleet_acme_request_duration_seconds{issuer,endpoint}
//   certfleet_acme_limited_total{issuer,endpoint,limit}
//       retry_after_capped|url_refused|alternates_dropped
//   certfleet_orders_total{issuer,outcome}            issued|failed|abandoned
//   certfleet_dns_propagation_seconds
//   certfleet_dns_cleanup_failures_total{certificate}
//   certfleet_certificate_not_after_timestamp_seconds{certificate}
//   certfleet_certificate_renew_at_timestamp_seconds{certificate}
//   certfleet_agents_connected
//   certfleet_agent_bundles_sent_total{target}
//   certfleet_agent_deliveries_total{result}          installed|rejected
//   certfleet_agent_identities_refused_total{call,reason}
//       stream|renewal; unknown_agent|disabled|removed|stale_serial
//   certfleet_agent_reports_dropped_total{reason}     (agent_hub.h)
//   certfleet_agent_refusals_total{limit}             (agent_limits.h)
//   certfleet_agent_problems_total{kind}         local_failure|state_problem
//   certfleet_agent_messages_held_back_total          (store writes behind)
//   certfleet_agent_streams_abandoned_total           (ended before attached)
//   certfleet_hub_store_writes_pending
//   certfleet_hub_store_write_failures_total{kind}  report|desired|last_seen
//   certfleet_fenced_writes_refused_total{reason}     not_leader|deposed
//   certfleet_versions_pruned_total{certificate}      (retention)
//   certfleet_version_prune_failures_total{certificate}
#ifndef CERTFLEET_COORDINATOR_APP_COORDINATOR_METRICS_H_
#define CERTFLEET_COORDINATOR_APP_COORDINATOR_METRICS_H_

#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/registry.h"
#include "coordinator/acme/acme_client.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/issuance/order_runner.h"
#include "coordinator/retention/version_pruner.h"
#include "coordinator/scheduler/scheduler.h"

namespace certfleet::app {

class CoordinatorMetrics : public issuance::IssuanceObserver,
                           public scheduler::SchedulerObserver,
                           public delivery::HubObserver,
                           public retention::PrunerObserver {
 public:
  explicit CoordinatorMetrics(metrics::Registry& registry);

  // An observer for one issuer's ACME client (labels it with the issuer).
  std::unique_ptr<acme::AcmeObserver> ForIssuer(const std::string& issuer);

  void OnOrderFinished(const std::string& issuer,
                       absl::string_view outcome) override;
  void OnPropagation(absl::Duration waited) override;
  void OnDnsCleanupFailed(const std::string& cert_name) override;
  void OnCertificate(const std::string& name, absl::Time not_after,
                     absl::Time renew_at) override;
  void OnConnectedAgents(size_t count) override;
  void OnBundleSent(const std::string& target) override;
  void OnDeliveryResult(const v1::DeliveryResult& result) override;
  void OnIdentityRefused(absl::string_view call,
                         absl::string_view reason) override;
  void OnReportDropped(absl::string_view reason) override;
  void OnRefused(absl::string_view limit) override;
  void OnAgentProblem(absl::string_view kind) override;
  void OnMessageHeldBack() override;
  void OnStreamAbandoned() override;
  void OnStoreWriteFailed(absl::string_view kind, size_t count) override;
  void OnStoreWritesPending(size_t count) override;
  void OnVersionsPruned(const std::string& certificate, int count) override;
  void OnPruneFailed(const std::string& certificate) override;
  // The replica stopped leading: the certificate gauges, which only the
  // leader's scheduler keeps current, stop being exported here (they would
  // go stale and fire expiry alerts for certificates renewed since).
  // The next term's scheduler pass sets them again.
  void ForgetCertificates();
  // A leader-only write the etcd fence refused (EtcdStore).
  void OnFencedWriteRefused(absl::string_view reason);
  // How many live replicas run another configuration than this one.
  void OnConfigDifferences(size_t replicas);

 private:
  metrics::CounterFamily& acme_requests_;
  metrics::HistogramFamily& acme_latency_;
  metrics::CounterFamily& acme_limited_;
  metrics::CounterFamily& orders_;
  metrics::Histogram* propagation_;
  metrics::CounterFamily& cleanup_failures_;
  metrics::GaugeFamily& not_after_;
  metrics::GaugeFamily& renew_at_;
  absl::Mutex certificates_mu_;
  // The certificates the two gauges above have a series for.
  std::set<std::string> certificates_ ABSL_GUARDED_BY(certificates_mu_);
  metrics::Gauge* agents_connected_;
  metrics::CounterFamily& bundles_sent_;
  metrics::CounterFamily& deliveries_;
  metrics::CounterFamily& identities_refused_;
  metrics::CounterFamily& reports_dropped_;
  metrics::CounterFamily& refusals_;
  metrics::CounterFamily& agent_problems_;
  metrics::Counter* held_back_;
  metrics::Counter* abandoned_;
  metrics::Gauge* store_writes_pending_;
  metrics::CounterFamily& store_write_failures_;
  metrics::CounterFamily& versions_pruned_;
  metrics::CounterFamily& prune_failures_;
  metrics::CounterFamily& fenced_refused_;
  metrics::Gauge* config_differences_;
};

}  // namespace certfleet::app

#endif  // CERTFLEET_COORDINATOR_APP_COORDINATOR_METRICS_H_
