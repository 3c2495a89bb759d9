// An RFC 8555 client for one ACME directory and one account: the protocol
// core under the coordinator's order runner. It signs requests (JWS, §6.2),
// keeps a nonce pool fed from every response (§7.2), retries badNonce at once
// and transient server failures with capped, jittered backoff, applies the
// issuer's client-side rate limits, and types every other error from the
// CA's problem document (problem.h). Thread-safe: many orders share one
// client.
//
//   AcmeClient client(options, transport, clock);
//   client.SetAccountKey(key);
//   ASSIGN_OR_RETURN(Account account, client.NewAccount({.contacts = {...}},
//   ctx)); ASSIGN_OR_RETURN(Order order, client.NewOrder({"*.example.com",
//   "example.com"}, {}, ctx));
#ifndef CERTFLEET_COORDINATOR_ACME_ACME_CLIENT_H_
#define CERTFLEET_COORDINATOR_ACME_ACME_CLIENT_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/crypto/private_key.h"
#include "coordinator/acme/http_transport.h"
#include "coordinator/acme/nonce_pool.h"
#include "coordinator/acme/rate_limiter.h"
#include "coordinator/acme/resources.h"
#include "coordinator/acme/url_policy.h"

namespace certfleet::acme {

// Told about every HTTP exchange, for metrics. Called from many threads.
class AcmeObserver {
 public:
  virtual ~AcmeObserver() = default;
  // `endpoint` is a stable label ("new-order", "authz", "finalize", …);
  // `http_status` is 0 when no response arrived.
  virtual void OnExchange(absl::string_view endpoint, int http_status,
                          absl::Duration latency) = 0;
  // The client bounded or refused what the CA sent (`limit`:
  // "retry_after_capped", "url_refused", "alternates_dropped"); it also
  // logged a warning with the facts.
  virtual void OnLimited(absl::string_view endpoint, absl::string_view limit) {
    (void)endpoint;
    (void)limit;
  }
};

struct PollPolicy {
  // Pebble validates within milliseconds, public CAs within seconds: start
  // fast and back off.
  absl::Duration initial = absl::Milliseconds(15);
  absl::Duration max = absl::Seconds(5);
  double multiplier = 2.0;
  // The first wait adapts to how long this CA usually takes for the same
  // step (per set of awaited states), between `initial` and this cap: a
  // poll that finds nothing new is a wasted request against the CA's limits.
  absl::Duration max_first_wait = absl::Seconds(2);
};

struct AcmeClientOptions {
  std::string directory_url;
  double requests_per_second = 200;  // every request to this CA
  double new_nonce_per_second = 20;  // HEAD newNonce
  int new_orders_per_window = 300;   // 0 = unlimited
  absl::Duration new_orders_window = absl::Hours(3);
  // badNonce is retried at once with the fresh nonce from the error
  // response (§6.5); this only bounds a pathological server.
  int max_bad_nonce_retries = 50;
  // Transient failures (5xx, serverInternal, timeouts) of requests that are
  // safe to repeat are retried this many times inside one call.
  int max_transient_retries = 4;
  BackoffPolicy transient_backoff = {.initial = absl::Milliseconds(250),
                                     .max = absl::Seconds(20)};
  // A Retry-After longer than this is not slept through inside a call: the
  // error goes up (with the time) so the scheduler can persist it. Every
  // Retry-After counts as at most kMaxRetryAfter (problem.h).
  absl::Duration max_inline_retry_after = absl::Seconds(30);
  PollPolicy poll;
  // Hosts besides the directory's that the CA's URLs may name (url_policy.h):
  // every request goes over https to the directory's host or one of these.
  std::vector<std::string> allowed_hosts;
  // Alternate chains (Link rel="alternate", §7.4.2) downloaded at most; a
  // CA offers one or two, and each download is a signed request.
  int max_alternate_chains = 3;
};

struct NewAccountRequest {
  std::vector<std::string> contacts;  // "mailto:…"
  bool terms_of_service_agreed = true;
  // External Account Binding (§7.3.4), when the CA requires it.
  std::string eab_kid;
  std::string eab_hmac_key;  // base64url
};

struct NewOrderOptions {
  std::string replaces;  // RFC 9773 §5: ARI id of the certificate replaced
  std::string profile;   // ACME profile name, when the CA offers profiles
};

struct CertificateChain {
  std::string url;
  std::string pem;  // leaf first, then the chain, as served
};

class AcmeClient {
 public:
  AcmeClient(AcmeClientOptions options, HttpTransport& transport, Clock& clock,
             AcmeObserver* observer = nullptr);

  // Fetched once and cached (§7.1.1).
  absl::StatusOr<Directory> GetDirectory(const Context& ctx);

  // The account key; `account_url` is the kid once the account is known.
  void SetAccountKey(crypto::PrivateKey key, std::string account_url = "");
  std::optional<crypto::PrivateKey> account_key() const;
  std::string account_url() const;

  // --- Accounts (§7.3) ---
  // Creates the account (or finds the existing one for this key) and
  // remembers its URL.
  absl::StatusOr<Account> NewAccount(const NewAccountRequest& request,
                                     const Context& ctx);
  // onlyReturnExisting (§7.3.1): kNotFound when the CA knows no account for
  // this key.
  absl::StatusOr<Account> FindAccount(const Context& ctx);
  absl::StatusOr<Account> GetAccount(const Context& ctx);
  // §7.1.2.1: the URLs of every order of this account, following the
  // "next" links of a paginated list.
  absl::StatusOr<std::vector<std::string>> ListOrderUrls(const Context& ctx);
  // §7.3.5. On success the client signs with `new_key` from then on.
  absl::Status RolloverKey(const crypto::PrivateKey& new_key,
                           const Context& ctx);
  // §7.3.6
  absl::StatusOr<Account> DeactivateAccount(const Context& ctx);

