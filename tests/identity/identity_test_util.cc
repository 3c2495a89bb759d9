#include "tests/identity/identity_test_util.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"
#include "common/crypto/csr.h"
#include "common/crypto/verify.h"

namespace certfleet::identity::testing {

crypto::PrivateKey NewKey() {
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  if (!key.ok()) {
    fprintf(stderr, "NewKey: %s\n", key.status().ToString().c_str());
    abort();
  }
  return *std::move(key);
}

std::string CsrFor(const crypto::PrivateKey& key) {
  absl::StatusOr<std::string> csr =
      crypto::BuildCsrDer(key, {"ignored.example.test"});
  if (!csr.ok()) {
    fprintf(stderr, "CsrFor: %s\n", csr.status().ToString().c_str());
    abort();
  }
  return *std::move(csr);
}

std::string TamperedCsr(std::string csr) {
  // The last bytes are the signature's S value.
  csr[csr.size() - 3] ^= 0x01;
  return csr;
}

absl::Status VerifyForPurpose(const std::string& leaf_pem,
                              const std::string& ca_pem, int purpose,
                              absl::Time at) {
  absl::StatusOr<crypto::Certificate> leaf =
      crypto::Certificate::FromPem(leaf_pem);
  absl::StatusOr<crypto::Certificate> ca = crypto::Certificate::FromPem(ca_pem);
  if (!leaf.ok()) return leaf.status();
  if (!ca.ok()) return ca.status();
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca->raw());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf->raw(), nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  X509_STORE_CTX_set_time(ctx, 0, absl::ToTimeT(at));
  const int ok = X509_verify_cert(ctx);
  const int error = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  if (ok == 1) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("verify: ", X509_verify_cert_error_string(error)));
}

bool CertifiesKey(const std::string& pem, const crypto::PrivateKey& key) {
  absl::StatusOr<crypto::Certificate> cert = crypto::Certificate::FromPem(pem);
  return cert.ok() && crypto::CheckKeyMatches(key, *cert).ok();
}

}  // namespace certfleet::identity::testing
