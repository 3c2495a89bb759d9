#include "coordinator/issuance/issuer.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/acme/curl_transport.h"

namespace certfleet::issuance {
namespace {

acme::AcmeClientOptions ClientOptions(const config::IssuerConfig& c) {
  return {.directory_url = c.directory_url,
          .requests_per_second = c.requests_per_second,
          .new_nonce_per_second = c.new_nonce_per_second,
          .new_orders_per_window = c.new_orders_per_window,
          .new_orders_window = c.new_orders_window,
          .allowed_hosts = c.allowed_hosts};
}

}  // namespace

std::string AccountKeyAad(const std::string& issuer) {
  return absl::StrCat("certfleet:account-key:", issuer);
}

std::string CertificateKeyAad(const std::string& cert_name) {
  return absl::StrCat("certfleet:certificate-key:", cert_name);
}

absl::StatusOr<std::unique_ptr<Issuer>> Issuer::Create(
    const config::IssuerConfig& config, Clock& clock,
    acme::AcmeObserver* observer) {
  absl::StatusOr<std::unique_ptr<acme::CurlTransport>> transport =
      acme::CurlTransport::Create({.trust_bundle = config.trust_bundle,
                                   .request_timeout = config.request_timeout});
  if (!transport.ok()) {
    return Annotate(transport.status(), absl::StrCat("issuer ", config.name));
  }
  return std::make_unique<Issuer>(config, *std::move(transport), clock,
                                  observer);
}

Issuer::Issuer(const config::IssuerConfig& config,
               std::unique_ptr<acme::HttpTransport> transport, Clock& clock,
               acme::AcmeObserver* observer)
    : config_(config),
      transport_(std::move(transport)),
      client_(std::make_unique<acme::AcmeClient>(ClientOptions(config),
                                                 *transport_, clock, observer)),
      clock_(clock),
      order_slots_(std::max(1, config.max_concurrent_orders)) {}

absl::Status Issuer::EnsureAccount(store::Store& store, const crypto::Kek& kek,
                                   const Context& ctx) {
  if (account_ready_.load(std::memory_order_acquire)) return absl::OkStatus();
  absl::MutexLock lock(&account_mu_);
  if (account_ready_.load()) return absl::OkStatus();
  const std::string where = absl::StrCat("issuer ", name(), " account");

  ASSIGN_OR_RETURN(std::optional<store::AccountRecord> rec,
                   store.GetAccount(name()));
  if (rec && rec->directory_url != config_.directory_url) {
    CF_LOG_WARN(
        "issuer %s: directory changed from %s to %s; creating a new "
        "ACME account",
        name(), rec->directory_url, config_.directory_url);
    rec.reset();
  } else if (rec && rec->status ==
                        acme::AcmeStatusName(acme::AcmeStatus::kDeactivated)) {
    CF_LOG_WARN(
        "issuer %s: stored account %s is deactivated; creating a new "
        "ACME account",
        name(), rec->account_url);
    rec.reset();
  }

  std::optional<crypto::PrivateKey> key;
  if (rec) {
    absl::StatusOr<std::string> pem =
        kek.Open(rec->key_sealed, AccountKeyAad(name()));
    if (!pem.ok()) return Annotate(pem.status(), where);
    absl::StatusOr<crypto::PrivateKey> k = crypto::PrivateKey::FromPem(*pem);
    if (!k.ok()) return Annotate(k.status(), where);
    key = *k;
  } else {
    ASSIGN_OR_RETURN(crypto::PrivateKey k,
                     crypto::PrivateKey::Generate(config_.account_key_type));
    ASSIGN_OR_RETURN(std::string pem, k.ToPem());
    ASSIGN_OR_RETURN(std::string sealed, kek.Seal(pem, AccountKeyAad(name())));
    const absl::Time now = clock_.Now();
    rec = store::AccountRecord{.issuer = name(),
                               .directory_url = config_.directory_url,
                               .key_type = crypto::KeyTypeName(k.type()),
                               .key_sealed = std::move(sealed),
                               .contacts = config_.contacts,
                               .status = "new",
                               .created_at = now,
                               .updated_at = now};
    // The key is stored before the CA knows it: a crash after newAccount
    // then finds the account again instead of orphaning it.
    RETURN_IF_ERROR(store.PutAccount(*rec));
    key = k;
  }
  client_->SetAccountKey(*key, rec->account_url);

  if (rec->account_url.empty()) {
    absl::StatusOr<acme::Account> account = client_->FindAccount(ctx);
    if (account.status().code() == absl::StatusCode::kNotFound) {
      acme::NewAccountRequest req{.contacts = config_.contacts};
      if (config_.eab) {
        req.eab_kid = config_.eab->kid;
        req.eab_hmac_key = config_.eab->hmac_key;
      }
      account = client_->NewAccount(req, ctx);
      if (account.ok()) {
        CF_LOG_INFO("issuer %s: created ACME account %s", name(), account->url);
      }
    }
    if (!account.ok()) return Annotate(account.status(), where);
    rec->account_url = account->url;
    // Stored by name; an account lookup answered with an empty body is
    // one the CA still accepts.
    rec->status = std::string(acme::AcmeStatusName(
        account->status.value_or(acme::AcmeStatus::kValid)));
    rec->updated_at = clock_.Now();
    RETURN_IF_ERROR(store.PutAccount(*rec));
  }
  account_ready_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace certfleet::issuance
