// The common setting of the scheduler tests: a fake clock, an in-memory
// store, a fake CertificateOrders, and issuers over scripted fake CAs
// (tests/acme/scripted_transport.h) — with or without ARI (RFC 9773) in
// their directory.
//
//   class MyTest : public SchedulerTest {};
//   TEST_F(MyTest, X) {
//     AddIssuer("ca");
//     auto scheduler = MakeScheduler({Cert("web")});
//     ASSERT_OK_AND_ASSIGN(PassReport r, scheduler->RunPass(ctx_));
//   }
#ifndef CERTFLEET_TESTS_SCHEDULER_SCHEDULER_TEST_ENV_H_
#define CERTFLEET_TESTS_SCHEDULER_SCHEDULER_TEST_ENV_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/issuance/issuer.h"
#include "coordinator/scheduler/scheduler.h"
#include "coordinator/store/memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/acme/scripted_transport.h"
#include "tests/scheduler/fake_certificate_orders.h"
#include "tests/testing/fake_clock.h"

namespace certfleet::scheduler::testing {

inline constexpr absl::Duration kDay = absl::Hours(24);

// "2027-01-15T08:00:00Z" (RFC 3339, as ACME servers write times).
std::string Rfc3339(absl::Time t);

class SchedulerTestBase : public ::testing::Test {
 protected:
  static constexpr char kRenewalInfoPath[] = "/renewal-info/";

  explicit SchedulerTestBase(certfleet::testing::FakeClock::Mode mode);

  // An issuer named `name` over its own scripted CA. With `ari`, the CA's
  // directory advertises renewalInfo at https://ca.test/renewal-info/.
  // `new_orders_per_window` (per 3 hours) is the issuer's client-side
  // order limit, 0 for none.
  certfleet::testing::ScriptedTransport& AddIssuer(
      const std::string& name, bool ari = false, int new_orders_per_window = 0);
  issuance::Issuer* issuer(const std::string& name);

  // A certificate for "<name>.example.test" from `issuer`.
  static config::CertificateConfig Cert(const std::string& name,
                                        const std::string& issuer = "ca");
  // Fixed seed: the draws inside windows repeat from run to run.
  static SchedulerOptions Options();
  std::unique_ptr<Scheduler> MakeScheduler(
      std::vector<config::CertificateConfig> certs,
      SchedulerOptions options = Options(),
      SchedulerObserver* observer = nullptr);

  // Stores a version of `cert` (fingerprint matching the config) valid from
  // `not_after` − 90 days to `not_after`.
  store::VersionRecord StoreVersion(const config::CertificateConfig& cert,
                                    absl::Time not_after);
  std::optional<store::CertificateState> StateOf(const std::string& name);
  std::optional<store::VersionRecord> LatestOf(const std::string& name);
  // The same, failing the test (and returning an empty record) when absent.
  store::CertificateState State(const std::string& name);
  store::VersionRecord Latest(const std::string& name);

  // Requests to renewalInfo seen by the CA of `issuer`.
  int RenewalInfoRequests(const std::string& issuer);

  const absl::Time start_ = absl::FromUnixSeconds(1'800'000'000);
  certfleet::testing::FakeClock clock_;
  store::InMemoryStore store_;
  FakeCertificateOrders orders_{store_, clock_};
  Context ctx_ = Context::Background();

 private:
  std::map<std::string, std::unique_ptr<issuance::Issuer>> issuers_;
  std::map<std::string, certfleet::testing::ScriptedTransport*> transports_;
};

// Time jumps at once when code sleeps (nothing in a pass should).
class SchedulerTest : public SchedulerTestBase {
 protected:
  SchedulerTest()
      : SchedulerTestBase(certfleet::testing::FakeClock::Mode::kAutoAdvance) {}
};

}  // namespace certfleet::scheduler::testing

#endif  // CERTFLEET_TESTS_SCHEDULER_SCHEDULER_TEST_ENV_H_
