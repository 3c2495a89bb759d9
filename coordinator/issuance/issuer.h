// The runtime of one configured issuer: the HTTPS transport that trusts its
// bundle, its ACME client, its account, and its cap on concurrent orders.
//
//   ASSIGN_OR_RETURN(auto issuer, Issuer::Create(config.issuers[0], clock));
//   RETURN_IF_ERROR(issuer->EnsureAccount(store, kek, ctx));
//   issuer->client().NewOrder(...);
#ifndef CERTFLEET_COORDINATOR_ISSUANCE_ISSUER_H_
#define CERTFLEET_COORDINATOR_ISSUANCE_ISSUER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/crypto/kek.h"
#include "coordinator/acme/acme_client.h"
#include "coordinator/acme/http_transport.h"
#include "coordinator/acme/rate_limiter.h"
#include "coordinator/config/config.h"
#include "coordinator/store/store.h"

namespace certfleet::issuance {

// AAD binding a sealed key to what it belongs to, so a sealed blob copied to
// another record does not open.
std::string AccountKeyAad(const std::string& issuer);
std::string CertificateKeyAad(const std::string& cert_name);

class Issuer {
 public:
  // Builds the real libcurl transport with the issuer's trust bundle.
  static absl::StatusOr<std::unique_ptr<Issuer>> Create(
      const config::IssuerConfig& config, Clock& clock,
      acme::AcmeObserver* observer = nullptr);
  // Any transport (tests).
  Issuer(const config::IssuerConfig& config,
         std::unique_ptr<acme::HttpTransport> transport, Clock& clock,
         acme::AcmeObserver* observer = nullptr);

  const std::string& name() const { return config_.name; }
  const config::IssuerConfig& config() const { return config_; }
  acme::AcmeClient& client() { return *client_; }
  acme::Semaphore& order_slots() { return order_slots_; }

  // Makes the account usable: loads it from the store, or creates it. The
  // new account key is stored (sealed) before the CA hears of it, and a key
  // stored without an account URL is first looked up at the CA
  // (onlyReturnExisting), so a crash at any point never loses an account
  // nor creates a second one. Cheap once done.
  absl::Status EnsureAccount(store::Store& store, const crypto::Kek& kek,
                             const Context& ctx);

 private:
  const config::IssuerConfig config_;
  std::unique_ptr<acme::HttpTransport> transport_;
  std::unique_ptr<acme::AcmeClient> client_;
  Clock& clock_;
  acme::Semaphore order_slots_;
  absl::Mutex account_mu_;
  std::atomic<bool> account_ready_{false};
};

}  // namespace certfleet::issuance

#endif  // CERTFLEET_COORDINATOR_ISSUANCE_ISSUER_H_
