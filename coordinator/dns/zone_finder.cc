#include "coordinator/dns/zone_finder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "coordinator/dns/dns_name.h"

namespace certfleet::dns {

ZoneFinder::ZoneFinder(DnsResolver& resolver,
                       std::vector<std::string> resolvers, Clock& clock,
                       ZoneFinderOptions options)
    : resolver_(resolver),
      resolvers_(std::move(resolvers)),
      clock_(clock),
      options_(options) {}

absl::StatusOr<std::string> ZoneFinder::FollowCname(const std::string& fqdn,
                                                    const Context& ctx) {
  std::vector<std::string> chain = {CanonicalName(fqdn)};
  for (int hop = 0;; ++hop) {
    const std::string& name = chain.back();
    ASSIGN_OR_RETURN(
        DnsAnswer a,
        QueryFirstAvailable(resolver_, resolvers_, name, RrType::kCNAME, ctx));
    if (a.rcode != kRcodeNoError && a.rcode != kRcodeNxDomain) {
      return absl::UnavailableError(absl::StrCat("looking up the CNAME of ",
                                                 name,
                                                 ": the resolver "
                                                 "answered ",
                                                 RcodeName(a.rcode)));
    }
    const auto it =
        std::find_if(a.answer.begin(), a.answer.end(), [&](const Rr& rr) {
          return rr.type == RrType::kCNAME && rr.name == name;
        });
    if (it == a.answer.end()) {
      // A negative answer carries the zone's SOA in its authority section
      // (RFC 2308 §3): remember the zone, which saves FindZone's SOA walk.
      for (const Rr& rr : a.authority) {
        if (rr.type == RrType::kSOA && IsInZone(name, rr.name)) {
          CacheZone({name}, rr.name, clock_.Now());
          break;
        }
      }
      return name;
    }
    const std::string target = it->data;
    const bool loop =
        std::find(chain.begin(), chain.end(), target) != chain.end();
    chain.push_back(target);
    if (loop) {
      return absl::FailedPreconditionError(
          absl::StrCat("CNAME loop: ", absl::StrJoin(chain, " -> ")));
    }
    if (hop + 1 >= options_.max_cname_hops) {
      return absl::FailedPreconditionError(
          absl::StrCat("CNAME chain longer than ", options_.max_cname_hops,
                       " hops: ", absl::StrJoin(chain, " -> ")));
    }
  }
}

absl::StatusOr<std::string> ZoneFinder::FindZone(const std::string& fqdn,
                                                 const Context& ctx) {
  const std::string name = CanonicalName(fqdn);
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(name);
    if (it != cache_.end()) {
      if (it->second.expires > clock_.Now()) return it->second.zone;
      cache_.erase(it);
    }
  }
  std::vector<std::string> visited;
  ASSIGN_OR_RETURN(std::string zone, WalkToZone(name, &visited, ctx));
  CacheZone(visited, zone, clock_.Now());
  return zone;
}

absl::StatusOr<std::string> ZoneFinder::WalkToZone(
    const std::string& fqdn, std::vector<std::string>* visited,
    const Context& ctx) {
  for (std::string name = fqdn; !name.empty(); name = ParentName(name)) {
    {
      // An ancestor seen before ends the walk without a query.
      absl::MutexLock lock(&mu_);
      auto it = cache_.find(name);
      if (it != cache_.end() && it->second.expires > clock_.Now()) {
        return it->second.zone;
      }
      ++soa_queries_;
    }
    visited->push_back(name);
    ASSIGN_OR_RETURN(DnsAnswer a, QueryFirstAvailable(resolver_, resolvers_,
                                                      name, RrType::kSOA, ctx));
    if (a.rcode == kRcodeServFail) {
      return absl::UnavailableError(absl::StrCat("looking up the zone of ",
                                                 fqdn, ": SOA query for ", name,
                                                 " answered SERVFAIL"));
    }
    // The SOA at the name itself: it is the apex.
    for (const Rr& rr : a.answer) {
      if (rr.type == RrType::kSOA && rr.name == name) return name;
    }
    // NXDOMAIN/NODATA carry the zone's SOA in the authority section
    // (RFC 2308 §3); a referral's NS owner is the child zone's apex. Only an
    // ancestor counts: after a CNAME the SOA may belong to the target's zone.
    for (const Rr& rr : a.authority) {
      if ((rr.type == RrType::kSOA || rr.type == RrType::kNS) &&
          IsInZone(name, rr.name)) {
        return rr.name;
      }
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "no zone found for ", fqdn, ": no SOA at it or any ancestor (asked ",
      absl::StrJoin(resolvers_, ", "), ")"));
}

void ZoneFinder::CacheZone(const std::vector<std::string>& names,
                           const std::string& zone, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (cache_.size() + names.size() + 1 > options_.max_cache_entries) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      it = it->second.expires <= now ? cache_.erase(it) : std::next(it);
    }
  }
  // Still full: drop the entries closest to expiry. Rare, so a scan is fine.
  while (!cache_.empty() &&
         cache_.size() + names.size() + 1 > options_.max_cache_entries) {
    auto oldest = std::min_element(cache_.begin(), cache_.end(),
                                   [](const auto& a, const auto& b) {
                                     return a.second.expires < b.second.expires;
                                   });
    cache_.erase(oldest);
  }
  const absl::Time expires = now + options_.cache_ttl;
  for (const std::string& n : names) {
    if (IsInZone(n, zone)) cache_[n] = {zone, expires};
  }
  cache_[zone] = {zone, expires};
}

size_t ZoneFinder::cache_size() const {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

int64_t ZoneFinder::soa_queries() const {
  absl::MutexLock lock(&mu_);
  return soa_queries_;
}

}  // namespace certfleet::dns
