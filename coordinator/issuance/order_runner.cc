#include "coordinator/issuance/order_runner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/backoff.h"
#include "common/crypto/ari.h"
#include "common/crypto/certificate.h"
#include "common/crypto/csr.h"
#include "common/crypto/verify.h"
#include "common/failpoint.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/acme/chain_selection.h"

namespace certfleet::issuance {

struct OrderRunner::State {
  store::OrderRecord rec;
  acme::Order order;
};

namespace {

dns::PlannedRecord ToPlanned(const store::DnsRecordRef& r) {
  return {r.provider, r.zone, r.fqdn, r.value};
}

store::DnsRecordRef ToRef(const dns::PlannedRecord& p) {
  return {p.provider, p.zone, p.fqdn, p.value};
}

// Order states that never change again (Pebble says "deactivated" where
// RFC 8555 says "invalid").
bool IsFinal(const std::string& status) {
  return status == "invalid" || status == "deactivated" ||
         status == "expired" || status == "revoked";
}

absl::StatusOr<crypto::PrivateKey> OpenKey(const crypto::Kek& kek,
                                           const store::OrderRecord& rec) {
  ASSIGN_OR_RETURN(std::string pem,
                   kek.Open(rec.key_sealed, CertificateKeyAad(rec.cert_name)));
  return crypto::PrivateKey::FromPem(pem);
}

}  // namespace

namespace {
std::string Fingerprint(absl::string_view key_type, absl::string_view issuer,
                        std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return absl::StrCat(key_type, "|", issuer, "|", absl::StrJoin(names, ","));
}
}  // namespace

std::string SpecFingerprint(const config::CertificateConfig& cert) {
  return Fingerprint(crypto::KeyTypeName(cert.key_type), cert.issuer,
                     cert.names);
}

std::string VersionFingerprint(const store::VersionRecord& version) {
  return Fingerprint(version.key_type, version.issuer, version.names);
}

OrderRunner::OrderRunner(store::Store& store, const crypto::Kek& kek,
                         dns::Dns01Solver& solver, Clock& clock,
                         OrderRunnerOptions options,
                         IssuanceObserver* observer)
    : store_(store),
      kek_(kek),
      solver_(solver),
      clock_(clock),
      options_(options),
      observer_(observer) {}

absl::StatusOr<store::VersionRecord> OrderRunner::Run(
    const config::CertificateConfig& cert, Issuer& issuer,
    const std::string& replaces, const Context& ctx) {
  const std::string what = absl::StrCat("certificate ", cert.name);
  const Context order_ctx =
      ctx.WithDeadline(clock_.Now() + issuer.config().order_timeout);
  if (absl::Status s = issuer.order_slots().Acquire(order_ctx, clock_);
      !s.ok()) {
    return Annotate(s, absl::StrCat(what, ": waiting for an order slot of issuer ",
                                    issuer.name()));
  }
  acme::SemaphoreGuard slot(&issuer.order_slots());

  State state;
  absl::StatusOr<store::VersionRecord> result =
      Execute(state, cert, issuer, replaces, order_ctx);
  if (result.ok()) {
    if (observer_) observer_->OnOrderFinished(issuer.name(), "issued");
    return result;
  }

  const absl::Status& error = result.status();
  const bool cleaned = CleanUpRecords(state.rec);
  if (!state.rec.order_url.empty()) {
    const bool may_pass =
        IsRetryable(error) || error.code() == absl::StatusCode::kCancelled;
    if (may_pass) {
      // Keep the order: the next attempt resumes it.
      if (absl::Status s = PersistOrder(state, state.rec.stage); !s.ok()) {
        CF_LOG_WARN("%s: cannot save order %s: %s", what, state.rec.order_url,
                    s.ToString());
      }
      if (observer_) observer_->OnOrderFinished(issuer.name(), "failed");
    } else {
      DeactivatePending(state.rec, issuer);
      // Records that could not be removed stay remembered with the order;
      // the next attempt finds it invalid, removes them, and starts over.
      absl::Status s = cleaned ? store_.DeleteOrder(cert.name)
                               : PersistOrder(state, "abandoned");
      if (!s.ok()) {
        CF_LOG_WARN("%s: cannot update order %s: %s", what,
                    state.rec.order_url, s.ToString());
      }
      if (observer_) observer_->OnOrderFinished(issuer.name(), "abandoned");
    }
    return Annotate(error, absl::StrCat(what, " (order ", state.rec.order_url, ")"));
  }
  if (observer_) observer_->OnOrderFinished(issuer.name(), "failed");
  return Annotate(error, what);
}

absl::StatusOr<store::VersionRecord> OrderRunner::Execute(
    State& state, const config::CertificateConfig& cert, Issuer& issuer,
    const std::string& replaces, const Context& ctx) {
  ASSIGN_OR_RETURN(std::optional<store::OrderRecord> existing,
                   store_.GetOrder(cert.name));
  if (existing && (existing->spec_fingerprint != SpecFingerprint(cert) ||
                   existing->issuer != issuer.name())) {
    CF_LOG_INFO("certificate %s: configuration changed since order %s was "
                "placed; abandoning it",
                cert.name, existing->order_url);
    RETURN_IF_ERROR(Abandon(
        *existing, existing->issuer == issuer.name() ? &issuer : nullptr));
    existing.reset();
  }
  RETURN_IF_ERROR(issuer.EnsureAccount(store_, kek_, ctx));

  if (existing) {
    state.rec = *existing;
    absl::Status resumed = Resume(state, issuer, ctx);
    if (resumed.code() == absl::StatusCode::kAborted) {
      CF_LOG_INFO("certificate %s: %s; placing a new order", cert.name,
                  resumed.message());
      CleanUpRecords(state.rec);
      // Records still not removed travel with the new order's record.
      std::vector<store::DnsRecordRef> leftover = state.rec.dns_records;
      state = State{};
      state.rec.dns_records = std::move(leftover);
      RETURN_IF_ERROR(Place(state, cert, issuer, replaces, ctx));
    } else {
      RETURN_IF_ERROR(resumed);
    }
  } else {
    RETURN_IF_ERROR(Place(state, cert, issuer, replaces, ctx));
  }

  if (state.order.status == "pending") {
    RETURN_IF_ERROR(Validate(state, issuer, ctx));
  }
  // Validation is over: the TXT records are not needed any more.
  CleanUpRecords(state.rec);
  RETURN_IF_ERROR(Finalize(state, cert, issuer, ctx));
  ASSIGN_OR_RETURN(store::VersionRecord version,
                   Download(state, cert, issuer, ctx));
  if (!CleanUpRecords(state.rec)) {
    CF_LOG_ERROR("certificate %s: DNS-01 records could not be removed and "
                 "must be deleted by hand: %s",
                 cert.name,
                 absl::StrJoin(state.rec.dns_records, ", ",
                               [](std::string* out, const store::DnsRecordRef& r) {
                                 absl::StrAppend(out, r.fqdn, " TXT ", r.value);
                               }));
  }
  ASSIGN_OR_RETURN(version.version, store_.AddVersion(version));
  Failpoint("order.stored");
  CF_LOG_INFO("certificate %s: stored version %d (serial %s, not after %s)",
              cert.name, version.version, version.serial_hex,
              absl::FormatTime(absl::RFC3339_sec, version.not_after,
                               absl::UTCTimeZone()));
  return version;
}

absl::Status OrderRunner::Place(State& state,
                                const config::CertificateConfig& cert,
                                Issuer& issuer, const std::string& replaces,
                                const Context& ctx) {
  ASSIGN_OR_RETURN(
      state.order,
      issuer.client().NewOrder(
          cert.names, {.replaces = replaces, .profile = issuer.config().profile},
          ctx));
  const absl::Time now = clock_.Now();
  state.rec.cert_name = cert.name;
  state.rec.issuer = issuer.name();
  state.rec.order_url = state.order.url;
  state.rec.spec_fingerprint = SpecFingerprint(cert);
  state.rec.names = cert.names;
  state.rec.key_type = crypto::KeyTypeName(cert.key_type);
  state.rec.key_sealed.clear();
  state.rec.replaces = replaces;
  state.rec.created_at = now;
  // Persisted before anything else is done with the order: a crash from
  // here on resumes this order instead of placing another.
  RETURN_IF_ERROR(PersistOrder(state, "placed"));
  Failpoint("order.persisted");
  CF_LOG_INFO("certificate %s: placed order %s", cert.name, state.order.url);
  return absl::OkStatus();
}

absl::Status OrderRunner::Resume(State& state, Issuer& issuer,
                                 const Context& ctx) {
  absl::StatusOr<acme::Order> order =
      issuer.client().GetOrder(state.rec.order_url, ctx);
  if (!order.ok()) {
    if (order.status().code() == absl::StatusCode::kNotFound) {
      return absl::AbortedError(absl::StrCat(
          "order ", state.rec.order_url, " no longer exists at the CA"));
    }
    return order.status();
  }
  if (IsFinal(order->status) ||
      (order->expires != absl::InfinitePast() &&
       order->expires <= clock_.Now())) {
    return absl::AbortedError(absl::StrCat("order ", state.rec.order_url,
                                           " is ", order->status,
                                           IsFinal(order->status) ? "" : " and expired"));
  }
  if ((order->status == "processing" || order->status == "valid") &&
      state.rec.key_sealed.empty()) {
    return absl::AbortedError(absl::StrCat(
        "order ", state.rec.order_url, " was finalized without a stored key"));
  }
  state.order = *std::move(order);
  CF_LOG_INFO("certificate %s: resuming order %s (%s)", state.rec.cert_name,
              state.order.url, state.order.status);
  return absl::OkStatus();
}

absl::Status OrderRunner::Validate(State& state, Issuer& issuer,
                                   const Context& ctx) {
  acme::AcmeClient& client = issuer.client();
  std::vector<dns::TxtRecord> wanted;
  std::vector<std::string> to_answer;
  for (const std::string& url : state.order.authorizations) {
    ASSIGN_OR_RETURN(acme::Authorization authz,
                     client.GetAuthorization(url, ctx));
    if (authz.status == "valid") continue;
    const acme::Challenge* ch = authz.Find("dns-01");
    if (authz.status != "pending") {
      std::string why;
      if (ch && ch->error) why = absl::StrCat(": ", ch->error->Describe());
      return absl::FailedPreconditionError(
          absl::StrCat("authorization for ", authz.identifier.value, " is ",
                       authz.status, why));
    }
    if (ch == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the CA offers no dns-01 challenge for ", authz.identifier.value));
    }
    ASSIGN_OR_RETURN(std::string key_authz, client.KeyAuthorization(ch->token));
    // RFC 8555 §8.4; a wildcard's authorization carries the base name.
    wanted.push_back({dns::Dns01Solver::ChallengeFqdn(authz.identifier.value),
                      acme::AcmeClient::Dns01TxtValue(key_authz)});
    if (ch->status == "pending") to_answer.push_back(ch->url);
  }
  if (!wanted.empty()) {
    ASSIGN_OR_RETURN(std::vector<dns::PlannedRecord> plan,
                     solver_.Plan(wanted, ctx));
    for (const dns::PlannedRecord& p : plan) {
      store::DnsRecordRef ref = ToRef(p);
      if (std::find(state.rec.dns_records.begin(), state.rec.dns_records.end(),
                    ref) == state.rec.dns_records.end()) {
        state.rec.dns_records.push_back(std::move(ref));
      }
    }
    // Remembered before they are written, so a crash cannot orphan them.
    RETURN_IF_ERROR(PersistOrder(state, "presenting"));
    Failpoint("order.records-persisted");
    std::vector<dns::PlannedRecord> not_written;
    if (absl::Status s = solver_.Present(plan, ctx, &not_written); !s.ok()) {
      // What the provider is sure it never wrote needs no clean-up.
      for (const dns::PlannedRecord& p : not_written) {
        std::erase(state.rec.dns_records, ToRef(p));
      }
      return s;
    }
    Failpoint("order.records-presented");
    ASSIGN_OR_RETURN(absl::Duration waited,
                     solver_.WaitForPropagation(plan, ctx));
    if (observer_) observer_->OnPropagation(waited);
  }
  for (const std::string& url : to_answer) {
    RETURN_IF_ERROR(client.AnswerChallenge(url, ctx).status());
  }
  Failpoint("order.answered");
  ASSIGN_OR_RETURN(state.order,
                   client.PollOrder(state.order.url,
                                    {"ready", "processing", "valid"}, ctx));
  return absl::OkStatus();
}

absl::Status OrderRunner::Finalize(State& state,
                                   const config::CertificateConfig& cert,
                                   Issuer& issuer, const Context& ctx) {
  acme::AcmeClient& client = issuer.client();
  if (state.rec.key_sealed.empty()) {
    // A fresh key for every version, stored before finalize is sent: if we
    // die after the CA issues, the certificate still has its key.
    ASSIGN_OR_RETURN(crypto::PrivateKey key,
                     crypto::PrivateKey::Generate(cert.key_type));
    ASSIGN_OR_RETURN(std::string pem, key.ToPem());
    ASSIGN_OR_RETURN(state.rec.key_sealed,
                     kek_.Seal(pem, CertificateKeyAad(cert.name)));
  }
  RETURN_IF_ERROR(PersistOrder(state, "finalizing"));
  Failpoint("order.key-stored");
  if (state.order.status == "ready") {
    ASSIGN_OR_RETURN(crypto::PrivateKey key, OpenKey(kek_, state.rec));
    ASSIGN_OR_RETURN(std::string csr, crypto::BuildCsrDer(key, cert.names));
    absl::StatusOr<acme::Order> finalized =
        client.Finalize(state.order, csr, ctx);
    if (!finalized.ok()) {
      // The CA may have acted on a finalize whose response was lost.
      absl::StatusOr<acme::Order> now = client.GetOrder(state.order.url, ctx);
      if (!now.ok() ||
          (now->status != "processing" && now->status != "valid")) {
        return finalized.status();
      }
      finalized = std::move(now);
    }
    state.order = *std::move(finalized);
    Failpoint("order.finalized");
  }
  if (state.order.status != "valid") {
    ASSIGN_OR_RETURN(state.order,
                     client.PollOrder(state.order.url, {"valid"}, ctx));
  }
  return absl::OkStatus();
}

absl::StatusOr<store::VersionRecord> OrderRunner::Download(
    State& state, const config::CertificateConfig& cert, Issuer& issuer,
    const Context& ctx) {
  const std::string preferred = cert.preferred_chain.empty()
                                    ? issuer.config().preferred_chain
                                    : cert.preferred_chain;
  ASSIGN_OR_RETURN(std::vector<acme::CertificateChain> chains,
                   issuer.client().DownloadCertificate(
                       state.order.certificate, !preferred.empty(), ctx));
  ASSIGN_OR_RETURN(size_t index, acme::SelectChain(chains, preferred));
  const std::string where =
      absl::StrCat("certificate downloaded from ", chains[index].url);
  absl::StatusOr<std::vector<crypto::Certificate>> certs =
      crypto::Certificate::ParsePemChain(chains[index].pem);
  if (!certs.ok()) return Annotate(certs.status(), where);
  const crypto::Certificate& leaf = (*certs)[0];
  const std::vector<crypto::Certificate> intermediates(certs->begin() + 1,
                                                       certs->end());
  ASSIGN_OR_RETURN(crypto::PrivateKey key, OpenKey(kek_, state.rec));
  const absl::Time now = clock_.Now();
  // Refuse to store anything an agent would refuse to install.
  for (absl::Status s :
       {crypto::CheckKeyMatches(key, leaf),
        crypto::CheckNamesCover(leaf, cert.names),
        crypto::CheckValidAt(leaf, now),
        intermediates.empty()
            ? absl::OkStatus()
            : crypto::VerifyChain(leaf, intermediates, {}, now)}) {
    if (!s.ok()) return Annotate(s, where);
  }
  std::string chain_pem;
  for (const crypto::Certificate& c : intermediates) chain_pem += c.ToPem();
  absl::StatusOr<std::string> ari_id = crypto::AriCertId(leaf);
  Failpoint("order.downloaded");
  return store::VersionRecord{.cert_name = cert.name,
                              .issuer = issuer.name(),
                              .names = cert.names,
                              .key_type = crypto::KeyTypeName(cert.key_type),
                              .serial_hex = leaf.SerialHex(),
                              .not_before = leaf.NotBefore(),
                              .not_after = leaf.NotAfter(),
                              .leaf_pem = leaf.ToPem(),
                              .chain_pem = std::move(chain_pem),
                              .key_sealed = state.rec.key_sealed,
                              .order_url = state.rec.order_url,
                              .ari_cert_id = ari_id.ok() ? *ari_id : "",
                              .created_at = now};
}

bool OrderRunner::CleanUpRecords(store::OrderRecord& rec) {
  if (rec.dns_records.empty()) return true;
  std::vector<dns::PlannedRecord> planned;
  for (const store::DnsRecordRef& r : rec.dns_records) {
    planned.push_back(ToPlanned(r));
  }
  // Its own deadline: the order's may be over, or cancelled.
  const Context cleanup = Context::Background().WithDeadline(
      clock_.Now() + options_.cleanup_timeout);
  absl::Status s = solver_.CleanUp(planned, cleanup);
  if (s.ok()) {
    rec.dns_records.clear();
    return true;
  }
  CF_LOG_WARN("certificate %s: DNS-01 record clean-up failed (will retry): %s",
              rec.cert_name, s.ToString());
  if (observer_) observer_->OnDnsCleanupFailed(rec.cert_name);
  return false;
}

void OrderRunner::DeactivatePending(const store::OrderRecord& rec,
                                    Issuer& issuer) {
  const Context ctx = Context::Background().WithDeadline(
      clock_.Now() + options_.cleanup_timeout);
  absl::StatusOr<acme::Order> order =
      issuer.client().GetOrder(rec.order_url, ctx);
  if (!order.ok() || order->status != "pending") return;
  for (const std::string& url : order->authorizations) {
    absl::StatusOr<acme::Authorization> authz =
        issuer.client().GetAuthorization(url, ctx);
    if (!authz.ok() || authz->status != "pending") continue;
    absl::Status s = issuer.client().DeactivateAuthorization(url, ctx).status();
    if (!s.ok()) {
      CF_LOG_WARN("certificate %s: cannot deactivate authorization %s: %s",
                  rec.cert_name, url, s.ToString());
    }
  }
}

absl::Status OrderRunner::Abandon(const store::OrderRecord& order,
                                  Issuer* issuer) {
  store::OrderRecord rec = order;
  if (issuer != nullptr) DeactivatePending(rec, *issuer);
  if (!CleanUpRecords(rec)) {
    return absl::UnavailableError(absl::StrCat(
        "certificate ", rec.cert_name, ": cannot abandon order ",
        rec.order_url, " until its DNS-01 records are removed"));
  }
  return store_.DeleteOrder(rec.cert_name);
}

absl::Status OrderRunner::PersistOrder(State& state, absl::string_view stage) {
  state.rec.stage = std::string(stage);
  state.rec.updated_at = clock_.Now();
  return store_.PutOrder(state.rec);
}

}  // namespace certfleet::issuance
