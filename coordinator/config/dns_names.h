// DNS names as the configuration holds them: the names a certificate covers
// (host names, "*." allowed as the whole leftmost label) and the zones a DNS
// provider serves. Both are compared case-insensitively, so both are stored
// lower-case; zones are absolute (trailing dot) as DNS servers write them.
//
//   NormalizeCertificateName("WWW.Example.Test.")  // "www.example.test"
//   NormalizeZone("Example.Test")                  // "example.test."
//   IsInZone("*.example.test", "example.test.")    // true
#ifndef CERTFLEET_COORDINATOR_CONFIG_DNS_NAMES_H_
#define CERTFLEET_COORDINATOR_CONFIG_DNS_NAMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::config {

// Lower-cases, drops one trailing dot and checks: letters, digits and
// hyphens (LDH) in labels of 1..63 characters that neither start nor end with
// a hyphen, 253 characters in all, "*" only as a whole leftmost label, not an
// IP address. kInvalidArgument naming the problem otherwise.
absl::StatusOr<std::string> NormalizeCertificateName(absl::string_view name);

// Lower-cases and adds the trailing dot. Labels may also hold "_" (zones
// such as _acme-challenge.example.test. exist for delegated validation); no
// wildcards; not the root.
absl::StatusOr<std::string> NormalizeZone(absl::string_view zone);

// True when `name` (normalized, maybe "*.") is `zone` (normalized) or lies
// below it. The wildcard label is ignored: *.example.test is validated at
// _acme-challenge.example.test.
bool IsInZone(absl::string_view name, absl::string_view zone);

}  // namespace certfleet::config

#endif  // CERTFLEET_COORDINATOR_CONFIG_DNS_NAMES_H_
