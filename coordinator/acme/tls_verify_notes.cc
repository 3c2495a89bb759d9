#include "coordinator/acme/tls_verify_notes.h"

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace certfleet::acme {
namespace {

// The SSL_CTX slot that points at the transfer's notes.
int NotesIndex() {
  static const int index =
      SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string SubjectOf(X509* cert) {
  if (cert == nullptr) return "";
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()),
                                                &BIO_free);
  if (!bio) return "";
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0,
                     XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : "";
}

// Called by OpenSSL for each certificate of the chain; returns its verdict
// unchanged.
int OnVerify(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return preverify_ok;
  auto* notes = static_cast<TlsVerifyNotes*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), NotesIndex()));
  if (notes == nullptr) return preverify_ok;
  const int depth = X509_STORE_CTX_get_error_depth(store);
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (notes->server_subject.empty()) {
    // The certificate being verified: the server's, whatever the depth of
    // this call (a chain that fails at its issuer never calls at depth 0).
    notes->server_subject = SubjectOf(X509_STORE_CTX_get0_cert(store));
  }
  if (!preverify_ok && notes->failure.empty()) {
    notes->failure =
        X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
    notes->failed_subject = SubjectOf(cert);
    notes->failed_depth = depth;
  }
  return preverify_ok;
}

// CURLOPT_SSL_CTX_FUNCTION: runs once per new connection, after curl set
// its verify mode, which is kept.
CURLcode OnSslContext(CURL*, void* ssl_ctx, void* notes) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_ex_data(ctx, NotesIndex(), notes);
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), &OnVerify);
  return CURLE_OK;
}

bool CurlUsesOpenSsl() {
  static const bool openssl = [] {
    const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
    return v != nullptr && v->ssl_version != nullptr &&
           std::string(v->ssl_version).rfind("OpenSSL", 0) == 0;
  }();
  return openssl;
}

}  // namespace

std::string TlsVerifyNotes::Describe(absl::string_view already_said) const {
  if (!failure.empty()) {
    std::string out =
        absl::StrContains(already_said, failure) ? "" : failure + ": ";
    absl::StrAppend(&out, "certificate \"", failed_subject, "\" at depth ",
                    failed_depth);
    if (failed_depth != 0 && !server_subject.empty()) {
      absl::StrAppend(&out, ", presented by \"", server_subject, "\"");
    }
    return out;
  }
  if (!server_subject.empty()) {
    return absl::StrCat("server certificate \"", server_subject, "\"");
  }
  return "";
}

bool WatchTlsVerification(void* curl, TlsVerifyNotes* notes) {
  if (!CurlUsesOpenSsl()) return false;
  CURL* c = static_cast<CURL*>(curl);
  return curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, &OnSslContext) ==
             CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, notes) == CURLE_OK;
}

void StopWatchingTlsVerification(void* curl) {
  if (!CurlUsesOpenSsl()) return;
  // The connection stays in curl's cache; its SSL_CTX must not keep a
  // pointer to this transfer's notes (a renegotiation would verify again).
  curl_tlssessioninfo* info = nullptr;
  if (curl_easy_getinfo(static_cast<CURL*>(curl), CURLINFO_TLS_SSL_PTR,
                        &info) != CURLE_OK ||
      info == nullptr || info->backend != CURLSSLBACKEND_OPENSSL ||
      info->internals == nullptr) {
    return;
  }
  SSL_CTX_set_ex_data(SSL_get_SSL_CTX(static_cast<SSL*>(info->internals)),
                      NotesIndex(), nullptr);
}

}  // namespace certfleet::acme
