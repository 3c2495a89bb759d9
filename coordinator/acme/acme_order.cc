// AcmeClient: orders, authorizations, challenges, certificates (RFC 8555
// §7.4–§7.5) and renewal information (RFC 9773).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/encoding.h"
#include "common/status_macros.h"
#include "coordinator/acme/acme_client.h"
#include "coordinator/acme/jws.h"

namespace certfleet::acme {
namespace {

constexpr char kAlreadyReplaced[] =
    "urn:ietf:params:acme:error:alreadyReplaced";

std::string NewOrderPayload(const std::vector<std::string>& names,
                            const NewOrderOptions& options) {
  std::vector<std::string> ids;
  ids.reserve(names.size());
  for (const std::string& n : names) {
    ids.push_back(absl::StrCat(R"({"type":"dns","value":)", JsonQuote(n), "}"));
  }
  std::string payload =
      absl::StrCat(R"({"identifiers":[)", absl::StrJoin(ids, ","), "]");
  if (!options.replaces.empty()) {
    absl::StrAppend(&payload, R"(,"replaces":)", JsonQuote(options.replaces));
  }
  if (!options.profile.empty()) {
    absl::StrAppend(&payload, R"(,"profile":)", JsonQuote(options.profile));
  }
  payload += "}";
  return payload;
}

}  // namespace

absl::StatusOr<Order> AcmeClient::NewOrder(
    const std::vector<std::string>& dns_names, const NewOrderOptions& options,
    const Context& ctx) {
  if (dns_names.empty()) {
    return absl::InvalidArgumentError("new order without identifiers");
  }
  ASSIGN_OR_RETURN(Directory dir, GetDirectory(ctx));
  RETURN_IF_ERROR(new_orders_.TryAcquire());
  // Not repeated without a response: the CA may have created the order, and
  // a second one would count against the account's order limit.
  absl::StatusOr<HttpResponse> resp =
      Post("new-order", dir.new_order, NewOrderPayload(dns_names, options),
           Retry::kUnsafe, ctx);
  if (!resp.ok() && !options.replaces.empty() &&
      ProblemTypeOf(resp.status()) == kAlreadyReplaced) {
    // RFC 9773 §5: another order already replaced that certificate; order
    // without the hint rather than fail the renewal.
    NewOrderOptions plain = options;
    plain.replaces.clear();
    resp = Post("new-order", dir.new_order, NewOrderPayload(dns_names, plain),
                Retry::kUnsafe, ctx);
  }
  if (!resp.ok()) {
    // A CA that answered with an error created nothing.
    if (!ProblemTypeOf(resp.status()).empty()) new_orders_.Release();
    return resp.status();
  }
  const std::string url = resp->Header("location");
  if (url.empty()) {
    return absl::UnavailableError(
        "ACME new-order: response has no Location header");
  }
  return ParseOrder(resp->body, url);
}

absl::StatusOr<Order> AcmeClient::GetOrder(const std::string& url,
                                           const Context& ctx) {
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Post("order", url, "", Retry::kSafe, ctx));
  ASSIGN_OR_RETURN(Order order, ParseOrder(resp.body, url));
  order.retry_after = ParseRetryAfter(resp.Header("retry-after"), clock_.Now());
  return order;
}

absl::StatusOr<Authorization> AcmeClient::GetAuthorization(
    const std::string& url, const Context& ctx) {
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Post("authz", url, "", Retry::kSafe, ctx));
  return ParseAuthorization(resp.body, url);
}

absl::StatusOr<Authorization> AcmeClient::DeactivateAuthorization(
    const std::string& url, const Context& ctx) {
  ASSIGN_OR_RETURN(
      HttpResponse resp,
      Post("authz", url, R"({"status":"deactivated"})", Retry::kSafe, ctx));
  return ParseAuthorization(resp.body, url);
}

