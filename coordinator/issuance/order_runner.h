// Runs one certificate's ACME order from start (or from wherever a previous
// process left it) to a stored version: the heart of issuance.
//
//   place or resume the order ─ the URL is persisted before anything else
//   → present every DNS-01 record (batched per zone) and wait until every
//     authoritative server shows them → answer the challenges → poll
//   → remove the records (always, also on failure or cancellation)
//   → store a fresh key (sealed) → finalize with its CSR → poll → download
//   → verify key, names, chain and validity → store the version.
//
// Failures keep the order for a later resume when they may pass (the CA or
// DNS unavailable, a deadline, shutdown). Failures that will not pass (the
// CA refused, TSIG rejected, the certificate does not verify) abandon it:
// pending authorizations are deactivated (RFC 8555 §7.5.2) so nothing is
// left pending at the CA, and the order is deleted from the store.
//
//   OrderRunner runner(store, kek, solver, clock);
//   ASSIGN_OR_RETURN(store::VersionRecord v,
//                    runner.Run(cert_config, *issuer, /*replaces=*/"", ctx));
#ifndef CERTFLEET_COORDINATOR_ISSUANCE_ORDER_RUNNER_H_
#define CERTFLEET_COORDINATOR_ISSUANCE_ORDER_RUNNER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/crypto/certificate_cache.h"
#include "common/crypto/kek.h"
#include "common/crypto/private_key.h"
#include "coordinator/acme/resources.h"
#include "coordinator/config/config.h"
#include "coordinator/dns/solver.h"
#include "coordinator/issuance/issuer.h"
#include "coordinator/issuance/order_stage.h"
#include "coordinator/store/store.h"

namespace certfleet::issuance {

// Told what happens to orders, for metrics. Called from many threads.
class IssuanceObserver {
 public:
  virtual ~IssuanceObserver() = default;
  // outcome: "issued", "failed" (kept for resume), "abandoned".
  virtual void OnOrderFinished(const std::string& issuer,
                               absl::string_view outcome) = 0;
  virtual void OnPropagation(absl::Duration waited) = 0;
  virtual void OnDnsCleanupFailed(const std::string& cert_name) = 0;
  // A new version is stored (agents can be sent it).
  virtual void OnVersionStored(const std::string& cert_name, int64_t version) {
    (void)cert_name;
    (void)version;
  }
};

struct OrderRunnerOptions {
  // Clean-up of DNS records runs with its own deadline, independent of the
  // order's (which may be over, or cancelled).
  absl::Duration cleanup_timeout = absl::Minutes(2);
  // A challenge this order answered that is still "pending" this long after
  // the answer is answered again: the answer most likely never reached the
  // CA (the process died between recording it and sending it). Until then a
  // resumed order only waits — the CA may still be validating (RFC 8555
  // §7.5.1), and a second answer queues a second validation.
  absl::Duration reanswer_after = absl::Minutes(10);
  // Whether this coordinator may still act on its orders (with several
  // coordinators: it leads; null: always). An order that fails once this
  // says false — the leader was deposed, or is stopping — is left exactly
  // as it is: its DNS-01 records stay, its authorizations are not
  // deactivated, nothing is written. It is the next leader's now, which
  // resumes it; a record removed here would fail its validation there.
  std::function<bool()> acting;
};

// Names, key type and issuer: what an order was placed for. An in-flight
// order whose fingerprint no longer matches the config is abandoned.
std::string SpecFingerprint(const config::CertificateConfig& cert);
// The same fingerprint for what a stored version was issued for.
std::string VersionFingerprint(const store::VersionRecord& version);

// What the scheduler needs from issuance: the seam its tests fake.
class CertificateOrders {
 public:
  virtual ~CertificateOrders() = default;
  // Issues a new version of `cert` (see OrderRunner::Run).
  virtual absl::StatusOr<store::VersionRecord> Run(
      const config::CertificateConfig& cert, Issuer& issuer,
      const std::string& replaces, const Context& ctx) = 0;
  // Gives up an in-flight order (see OrderRunner::Abandon).
  virtual absl::Status Abandon(const store::OrderRecord& order,
                               Issuer* issuer) = 0;
};

class OrderRunner : public CertificateOrders {
 public:
  OrderRunner(store::Store& store, const crypto::Kek& kek,
              dns::Dns01Solver& solver, Clock& clock,
              OrderRunnerOptions options = {},
              IssuanceObserver* observer = nullptr);

  // Issues a new version of `cert` from `issuer`, resuming its in-flight
  // order when there is one. `replaces` is the ARI id of the version being
  // renewed (RFC 9773 §5), "" for a first issuance. The order is bounded by
  // the issuer's order_timeout and waits for one of its order slots.
  absl::StatusOr<store::VersionRecord> Run(
      const config::CertificateConfig& cert, Issuer& issuer,
      const std::string& replaces, const Context& ctx) override;

  // Gives up an in-flight order: deactivates its pending authorizations
  // when `issuer` (the order's issuer) is given, removes its DNS records,
  // deletes it from the store. For certificates whose spec changed or that
  // left the config.
  absl::Status Abandon(const store::OrderRecord& order,
                       Issuer* issuer) override;

 private:
  struct State;

  absl::StatusOr<store::VersionRecord> Execute(
      State& state, const config::CertificateConfig& cert, Issuer& issuer,
      const std::string& replaces, const Context& ctx);
  absl::Status Place(State& state, const config::CertificateConfig& cert,
                     Issuer& issuer, const std::string& replaces,
                     const Context& ctx);
  absl::Status Resume(State& state, Issuer& issuer, const Context& ctx);
  absl::Status Validate(State& state, Issuer& issuer, const Context& ctx);
  absl::Status Finalize(State& state, const config::CertificateConfig& cert,
                        Issuer& issuer, const Context& ctx);
  absl::StatusOr<store::VersionRecord> Download(
      State& state, const config::CertificateConfig& cert, Issuer& issuer,
      const Context& ctx);
  // Removes the order's DNS records with a fresh deadline; forgets the ones
  // removed. Returns false when some could not be removed.
  bool CleanUpRecords(store::OrderRecord& rec);
  void DeactivatePending(const store::OrderRecord& rec, Issuer& issuer);
  // Saves the order at `stage`; without one, at the stage it is at.
  absl::Status PersistOrder(State& state, OrderStage stage);
  absl::Status PersistOrder(State& state);

  store::Store& store_;
  const crypto::Kek& kek_;
  dns::Dns01Solver& solver_;
  Clock& clock_;
  const OrderRunnerOptions options_;
  IssuanceObserver* const observer_;
  // The issuers' intermediates, parsed once.
  crypto::CertificateCache certificates_;
};

}  // namespace certfleet::issuance

#endif  // CERTFLEET_COORDINATOR_ISSUANCE_ORDER_RUNNER_H_
