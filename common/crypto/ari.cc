#include "common/crypto/ari.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"

namespace certfleet::crypto {

absl::StatusOr<std::string> AriCertId(const Certificate& cert) {
  std::optional<std::string> aki = cert.AuthorityKeyId();
  if (!aki.has_value() || aki->empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "certificate serial ", cert.SerialHex(), " (", cert.SubjectDn(),
        ") has no authority key identifier; RFC 9773 renewal information "
        "cannot identify it"));
  }
  // RFC 9773 §4.1: the serial is the DER INTEGER's content octets, so a
  // serial with its high bit set keeps its leading zero byte.
  return absl::StrCat(Base64UrlEncode(*aki), ".",
                      Base64UrlEncode(cert.SerialDerContent()));
}

}  // namespace certfleet::crypto