absl::StatusOr<Challenge> AcmeClient::AnswerChallenge(const std::string& url,
                                                      const Context& ctx) {
  // The empty object (not POST-as-GET) asks the CA to validate (§7.5.1);
  // repeating it is harmless.
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Post("challenge", url, "{}", Retry::kSafe, ctx));
  return ParseChallenge(resp.body);
}

absl::Status AcmeClient::InvalidOrderError(const Order& order,
                                           const Context& ctx) {
  std::vector<std::string> reasons;
  if (order.error) reasons.push_back(order.error->Describe());
  // The order's own error is often generic; the failed challenge says why.
  for (const std::string& authz_url : order.authorizations) {
    absl::StatusOr<Authorization> authz = GetAuthorization(authz_url, ctx);
    if (!authz.ok() || authz->status == AcmeStatus::kValid) continue;
    bool explained = false;
    for (const Challenge& ch : authz->challenges) {
      if (ch.error) {
        reasons.push_back(absl::StrCat(authz->identifier.value, " (", ch.type,
                                       "): ", ch.error->Describe()));
        explained = true;
      }
    }
    if (!explained) {
      reasons.push_back(absl::StrCat(authz->identifier.value,
                                     ": authorization ",
                                     AcmeStatusName(authz->status)));
    }
  }
  if (reasons.empty()) reasons.push_back("no reason given by the CA");
  return absl::FailedPreconditionError(
      absl::StrCat("order ", order.url, " is ", AcmeStatusName(order.status),
                   ": ", absl::StrJoin(reasons, "; ")));
}

absl::StatusOr<Order> AcmeClient::PollOrder(const std::string& url,
                                            const std::vector<AcmeStatus>& done,
                                            const Context& ctx) {
  // "ready|processing|valid": names the wait in messages and keys what it
  // learns.
  const std::string key =
      absl::StrJoin(done, "|", [](std::string* out, AcmeStatus s) {
        absl::StrAppend(out, AcmeStatusName(s));
      });
  absl::Duration delay = options_.poll.initial;
  {
    absl::MutexLock lock(&mu_);
    auto it = first_wait_.find(key);
    if (it != first_wait_.end()) delay = it->second;
  }
  const absl::Time start = clock_.Now();
  absl::Duration not_ready_at = absl::ZeroDuration();  // last "not yet"
  absl::Duration wait = delay;
  for (int looks = 1;; ++looks) {
    // Wait before looking: right after a challenge is answered or an order
    // finalized, an immediate look would only find the old state.
    absl::Status slept = clock_.SleepFor(wait, ctx);
    if (!slept.ok()) {
      return Annotate(slept, absl::StrCat("order ", url, " not yet ", key));
    }
    ASSIGN_OR_RETURN(Order order, GetOrder(url, ctx));
    // Pebble reports "deactivated" for an order whose authorization was
    // deactivated; RFC 8555 says "invalid". Both are final.
    if (order.status == AcmeStatus::kInvalid ||
        order.status == AcmeStatus::kDeactivated) {
      return InvalidOrderError(order, ctx);
    }
    if (std::find(done.begin(), done.end(), order.status) != done.end()) {
      LearnFirstWait(key, looks, not_ready_at, clock_.Now() - start);
      return order;
    }
    not_ready_at = clock_.Now() - start;
    delay = std::min(options_.poll.max, std::max(delay, options_.poll.initial) *
                                            options_.poll.multiplier);
    wait = delay;
    if (order.retry_after) {
      wait = std::clamp(*order.retry_after - clock_.Now(),
                        options_.poll.initial, options_.max_inline_retry_after);
    }
    if (clock_.Now() + wait >= ctx.deadline()) {
      return absl::DeadlineExceededError(
          absl::StrCat("order ", url, " still \"", AcmeStatusName(order.status),
                       "\" waiting for ", key, " when the deadline came"));
    }
  }
}

