// The DNS seam: one question to one explicitly named server. Everything in
// certfleet that reads DNS goes through a DnsResolver, so tests substitute
// tests/dns/fakes.h and production uses LdnsResolver (ldns_resolver.h). The
// system resolver is never consulted: callers always say which server.
//
//   ASSIGN_OR_RETURN(DnsAnswer a,
//   resolver.Query("_acme-challenge.example.test.",
//                                                RrType::kTXT, "127.0.0.1:53",
//                                                ctx));
//   for (const Rr& rr : a.answer) if (rr.type == RrType::kTXT) ...
#ifndef CERTFLEET_COORDINATOR_DNS_RESOLVER_H_
#define CERTFLEET_COORDINATOR_DNS_RESOLVER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/context.h"

namespace certfleet::dns {

// The record types DNS-01 needs.
enum class RrType { kA, kAAAA, kCNAME, kNS, kSOA, kTXT };

// "A", "AAAA", "CNAME", "NS", "SOA", "TXT".
const char* RrTypeName(RrType type);

// Response codes (RFC 1035 §4.1.1, RFC 2136 §2.2).
inline constexpr int kRcodeNoError = 0;
inline constexpr int kRcodeFormErr = 1;
inline constexpr int kRcodeServFail = 2;
inline constexpr int kRcodeNxDomain = 3;
inline constexpr int kRcodeNotImp = 4;
inline constexpr int kRcodeRefused = 5;
inline constexpr int kRcodeNotAuth = 9;
inline constexpr int kRcodeNotZone = 10;

// "NOERROR", "NXDOMAIN", "NOTAUTH", ... or "RCODE<n>".
std::string RcodeName(int rcode);

// One resource record, reduced to what DNS-01 needs.
struct Rr {
  std::string name;  // owner, canonical (lower case, trailing dot)
  RrType type = RrType::kA;
  uint32_t ttl = 0;
  // TXT: the character-strings concatenated; CNAME/NS: the target,
  // canonical; A/AAAA: the address text; SOA: the MNAME, canonical.
  std::string data;

  bool operator==(const Rr&) const = default;
};

struct DnsAnswer {
  int rcode = kRcodeNoError;
  bool authoritative = false;  // the AA bit
  std::vector<Rr> answer;
  std::vector<Rr> authority;
  std::vector<Rr> additional;
};

class DnsResolver {
 public:
  virtual ~DnsResolver() = default;

  // Asks `server` ("ip:port") for (`name`, `type`, class IN). A reply with
  // any rcode is a successful query; kUnavailable means no usable reply
  // (timeout, refused connection, malformed reply) and names the server;
  // kDeadlineExceeded/kCancelled come from `ctx`.
  virtual absl::StatusOr<DnsAnswer> Query(const std::string& name, RrType type,
                                          const std::string& server,
                                          const Context& ctx) = 0;
};

// Asks each of `servers` in turn until one gives a reply; moves to the next
// only on kUnavailable. With no replies, kUnavailable naming every server.
absl::StatusOr<DnsAnswer> QueryFirstAvailable(
    DnsResolver& resolver, const std::vector<std::string>& servers,
    const std::string& name, RrType type, const Context& ctx);

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_RESOLVER_H_
