// A certificate version's identifier, "<certificate>/<n>": how the store's
// records (desired and installed versions, rollouts' from and to), agents
// and certfleetctl name one version of a certificate.
//
//   VersionId("web", 3);                        // "web/3"
//   ASSIGN_OR_RETURN(auto parts, ParseVersionId("web/3"));  // {"web", 3}
//   IsVersionId(untrusted_text);                // the strict grammar
#ifndef CERTFLEET_COORDINATOR_STORE_VERSION_ID_H_
#define CERTFLEET_COORDINATOR_STORE_VERSION_ID_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::store {

// "<certificate>/<version>".
std::string VersionId(absl::string_view certificate, int64_t version);

// The parts of a version id read back from the store; kInvalidArgument
// when it is not "<certificate>/<n>" with n ≥ 1.
absl::StatusOr<std::pair<std::string, int64_t>> ParseVersionId(
    absl::string_view version_id);

// True when `id` is exactly what VersionId makes: a certificate name of the
// configuration's grammar (common/names.h) and a decimal n ≥ 1 without
// sign, spaces or leading zeros, below 2^63. For text from agents.
bool IsVersionId(absl::string_view id);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_VERSION_ID_H_
