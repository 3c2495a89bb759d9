// A fake issuance::CertificateOrders for scheduler tests: the seam the
// scheduler drives, without ACME or DNS.
//
// Every Run is recorded (certificate, issuer, replaces, start time on the
// clock). By default a Run succeeds: it stores a version through the real
// store (AddVersion, which also removes the in-flight order) whose names, key
// type and issuer come from the config, so VersionFingerprint matches
// SpecFingerprint. A test can script the next outcomes of a certificate
// (a failure status, or OK for success), and can hold Runs open to measure
// how many run at once. Abandon is recorded and deletes the order from the
// store, like the real runner. Thread-safe.
//
//   FakeCertificateOrders orders(store, clock);
//   orders.Script("web", {absl::UnavailableError("CA down")});
//   scheduler.RunPass(ctx);   // "web" fails once, then succeeds next time
//   EXPECT_EQ(orders.runs()[0].certificate, "web");
#ifndef CERTFLEET_TESTS_SCHEDULER_FAKE_CERTIFICATE_ORDERS_H_
#define CERTFLEET_TESTS_SCHEDULER_FAKE_CERTIFICATE_ORDERS_H_

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "coordinator/issuance/order_runner.h"
#include "coordinator/store/store.h"

namespace certfleet::scheduler::testing {

class FakeCertificateOrders : public issuance::CertificateOrders {
 public:
  struct RunCall {
    std::string certificate;
    std::string issuer;
    std::string replaces;
    absl::Time started;
  };
  struct AbandonCall {
    std::string certificate;
    std::string order_url;
    const issuance::Issuer* issuer;  // nullptr when none was given
  };

  // The lifetime of the versions a successful Run stores.
  static constexpr absl::Duration kLifetime = absl::Hours(24 * 90);

  FakeCertificateOrders(store::Store& store, Clock& clock);

  // The RFC 9773 identifier the fake gives version `version` of `cert`
  // (shaped like a real one: base64url(AKI) "." base64url(serial)).
  static std::string AriCertId(const std::string& cert, int64_t version);

  // Queues outcomes for the next Runs of `certificate`, consumed in order
  // (OK = issue a version). Once the queue is empty, Runs succeed.
  void Script(const std::string& certificate,
              std::vector<absl::Status> outcomes);
  // The status Abandon returns for `certificate` (default OK).
  void ScriptAbandon(const std::string& certificate, absl::Status result);

  // While held, each Run waits (after counting itself in flight) until
  // Release(). Cancellation of the Run's context also lets it go.
  void Hold();
  void Release();
  // Waits (real time) until `n` Runs are in flight at once. False on timeout.
  bool WaitForInFlight(int n, absl::Duration timeout);
  int in_flight() const;
  int max_in_flight() const;

  std::vector<RunCall> runs() const;
  std::vector<AbandonCall> abandons() const;

  absl::StatusOr<store::VersionRecord> Run(
      const config::CertificateConfig& cert, issuance::Issuer& issuer,
      const std::string& replaces, const Context& ctx) override;
  absl::Status Abandon(const store::OrderRecord& order,
                       issuance::Issuer* issuer) override;

 private:
  store::Store& store_;
  Clock& clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::deque<absl::Status>> outcomes_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> abandon_results_ ABSL_GUARDED_BY(mu_);
  std::vector<RunCall> runs_ ABSL_GUARDED_BY(mu_);
  std::vector<AbandonCall> abandons_ ABSL_GUARDED_BY(mu_);
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certfleet::scheduler::testing

#endif  // CERTFLEET_TESTS_SCHEDULER_FAKE_CERTIFICATE_ORDERS_H_