  // --- Orders (§7.4) ---
  absl::StatusOr<Order> NewOrder(const std::vector<std::string>& dns_names,
                                 const NewOrderOptions& options,
                                 const Context& ctx);
  absl::StatusOr<Order> GetOrder(const std::string& url, const Context& ctx);
  absl::StatusOr<Authorization> GetAuthorization(const std::string& url,
                                                 const Context& ctx);
  // §7.5.2: gives up a pending authorization, which turns its order
  // invalid — how an abandoned order is kept from lingering at the CA.
  absl::StatusOr<Authorization> DeactivateAuthorization(const std::string& url,
                                                        const Context& ctx);
  // Tells the CA the challenge is ready to be validated (§7.5.1).
  absl::StatusOr<Challenge> AnswerChallenge(const std::string& url,
                                            const Context& ctx);
  // Polls the order until its status is one of `done` or invalid
  // (→ kFailedPrecondition with the CA's problem and the failed
  // authorizations' challenge errors). Waits before each look: first for
  // what this CA usually needs for this step (learned, from
  // PollPolicy::initial), then backing off; honours Retry-After (§7.5.1).
  absl::StatusOr<Order> PollOrder(const std::string& url,
                                  const std::vector<AcmeStatus>& done,
                                  const Context& ctx);
  absl::StatusOr<Order> Finalize(const Order& order, const std::string& csr_der,
                                 const Context& ctx);
  // The default chain first, then the alternates (Link rel="alternate",
  // §7.4.2) when `alternates` is set: the first max_alternate_chains
  // distinct ones (more are logged and dropped).
  absl::StatusOr<std::vector<CertificateChain>> DownloadCertificate(
      const std::string& url, bool alternates, const Context& ctx);

  // --- Revocation (§7.6) ---
  // Signed by the account, or by the certificate's own key when given.
  absl::Status Revoke(const std::string& certificate_der, int reason,
                      const crypto::PrivateKey* certificate_key,
                      const Context& ctx);

  // --- ARI (RFC 9773 §4.2) --- kUnimplemented when the CA has none.
  absl::StatusOr<RenewalInfo> GetRenewalInfo(const std::string& cert_id,
                                             const Context& ctx);

  // §8.1: token "." base64url(JWK thumbprint).
  absl::StatusOr<std::string> KeyAuthorization(const std::string& token) const;
  // §8.4: the TXT value, base64url(SHA-256(key authorization)).
  static std::string Dns01TxtValue(const std::string& key_authorization);

  // HTTP exchanges sent so far (for benchmarks).
  uint64_t exchanges() const { return exchanges_.load(); }

 private:
  struct Signer {
    crypto::PrivateKey key;
    std::string kid;  // empty → sign with "jwk"
  };
  enum class Retry { kSafe, kUnsafe };

  absl::StatusOr<HttpResponse> Post(absl::string_view endpoint,
                                    const std::string& url,
                                    const std::string& payload, Retry retry,
                                    const Context& ctx,
                                    const Signer* signer = nullptr);
  absl::StatusOr<HttpResponse> Get(absl::string_view endpoint,
                                   const std::string& url, const Context& ctx);
  absl::StatusOr<HttpResponse> Exchange(absl::string_view endpoint,
                                        const HttpRequest& request,
                                        const Context& ctx);
  absl::StatusOr<std::string> TakeNonce(const Context& ctx);
  // Logs a warning and tells the observer that the CA's answer to
  // `endpoint` was bounded or refused (`limit`, see AcmeObserver).
  void Limited(absl::string_view endpoint, absl::string_view limit,
               const std::string& what) const;
  absl::StatusOr<Signer> AccountSigner() const;
  // Sleeps before a retry: Retry-After when the status carries one (up to
  // max_inline_retry_after), else the backoff's next delay. Returns the
  // original error when waiting is not worth it.
  absl::Status WaitToRetry(const absl::Status& error, Backoff& backoff,
                           const Context& ctx);
  absl::Status InvalidOrderError(const Order& order, const Context& ctx);
  // Adjusts the first wait for `key` after a poll that needed `looks` looks
  // (the last "not yet" at `not_ready_at`, the awaited state seen at
  // `ready_at`, both since the start).
  void LearnFirstWait(const std::string& key, int looks,
                      absl::Duration not_ready_at, absl::Duration ready_at);

  const AcmeClientOptions options_;
  // Checked before every request (url_policy.h); an error when the
  // directory URL itself does not parse.
  const absl::StatusOr<UrlPolicy> url_policy_;
  HttpTransport& transport_;
  Clock& clock_;
  AcmeObserver* const observer_;
  NoncePool nonces_;
  TokenBucket requests_;
  TokenBucket nonce_requests_;
  WindowLimiter new_orders_;
  std::atomic<uint64_t> exchanges_{0};

  mutable absl::Mutex mu_;
  std::optional<Directory> directory_ ABSL_GUARDED_BY(mu_);
  std::optional<crypto::PrivateKey> key_ ABSL_GUARDED_BY(mu_);
  std::string thumbprint_ ABSL_GUARDED_BY(mu_);
  std::string account_url_ ABSL_GUARDED_BY(mu_);
  // Learned first poll wait per awaited-state set (see PollPolicy).
  absl::flat_hash_map<std::string, absl::Duration> first_wait_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_ACME_CLIENT_H_
