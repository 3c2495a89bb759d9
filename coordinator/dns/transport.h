// Moves one DNS message to a server and back: over UDP (RFC 1035 §4.2.1) or
// TCP with the two-byte length prefix (RFC 1035 §4.2.2, RFC 7766). Bytes in,
// bytes out: building and parsing messages is the caller's business, so this
// file stays free of ldns. Servers are always explicit "ip:port" strings;
// nothing here consults the system resolver.
//
//   ASSIGN_OR_RETURN(std::string reply,
//                    ExchangeUdp("127.0.0.1:53", query, absl::Seconds(2)));
#ifndef CERTFLEET_COORDINATOR_DNS_TRANSPORT_H_
#define CERTFLEET_COORDINATOR_DNS_TRANSPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace certfleet::dns {

// Sends `message` in one datagram and returns the first reply whose message
// ID matches (replies with other IDs are ignored as stale or spoofed).
// kUnavailable on timeout or a network error ("connection refused" when the
// port is closed); kInvalidArgument when `server` is not "ip:port".
absl::StatusOr<std::string> ExchangeUdp(const std::string& server,
                                        const std::string& message,
                                        absl::Duration timeout);

// Connects, sends `message` with its length prefix and reads one reply.
// The timeout covers the whole exchange. Same error codes as ExchangeUdp.
absl::StatusOr<std::string> ExchangeTcp(const std::string& server,
                                        const std::string& message,
                                        absl::Duration timeout);

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_TRANSPORT_H_
