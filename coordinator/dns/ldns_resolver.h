// The real DnsResolver: ldns builds and parses the messages, transport.h
// moves them. UDP first, TCP when the reply is truncated (RFC 7766 §5);
// each try is capped (default 2 s, 2 tries) and never outlives the context's
// deadline. EDNS0 advertises 1232 bytes so a name with many TXT values rarely
// needs TCP.
//
//   LdnsResolver recursive;                                   // RD on
//   LdnsResolver authoritative({.recursion_desired = false}); // RD off
//   ASSIGN_OR_RETURN(DnsAnswer a, authoritative.Query(
//       "example.test.", RrType::kSOA, "127.0.0.1:5353", ctx));
#ifndef CERTFLEET_COORDINATOR_DNS_LDNS_RESOLVER_H_
#define CERTFLEET_COORDINATOR_DNS_LDNS_RESOLVER_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "coordinator/dns/resolver.h"

namespace certfleet::dns {

struct LdnsResolverOptions {
  // The RD bit. Off for questions to authoritative servers, so a server that
  // also recurses answers from its own data only.
  bool recursion_desired = true;
  // Cap on each try; the context's deadline can shorten it.
  absl::Duration per_try_timeout = absl::Seconds(2);
  int tries = 2;
};

// The records of one DNS reply in wire format (RFC 1035 §4.1), reduced to
// the types DNS-01 needs (others are skipped); nullopt when ldns cannot
// parse it. The reply comes from the network: this is what fuzzing feeds.
std::optional<DnsAnswer> ParseDnsReply(absl::string_view wire);

class LdnsResolver : public DnsResolver {
 public:
  explicit LdnsResolver(LdnsResolverOptions options = {}) : options_(options) {}

  // Deadlines are compared with the real time: this is the network edge.
  absl::StatusOr<DnsAnswer> Query(const std::string& name, RrType type,
                                  const std::string& server,
                                  const Context& ctx) override;

 private:
  LdnsResolverOptions options_;
};

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_LDNS_RESOLVER_H_
