// AcmeClient: account management (RFC 8555 §7.3).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/encoding.h"
#include "common/status_macros.h"
#include "coordinator/acme/acme_client.h"
#include "coordinator/acme/jws.h"

namespace certfleet::acme {
namespace {

// The account URL is the Location of a newAccount response (§7.3).
absl::StatusOr<std::string> AccountLocation(const HttpResponse& resp) {
  std::string url = resp.Header("location");
  if (url.empty()) {
    return absl::UnavailableError(
        "ACME new-account: response has no Location header");
  }
  return url;
}

}  // namespace

absl::StatusOr<Account> AcmeClient::NewAccount(const NewAccountRequest& request,
                                               const Context& ctx) {
  ASSIGN_OR_RETURN(Directory dir, GetDirectory(ctx));
  std::optional<crypto::PrivateKey> key = account_key();
  if (!key) return absl::FailedPreconditionError("no ACME account key set");
  if (dir.external_account_required && request.eab_kid.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the CA at ", options_.directory_url,
        " requires External Account Binding (RFC 8555 §7.3.4); set the "
        "issuer's eab.kid and eab.hmac_key from the CA's account page"));
  }
  std::vector<std::string> contacts;
  for (const std::string& c : request.contacts)
    contacts.push_back(JsonQuote(c));
  std::string payload =
      absl::StrCat(R"({"termsOfServiceAgreed":)",
                   request.terms_of_service_agreed ? "true" : "false",
                   R"(,"contact":[)", absl::StrJoin(contacts, ","), "]");
  if (!request.eab_kid.empty()) {
    ASSIGN_OR_RETURN(
        std::string eab,
        ExternalAccountBinding(*key, request.eab_kid, request.eab_hmac_key,
                               dir.new_account));
    absl::StrAppend(&payload, R"(,"externalAccountBinding":)", eab);
  }
  payload += "}";
  const Signer signer{*key, ""};
  // Safe to repeat: a second newAccount with the same key returns the
  // existing account (§7.3.1).
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Post("new-account", dir.new_account, payload, Retry::kSafe,
                        ctx, &signer));
  ASSIGN_OR_RETURN(const std::string url, AccountLocation(resp));
  ASSIGN_OR_RETURN(Account account, ParseAccount(resp.body, url));
  absl::MutexLock lock(&mu_);
  account_url_ = url;
  return account;
}

absl::StatusOr<Account> AcmeClient::FindAccount(const Context& ctx) {
  ASSIGN_OR_RETURN(Directory dir, GetDirectory(ctx));
  std::optional<crypto::PrivateKey> key = account_key();
  if (!key) return absl::FailedPreconditionError("no ACME account key set");
  const Signer signer{*key, ""};
  ASSIGN_OR_RETURN(HttpResponse resp, Post("new-account", dir.new_account,
                                           R"({"onlyReturnExisting":true})",
                                           Retry::kSafe, ctx, &signer));
  ASSIGN_OR_RETURN(const std::string url, AccountLocation(resp));
  ASSIGN_OR_RETURN(Account account, ParseAccount(resp.body, url));
  absl::MutexLock lock(&mu_);
  account_url_ = url;
  return account;
}

absl::StatusOr<Account> AcmeClient::GetAccount(const Context& ctx) {
  const std::string url = account_url();
  // POST-as-GET (§6.3); Pebble refuses the older empty-update form.
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Post("account", url, "", Retry::kSafe, ctx));
  return ParseAccount(resp.body, url);
}

absl::StatusOr<std::vector<std::string>> AcmeClient::ListOrderUrls(
    const Context& ctx) {
  ASSIGN_OR_RETURN(Account account, GetAccount(ctx));
  if (account.orders_url.empty()) {
    return absl::UnimplementedError("the CA lists no orders for the account");
  }
  std::vector<std::string> urls;
  std::string page = account.orders_url;
  for (int pages = 0; !page.empty() && pages < 1000; ++pages) {
    ASSIGN_OR_RETURN(HttpResponse resp,
                     Post("orders", page, "", Retry::kSafe, ctx));
    ASSIGN_OR_RETURN(std::vector<std::string> batch, ParseOrderList(resp.body));
    urls.insert(urls.end(), batch.begin(), batch.end());
    std::vector<std::string> next = LinkTargets(resp.Headers("link"), "next");
    page = next.empty() ? "" : next[0];
  }
  return urls;
}

absl::Status AcmeClient::RolloverKey(const crypto::PrivateKey& new_key,
                                     const Context& ctx) {
  ASSIGN_OR_RETURN(Directory dir, GetDirectory(ctx));
  if (dir.key_change.empty()) {
    return absl::UnimplementedError("the CA's directory has no keyChange");
  }
  ASSIGN_OR_RETURN(Signer old_signer, AccountSigner());
  ASSIGN_OR_RETURN(
      std::string inner,
      KeyChangeInner(new_key, old_signer.key, old_signer.kid, dir.key_change));
  // Not repeated on a lost response: if the CA applied it, the old key no
  // longer works and the caller must look the account up with the new key.
  RETURN_IF_ERROR(Post("key-change", dir.key_change, inner, Retry::kUnsafe, ctx,
                       &old_signer)
                      .status());
  SetAccountKey(new_key, old_signer.kid);
  return absl::OkStatus();
}

absl::StatusOr<Account> AcmeClient::DeactivateAccount(const Context& ctx) {
  const std::string url = account_url();
  ASSIGN_OR_RETURN(
      HttpResponse resp,
      Post("account", url, R"({"status":"deactivated"})", Retry::kSafe, ctx));
  return ParseAccount(resp.body, url);
}

absl::Status AcmeClient::Revoke(const std::string& certificate_der, int reason,
                                const crypto::PrivateKey* certificate_key,
                                const Context& ctx) {
  ASSIGN_OR_RETURN(Directory dir, GetDirectory(ctx));
  if (dir.revoke_cert.empty()) {
    return absl::UnimplementedError("the CA's directory has no revokeCert");
  }
  const std::string payload = absl::StrCat(
      R"({"certificate":")", crypto::Base64UrlEncode(certificate_der),
      R"(","reason":)", reason, "}");
  std::optional<Signer> signer;
  if (certificate_key != nullptr) signer = Signer{*certificate_key, ""};
  return Post("revoke-cert", dir.revoke_cert, payload, Retry::kSafe, ctx,
              signer ? &*signer : nullptr)
      .status();
}

}  // namespace certfleet::acme
