#include "common/crypto/csr.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/openssl_util.h"

namespace certfleet::crypto {

using internal::OpenSslDeleter;
using internal::OpenSslError;

namespace {

using X509ReqPtr = std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ, X509_REQ_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES, GENERAL_NAMES_free>>;

void FreeExtensions(STACK_OF(X509_EXTENSION)* exts) {
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}
using ExtensionsPtr = std::unique_ptr<STACK_OF(X509_EXTENSION),
                                      OpenSslDeleter<STACK_OF(X509_EXTENSION), FreeExtensions>>;

// RFC 5280 Appendix A: ub-common-name INTEGER ::= 64.
constexpr size_t kMaxCommonName = 64;
constexpr size_t kMaxDnsName = 253;

absl::Status CheckNames(const std::vector<std::string>& names) {
  if (names.empty()) {
    return absl::InvalidArgumentError("a CSR needs at least one DNS name");
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("DNS name ", i + 1, " of the CSR is empty"));
    }
    if (names[i].size() > kMaxDnsName) {
      return absl::InvalidArgumentError(
          absl::StrCat("DNS name ", names[i].substr(0, 40), "... is ",
                       names[i].size(), " characters; the limit is 253"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> BuildCsrDer(
    const PrivateKey& key, const std::vector<std::string>& dns_names) {
  if (absl::Status s = CheckNames(dns_names); !s.ok()) return s;

  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "create CSR");
  }
  if (dns_names.front().size() <= kMaxCommonName) {
    X509_NAME* subject = X509_REQ_get_subject_name(req.get());
    const std::string& cn = dns_names.front();
    if (X509_NAME_add_entry_by_NID(
            subject, NID_commonName, MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(cn.data()),
            static_cast<int>(cn.size()), -1, 0) != 1) {
      return OpenSslError(absl::StatusCode::kInvalidArgument,
                          absl::StrCat("set CSR common name ", cn));
    }
  }
  if (X509_REQ_set_pubkey(req.get(), key.raw()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "set CSR public key");
  }

  GeneralNamesPtr names(GENERAL_NAMES_new());
  for (const std::string& name : dns_names) {
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (ia5 == nullptr || gn == nullptr ||
        ASN1_STRING_set(ia5, name.data(), static_cast<int>(name.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      GENERAL_NAME_free(gn);
      return OpenSslError(absl::StatusCode::kInternal, "build subjectAltName");
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gn) == 0) {
      GENERAL_NAME_free(gn);
      return OpenSslError(absl::StatusCode::kInternal, "build subjectAltName");
    }
  }
  STACK_OF(X509_EXTENSION)* raw_exts = nullptr;
  if (X509V3_add1_i2d(&raw_exts, NID_subject_alt_name, names.get(), 0,
                      X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        "encode subjectAltName extension");
  }
  ExtensionsPtr exts(raw_exts);
  if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        "add extension request to CSR");
  }

  const EVP_MD* md = key.type() == KeyType::kEc384 ? EVP_sha384() : EVP_sha256();
  if (X509_REQ_sign(req.get(), key.raw(), md) <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "sign CSR");
  }
  unsigned char* buf = nullptr;
  const int len = i2d_X509_REQ(req.get(), &buf);
  if (len <= 0) return OpenSslError(absl::StatusCode::kInternal, "encode CSR");
  std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return der;
}

}  // namespace certfleet::crypto
