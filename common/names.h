// The one grammar of the names certfleet's configuration gives to things —
// targets (in agent.yaml and in coordinator.yaml's selectors), issuers, DNS
// providers, certificates — and that agents send back: 1 to 64 letters,
// digits, ".", "_" and "-", starting with a letter or digit. Such a name is
// safe in logs, metric labels, file names and certfleetctl's tables.
//
//   if (!IsObjectName(target)) return InvalidArgumentError(...);
#ifndef CERTFLEET_COMMON_NAMES_H_
#define CERTFLEET_COMMON_NAMES_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace certfleet {

inline constexpr size_t kMaxObjectNameLength = 64;

// "letters, digits, ".", "_" and "-", starting with a letter or digit, at
// most 64 characters": for error messages.
inline constexpr char kObjectNameGrammar[] =
    "letters, digits, \".\", \"_\" and \"-\", starting with a letter or "
    "digit, at most 64 characters";

bool IsObjectName(absl::string_view name);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_NAMES_H_
