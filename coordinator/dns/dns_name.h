// Small helpers for DNS names and server addresses, shared by the DNS-01
// code. Names are handled in presentation form, lower-case and absolute
// (with the trailing dot), because DNS names compare case-insensitively
// (RFC 4343) and every zone computation is a suffix test on labels.
//
//   std::string n = CanonicalName("_ACME-challenge.Example.test");
//   // n == "_acme-challenge.example.test."
//   bool in = IsInZone(n, "example.test.");             // true
//   ASSIGN_OR_RETURN(HostPort hp, ParseHostPort("127.0.0.1:5353"));
#ifndef CERTFLEET_COORDINATOR_DNS_DNS_NAME_H_
#define CERTFLEET_COORDINATOR_DNS_DNS_NAME_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace certfleet::dns {

// Lower-case with exactly one trailing dot; "" and "." both give ".".
std::string CanonicalName(absl::string_view name);

// True when `name` equals `zone` or lies below it, on label boundaries.
// Both must be canonical. Every name is in ".".
bool IsInZone(absl::string_view name, absl::string_view zone);

// The name without its leftmost label: "a.b.test." → "b.test.",
// "test." → ".", "." → "" (there is no parent of the root).
std::string ParentName(absl::string_view name);

// A numeric server address: IPv4 or IPv6 literal and a port.
struct HostPort {
  std::string ip;
  int port = 0;
};

// Parses "127.0.0.1:53" or "[::1]:53". Host names are rejected on purpose:
// resolving them would need the system resolver. kInvalidArgument otherwise.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text);

// "127.0.0.1:53" or "[::1]:53".
std::string JoinHostPort(absl::string_view ip, int port);

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_DNS_NAME_H_
