// How a digest is shown to people — in logs, certfleetctl's tables and
// warnings: the first 12 hex digits, enough to tell two apart at a glance.
//
//   ShortDigest("sha256:1f2e3d4c5b6a7980...");  // "1f2e3d4c5b6a"
#ifndef CERTFLEET_COMMON_SHORT_DIGEST_H_
#define CERTFLEET_COMMON_SHORT_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace certfleet {

// The first 12 hex digits of `digest`, with or without its "sha256:".
inline std::string ShortDigest(absl::string_view digest) {
  absl::ConsumePrefix(&digest, "sha256:");
  return std::string(digest.substr(0, 12));
}

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_SHORT_DIGEST_H_
