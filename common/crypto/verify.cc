#include "common/crypto/verify.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/crypto/openssl_util.h"
#include "common/rfc3339.h"

namespace certfleet::crypto {

using internal::OpenSslDeleter;
using internal::OpenSslError;

namespace {

using StorePtr =
    std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr =
    std::unique_ptr<X509_STORE_CTX,
                    OpenSslDeleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

void FreeX509Stack(STACK_OF(X509) * s) {
  sk_X509_free(s);
}  // Borrowed entries.
using X509StackPtr =
    std::unique_ptr<STACK_OF(X509),
                    OpenSslDeleter<STACK_OF(X509), FreeX509Stack>>;

// Lower-case, without one trailing root dot.
std::string NormalizeName(absl::string_view name) {
  if (absl::EndsWith(name, ".")) name.remove_suffix(1);
  return absl::AsciiStrToLower(name);
}

// RFC 6125 §6.4.3 restricted to the only wildcard form CAs issue: a SAN
// "*.<suffix>" covers names with exactly one non-empty label before <suffix>.
bool Covers(const std::string& san, const std::string& name) {
  if (san == name) return true;
  if (!absl::StartsWith(san, "*.") || absl::StartsWith(name, "*."))
    return false;
  const size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0) return false;
  return absl::string_view(name).substr(dot) ==
         absl::string_view(san).substr(1);
}

}  // namespace

absl::Status CheckKeyMatches(const PrivateKey& key, const Certificate& cert) {
  EVP_PKEY* cert_key = X509_get0_pubkey(cert.raw());
  if (cert_key != nullptr && EVP_PKEY_eq(key.raw(), cert_key) == 1) {
    return absl::OkStatus();
  }
  ERR_clear_error();
  return absl::FailedPreconditionError(
      absl::StrCat("private key does not match certificate (serial ",
                   cert.SerialHex(), ", subject ", cert.SubjectDn(), ")"));
}

absl::Status VerifyChain(const Certificate& leaf,
                         const std::vector<Certificate>& intermediates,
                         const std::vector<Certificate>& roots, absl::Time at) {
  if (roots.empty() && intermediates.empty()) {
    return absl::InvalidArgumentError(
        "cannot verify a chain with neither roots nor intermediates: no trust "
        "anchor");
  }
  StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) {
    return OpenSslError(absl::StatusCode::kResourceExhausted,
                        "allocate verification context");
  }
  // X509_STORE_add_cert takes its own reference; the stack borrows.
  const std::vector<Certificate>& anchors =
      roots.empty() ? std::vector<Certificate>{intermediates.back()} : roots;
  for (const Certificate& root : anchors) {
    if (X509_STORE_add_cert(store.get(), root.raw()) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "add trust anchor");
    }
  }
  for (const Certificate& c : intermediates) {
    if (sk_X509_push(untrusted.get(), c.raw()) == 0) {
      return OpenSslError(absl::StatusCode::kResourceExhausted,
                          "add intermediate");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.raw(),
                          untrusted.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        "initialize chain verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(at));
  if (roots.empty()) {
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  }
  if (X509_verify_cert(ctx.get()) == 1) return absl::OkStatus();

  const int err = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
  const std::string subject =
      bad != nullptr ? Certificate::FromRaw(bad).SubjectDn() : "(unknown)";
  ERR_clear_error();
  return absl::FailedPreconditionError(absl::StrCat(
      "certificate chain does not verify at ", FormatRfc3339(at), ": ",
      X509_verify_cert_error_string(err), " (depth ", depth, ", subject ",
      subject, "; leaf serial ", leaf.SerialHex(), ")"));
}

absl::Status CheckNamesCover(const Certificate& cert,
                             const std::vector<std::string>& required) {
  std::vector<std::string> sans = cert.DnsNames();
  for (std::string& san : sans) san = NormalizeName(san);
  std::vector<std::string> missing;
  for (const std::string& want : required) {
    const std::string name = NormalizeName(want);
    bool covered = false;
    for (const std::string& san : sans) {
      if (Covers(san, name)) {
        covered = true;
        break;
      }
    }
    if (!covered) missing.push_back(want);
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("certificate serial ", cert.SerialHex(), " does not cover ",
                   absl::StrJoin(missing, ", "), " (its DNS names: ",
                   sans.empty() ? "none" : absl::StrJoin(sans, ", "), ")"));
}

absl::Status CheckValidAt(const Certificate& cert, absl::Time at) {
  const absl::Time not_before = cert.NotBefore();
  const absl::Time not_after = cert.NotAfter();
  if (at < not_before) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate serial ", cert.SerialHex(), " is not yet valid at ",
        FormatRfc3339(at), ": notBefore is ", FormatRfc3339(not_before)));
  }
  if (at > not_after) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate serial ", cert.SerialHex(), " expired at ",
        FormatRfc3339(not_after), " (checked at ", FormatRfc3339(at), ")"));
  }
  return absl::OkStatus();
}

}  // namespace certfleet::crypto
