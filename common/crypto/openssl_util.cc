#include "common/crypto/openssl_util.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"

namespace certfleet::crypto::internal {

std::string DrainOpenSslErrors() {
  std::string out;
  unsigned long err;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!out.empty()) out.append("; ");
    out.append(buf);
  }
  if (out.empty()) out = "no OpenSSL error detail";
  return out;
}

absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  return absl::Status(code, absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return "";
  return std::string(data, static_cast<size_t>(len));
}

BioPtr MemBio(absl::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BignumBytes(const BIGNUM* bn, int width) {
  int n = BN_num_bytes(bn);
  if (width < n) width = n;
  if (width == 0) width = 1;
  std::string out(static_cast<size_t>(width), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), width);
  return out;
}

}  // namespace certfleet::crypto::internal
