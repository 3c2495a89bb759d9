// Where a DNS-01 record has to be written: follows a CNAME from
// _acme-challenge.<domain>. to its target (RFC 8555 §8.4 lets the validation
// name be an alias, so the TXT can live in a dedicated validation zone), and
// finds the zone apex of a name by walking towards the root with SOA queries.
//
// Zone results are cached (bounded, with a TTL): a second record in the same
// zone costs no query when its name was seen before, and one query otherwise
// (a new name could sit below an unseen zone cut, so it is asked once).
// Thread-safe.
//
//   ZoneFinder finder(resolver, {"127.0.0.1:53"}, clock);
//   ASSIGN_OR_RETURN(std::string target,
//                    finder.FollowCname("_acme-challenge.www.example.test.",
//                    ctx));
//   ASSIGN_OR_RETURN(std::string zone, finder.FindZone(target, ctx));
#ifndef CERTFLEET_COORDINATOR_DNS_ZONE_FINDER_H_
#define CERTFLEET_COORDINATOR_DNS_ZONE_FINDER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/dns/resolver.h"

namespace certfleet::dns {

struct ZoneFinderOptions {
  absl::Duration cache_ttl = absl::Minutes(5);
  size_t max_cache_entries = 10000;
  int max_cname_hops = 8;
};

class ZoneFinder {
 public:
  // `resolvers` ("ip:port") are asked in turn when one is unavailable.
  ZoneFinder(DnsResolver& resolver, std::vector<std::string> resolvers,
             Clock& clock, ZoneFinderOptions options = {});

  // The end of the CNAME chain starting at `fqdn` (canonicalized), or `fqdn`
  // itself when it is not an alias. More than max_cname_hops hops, or a
  // loop, → kFailedPrecondition naming the chain.
  absl::StatusOr<std::string> FollowCname(const std::string& fqdn,
                                          const Context& ctx);

  // The apex of the zone that contains `fqdn`, canonical ("example.test.").
  // kFailedPrecondition when no ancestor has an SOA; kUnavailable when no
  // resolver answers.
  absl::StatusOr<std::string> FindZone(const std::string& fqdn,
                                       const Context& ctx);

  // Entries currently cached (for tests and metrics).
  size_t cache_size() const;
  // SOA queries sent so far (for tests and metrics).
  int64_t soa_queries() const;

 private:
  absl::StatusOr<std::string> WalkToZone(const std::string& fqdn,
                                         std::vector<std::string>* visited,
                                         const Context& ctx);
  void CacheZone(const std::vector<std::string>& names, const std::string& zone,
                 absl::Time now);

  DnsResolver& resolver_;
  const std::vector<std::string> resolvers_;
  Clock& clock_;
  const ZoneFinderOptions options_;

  struct CacheEntry {
    std::string zone;
    absl::Time expires;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
  int64_t soa_queries_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_ZONE_FINDER_H_