void AcmeClient::LearnFirstWait(const std::string& key, int looks,
                                absl::Duration not_ready_at,
                                absl::Duration ready_at) {
  absl::MutexLock lock(&mu_);
  absl::Duration& wait =
      first_wait_.try_emplace(key, options_.poll.initial).first->second;
  if (looks == 1) {
    // Ready at the first look: try a little sooner next time.
    wait = wait * 0.95;
  } else {
    // The state arrived between the last "not yet" and now: aim between.
    wait = std::max(wait, (not_ready_at + ready_at) / 2) * 1.1;
  }
  wait = std::clamp(wait, options_.poll.initial, options_.poll.max_first_wait);
}

absl::StatusOr<Order> AcmeClient::Finalize(const Order& order,
                                           const std::string& csr_der,
                                           const Context& ctx) {
  const std::string payload =
      absl::StrCat(R"({"csr":")", crypto::Base64UrlEncode(csr_der), R"("})");
  // Not repeated without a response; the order runner re-reads the order and
  // polls when it finds it "processing" or "valid".
  ASSIGN_OR_RETURN(HttpResponse resp, Post("finalize", order.finalize, payload,
                                           Retry::kUnsafe, ctx));
  ASSIGN_OR_RETURN(Order updated, ParseOrder(resp.body, order.url));
  updated.retry_after =
      ParseRetryAfter(resp.Header("retry-after"), clock_.Now());
  return updated;
}

absl::StatusOr<std::vector<CertificateChain>> AcmeClient::DownloadCertificate(
    const std::string& url, bool alternates, const Context& ctx) {
  std::vector<CertificateChain> chains;
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Post("certificate", url, "", Retry::kSafe, ctx));
  chains.push_back({url, resp.body});
  if (!alternates) return chains;
  // Each alternate is one more signed request: a CA listing hundreds would
  // have the client spend its rate limit and memory on them.
  std::vector<std::string> offered;
  for (const std::string& alt :
       LinkTargets(resp.Headers("link"), "alternate")) {
    if (alt == url ||
        std::find(offered.begin(), offered.end(), alt) != offered.end()) {
      continue;
    }
    // One the client would refuse to fetch is left out, not a reason to
    // lose the default chain.
    if (absl::Status allowed = url_policy_->Check(alt); !allowed.ok()) {
      Limited("certificate", "url_refused", std::string(allowed.message()));
      continue;
    }
    offered.push_back(alt);
  }
  const size_t limit =
      static_cast<size_t>(std::max(0, options_.max_alternate_chains));
  if (offered.size() > limit) {
    Limited(
        "certificate", "alternates_dropped",
        absl::StrCat("certificate ", url, ": the CA offers ", offered.size(),
                     " alternate chains; downloading the "
                     "first ",
                     limit, " (", offered[limit],
                     " and later "
                     "are ignored)"));
    offered.resize(limit);
  }
  for (const std::string& alt : offered) {
    ASSIGN_OR_RETURN(HttpResponse alt_resp,
                     Post("certificate", alt, "", Retry::kSafe, ctx));
    chains.push_back({alt, alt_resp.body});
  }
  return chains;
}

absl::StatusOr<RenewalInfo> AcmeClient::GetRenewalInfo(
    const std::string& cert_id, const Context& ctx) {
  ASSIGN_OR_RETURN(Directory dir, GetDirectory(ctx));
  if (dir.renewal_info.empty()) {
    return absl::UnimplementedError("the CA offers no renewalInfo (ARI)");
  }
  std::string base = dir.renewal_info;
  if (!base.empty() && base.back() != '/') base += '/';
  ASSIGN_OR_RETURN(HttpResponse resp, Get("renewal-info", base + cert_id, ctx));
  ASSIGN_OR_RETURN(RenewalInfo info, ParseRenewalInfo(resp.body));
  info.retry_after = ParseRetryAfter(resp.Header("retry-after"), clock_.Now());
  return info;
}

}  // namespace certfleet::acme
