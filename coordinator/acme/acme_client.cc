// The request core of AcmeClient: signing, nonces, rate limits, retries.
// Account operations are in acme_account.cc, orders in acme_order.cc.
#include "coordinator/acme/acme_client.h"

#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/acme/jws.h"

namespace certfleet::acme {
namespace {

constexpr char kBadNonce[] = "urn:ietf:params:acme:error:badNonce";

bool IsTransient(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

AcmeClient::AcmeClient(AcmeClientOptions options, HttpTransport& transport,
                       Clock& clock, AcmeObserver* observer)
    : options_(std::move(options)),
      url_policy_(
          UrlPolicy::Create(options_.directory_url, options_.allowed_hosts)),
      transport_(transport),
      clock_(clock),
      observer_(observer),
      requests_(options_.requests_per_second,
                std::max(1.0, options_.requests_per_second / 4), clock),
      nonce_requests_(options_.new_nonce_per_second,
                      std::max(1.0, options_.new_nonce_per_second / 4), clock),
      new_orders_(options_.new_orders_per_window, options_.new_orders_window,
                  clock) {}

void AcmeClient::SetAccountKey(crypto::PrivateKey key,
                               std::string account_url) {
  absl::MutexLock lock(&mu_);
  thumbprint_ = key.JwkThumbprint();
  key_ = std::move(key);
  account_url_ = std::move(account_url);
}

std::optional<crypto::PrivateKey> AcmeClient::account_key() const {
  absl::MutexLock lock(&mu_);
  return key_;
}

std::string AcmeClient::account_url() const {
  absl::MutexLock lock(&mu_);
  return account_url_;
}

absl::StatusOr<AcmeClient::Signer> AcmeClient::AccountSigner() const {
  absl::MutexLock lock(&mu_);
  if (!key_) return absl::FailedPreconditionError("no ACME account key set");
  if (account_url_.empty()) {
    return absl::FailedPreconditionError(
        "ACME account URL unknown: create or look up the account first");
  }
  return Signer{*key_, account_url_};
}

absl::StatusOr<std::string> AcmeClient::KeyAuthorization(
    const std::string& token) const {
  absl::MutexLock lock(&mu_);
  if (!key_) return absl::FailedPreconditionError("no ACME account key set");
  return absl::StrCat(token, ".", thumbprint_);
}

std::string AcmeClient::Dns01TxtValue(const std::string& key_authorization) {
  return crypto::Base64UrlEncode(crypto::Sha256(key_authorization));
}

absl::StatusOr<Directory> AcmeClient::GetDirectory(const Context& ctx) {
  {
    absl::MutexLock lock(&mu_);
    if (directory_) return *directory_;
  }
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Get("directory", options_.directory_url, ctx));
  ASSIGN_OR_RETURN(Directory dir, ParseDirectory(resp.body));
  absl::MutexLock lock(&mu_);
  directory_ = dir;
  return dir;
}

void AcmeClient::Limited(absl::string_view endpoint, absl::string_view limit,
                         const std::string& what) const {
  CF_LOG_WARN("ACME %s at %s: %s", std::string(endpoint),
              options_.directory_url, what);
  if (observer_) observer_->OnLimited(endpoint, limit);
}

absl::StatusOr<HttpResponse> AcmeClient::Exchange(absl::string_view endpoint,
                                                  const HttpRequest& request,
                                                  const Context& ctx) {
  // Every URL but the configured directory's came from the CA: nothing
  // leaves for a host it was not meant for (url_policy.h).
  if (!url_policy_.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ACME directory: ", url_policy_.status().message()));
  }
  if (absl::Status allowed = url_policy_->Check(request.url); !allowed.ok()) {
    Limited(endpoint, "url_refused", std::string(allowed.message()));
    return Annotate(allowed, absl::StrCat("ACME ", endpoint));
  }
  RETURN_IF_ERROR(requests_.Acquire(ctx));
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> resp = transport_.Send(request, ctx);
  exchanges_.fetch_add(1, std::memory_order_relaxed);
  if (observer_) {
    observer_->OnExchange(endpoint, resp.ok() ? resp->status : 0,
                          absl::Now() - start);
  }
  if (resp.ok()) {
    nonces_.Add(resp->Header("replay-nonce"));
    bool capped = false;
    const std::string retry_after = resp->Header("retry-after");
    (void)ParseRetryAfter(retry_after, clock_.Now(), &capped);
    if (capped) {
      Limited(endpoint, "retry_after_capped",
              absl::StrCat("the CA asked to wait (Retry-After: ", retry_after,
                           "); waiting at most ",
                           absl::FormatDuration(kMaxRetryAfter)));
    }
  }
  return resp;
}

absl::StatusOr<std::string> AcmeClient::TakeNonce(const Context& ctx) {
  if (std::optional<std::string> n = nonces_.Take()) return *std::move(n);
  ASSIGN_OR_RETURN(Directory dir, GetDirectory(ctx));
  Backoff backoff(options_.transient_backoff);
  for (int attempt = 0;; ++attempt) {
    RETURN_IF_ERROR(nonce_requests_.Acquire(ctx));
    absl::StatusOr<HttpResponse> resp =
        Exchange("new-nonce", {.method = "HEAD", .url = dir.new_nonce}, ctx);
    absl::Status error;
    if (resp.ok()) {
      // Exchange() pooled the nonce; a concurrent caller may have taken it.
      if (std::optional<std::string> n = nonces_.Take()) return *std::move(n);
      error = resp->status >= 400
                  ? ProblemStatus("new-nonce", *resp, clock_.Now())
                  : absl::UnavailableError(
                        absl::StrCat("ACME new-nonce: HTTP ", resp->status,
                                     " without a Replay-Nonce header"));
    } else {
      error = resp.status();
    }
    if (!IsTransient(error) || attempt >= options_.max_transient_retries) {
      return error;
    }
    RETURN_IF_ERROR(WaitToRetry(error, backoff, ctx));
  }
}

absl::Status AcmeClient::WaitToRetry(const absl::Status& error,
                                     Backoff& backoff, const Context& ctx) {
  RETURN_IF_ERROR(ctx.Check(clock_.Now()));
  const absl::Time now = clock_.Now();
  absl::Duration delay = backoff.Next();
  if (std::optional<absl::Time> ra = RetryAfterOf(error)) {
    delay = std::max(absl::ZeroDuration(), *ra - now);
    if (delay > options_.max_inline_retry_after) return error;
  }
  // Sleeping into the deadline would only replace the CA's error with
  // "deadline exceeded".
  if (now + delay >= ctx.deadline()) return error;
  RETURN_IF_ERROR(clock_.SleepFor(delay, ctx));
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> AcmeClient::Post(absl::string_view endpoint,
                                              const std::string& url,
                                              const std::string& payload,
                                              Retry retry, const Context& ctx,
                                              const Signer* signer) {
  std::optional<Signer> account_signer;
  if (signer == nullptr) {
    ASSIGN_OR_RETURN(Signer a, AccountSigner());
    account_signer.emplace(std::move(a));
    signer = &*account_signer;
  }
  const Signer& s = *signer;
  Backoff backoff(options_.transient_backoff);
  int bad_nonces = 0;
  int transient = 0;
  while (true) {
    RETURN_IF_ERROR(ctx.Check(clock_.Now()));
    ASSIGN_OR_RETURN(std::string nonce, TakeNonce(ctx));
    ASSIGN_OR_RETURN(std::string body,
                     SignRequest(s.key, s.kid, nonce, url, payload));
    HttpRequest req{.method = "POST", .url = url, .body = std::move(body)};
    req.headers.emplace_back("Content-Type", "application/jose+json");
    if (endpoint == "certificate") {
      req.headers.emplace_back("Accept", "application/pem-certificate-chain");
    }
    absl::StatusOr<HttpResponse> resp = Exchange(endpoint, req, ctx);
    if (!resp.ok()) {
      // Without a response we cannot know whether the CA acted on the
      // request: repeat only what is safe to repeat.
      if (retry == Retry::kSafe && IsTransient(resp.status()) &&
          transient++ < options_.max_transient_retries) {
        RETURN_IF_ERROR(WaitToRetry(resp.status(), backoff, ctx));
        continue;
      }
      return resp.status();
    }
    if (resp->status < 400) return resp;
    absl::Status problem =
        ProblemStatus(std::string(endpoint), *resp, clock_.Now());
    if (ProblemTypeOf(problem) == kBadNonce) {
      // §6.5: the error response carried a fresh nonce; retry at once.
      if (++bad_nonces <= options_.max_bad_nonce_retries) continue;
      return problem;
    }
    // A 5xx or serverInternal says the CA did not complete the request.
    if (problem.code() == absl::StatusCode::kUnavailable &&
        transient++ < options_.max_transient_retries) {
      RETURN_IF_ERROR(WaitToRetry(problem, backoff, ctx));
      continue;
    }
    return problem;
  }
}

absl::StatusOr<HttpResponse> AcmeClient::Get(absl::string_view endpoint,
                                             const std::string& url,
                                             const Context& ctx) {
  Backoff backoff(options_.transient_backoff);
  for (int attempt = 0;; ++attempt) {
    RETURN_IF_ERROR(ctx.Check(clock_.Now()));
    absl::StatusOr<HttpResponse> resp =
        Exchange(endpoint, {.method = "GET", .url = url}, ctx);
    absl::Status error;
    if (resp.ok()) {
      if (resp->status < 400) return resp;
      error = ProblemStatus(std::string(endpoint), *resp, clock_.Now());
    } else {
      error = resp.status();
    }
    if (!IsTransient(error) || attempt >= options_.max_transient_retries) {
      return error;
    }
    RETURN_IF_ERROR(WaitToRetry(error, backoff, ctx));
  }
}

}  // namespace certfleet::acme
