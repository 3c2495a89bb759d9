// Waits until DNS-01 TXT records are visible on every authoritative server
// of their zones, so the CA (which may ask any of them) cannot see a stale
// answer (RFC 8555 §8.4 gives no retry guarantee). Each zone's NS records
// are found through the configured resolvers, each NS host is resolved to
// its addresses (glue first), and every address is asked directly, without
// recursion, at `nameserver_port`.
//
//   PropagationChecker checker(resolver, zone_finder,
//       {.resolvers = {"127.0.0.1:53"}, .nameserver_port = 53,
//        .interval = absl::Seconds(2), .timeout = absl::Minutes(2)}, clock,
//       &authoritative_resolver);
//   ASSIGN_OR_RETURN(absl::Duration waited, checker.WaitForRecords(records,
//   ctx));
#ifndef CERTFLEET_COORDINATOR_DNS_PROPAGATION_H_
#define CERTFLEET_COORDINATOR_DNS_PROPAGATION_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/dns/dns_provider.h"
#include "coordinator/dns/resolver.h"
#include "coordinator/dns/zone_finder.h"

namespace certfleet::dns {

struct PropagationOptions {
  // Asked for NS records and name server addresses ("ip:port").
  std::vector<std::string> resolvers;
  // Where the authoritative servers listen (53 except in test labs).
  int nameserver_port = 53;
  absl::Duration interval = absl::Seconds(2);
  absl::Duration timeout = absl::Minutes(2);
  // How long a zone's name server list is reused.
  absl::Duration nameserver_cache_ttl = absl::Minutes(5);
};

// One authoritative server address of a zone.
struct Nameserver {
  std::string host;     // "ns1.example.test."
  std::string address;  // "127.0.0.1:53"

  bool operator==(const Nameserver&) const = default;
};

class PropagationChecker {
 public:
  // `resolver` asks the configured resolvers (NS and address lookups).
  // `authoritative_resolver` asks the zone's own servers and should not set
  // the RD bit (LdnsResolver with recursion_desired = false), so answers come
  // from their zone data; null means `resolver` does both.
  PropagationChecker(DnsResolver& resolver, ZoneFinder& zones,
                     PropagationOptions options, Clock& clock,
                     DnsResolver* authoritative_resolver = nullptr);

  // Checks at once, then every interval, until every record's value is
  // answered by every authoritative server of its zone (other values may be
  // there too). Returns the time waited. On timeout (or the context's
  // deadline), kDeadlineExceeded naming each server that was not ready and
  // what it last answered; kCancelled when the context is cancelled.
  absl::StatusOr<absl::Duration> WaitForRecords(
      const std::vector<TxtRecord>& records, const Context& ctx);

  // The authoritative server addresses of `zone` (cached).
  absl::StatusOr<std::vector<Nameserver>> FindNameservers(
      const std::string& zone, const Context& ctx);

 private:
  struct Check;
  // Asks each server about its pending checks; servers in parallel.
  void RunRound(std::vector<Check*>& pending, const Context& ctx);
  absl::StatusOr<std::vector<std::string>> ResolveHost(
      const std::string& host, const DnsAnswer& referral, const Context& ctx);

  DnsResolver& resolver_;
  DnsResolver& authoritative_;
  ZoneFinder& zones_;
  const PropagationOptions options_;
  Clock& clock_;

  struct CachedServers {
    std::vector<Nameserver> servers;
    absl::Time expires;
  };
  absl::Mutex mu_;
  std::map<std::string, CachedServers> ns_cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_PROPAGATION_H_
