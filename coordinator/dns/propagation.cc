#include "coordinator/dns/propagation.h"

#include <algorithm>
#include <memory>
#include <set>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "coordinator/dns/dns_name.h"

namespace certfleet::dns {

struct PropagationChecker::Check {
  TxtRecord record;
  Nameserver server;
  bool ready = false;
  std::string last = "not asked yet";
};

namespace {

std::string Quote(const std::string& v) { return absl::StrCat("\"", v, "\""); }

// "no answer (timeout after 2s) after 2 tries" out of a resolver error.
std::string DescribeFailure(const absl::Status& s) {
  const absl::string_view m = s.message();
  const size_t p = m.find("no answer");
  if (p != absl::string_view::npos) return std::string(m.substr(p));
  return absl::StrCat("no answer: ", m);
}

// Sets *ready, or *last to what the server answered instead.
void Evaluate(const DnsAnswer& a, const TxtRecord& record, bool* ready,
              std::string* last) {
  std::vector<std::string> values;
  bool found = false;
  for (const Rr& rr : a.answer) {
    if (rr.type != RrType::kTXT || rr.name != record.fqdn) continue;
    values.push_back(Quote(rr.data));
    if (rr.data == record.value) found = true;
  }
  if (a.rcode != kRcodeNoError) {
    *last = absl::StrCat("answered ", RcodeName(a.rcode));
  } else if (found && a.authoritative) {
    *ready = true;
  } else if (found) {
    *last = absl::StrCat("answered ", Quote(record.value),
                         " but not authoritatively (AA bit clear)");
  } else if (values.empty()) {
    *last = "answered with no TXT record";
  } else {
    constexpr size_t kShown = 5;
    std::string shown = absl::StrJoin(
        values.begin(), values.begin() + std::min(values.size(), kShown), ", ");
    if (values.size() > kShown) {
      absl::StrAppend(&shown, ", … (", values.size(), " values)");
    }
    *last = absl::StrCat("answered ", shown);
  }
}

}  // namespace

PropagationChecker::PropagationChecker(DnsResolver& resolver, ZoneFinder& zones,
                                       PropagationOptions options, Clock& clock,
                                       DnsResolver* authoritative_resolver)
    : resolver_(resolver),
      authoritative_(authoritative_resolver ? *authoritative_resolver
                                            : resolver),
      zones_(zones),
      options_(std::move(options)),
      clock_(clock) {}

absl::StatusOr<absl::Duration> PropagationChecker::WaitForRecords(
    const std::vector<TxtRecord>& records, const Context& ctx) {
  const absl::Time start = clock_.Now();
  const absl::Time deadline =
      std::min(ctx.deadline(), start + options_.timeout);
  const Context qctx = ctx.WithDeadline(deadline);
  const absl::Duration interval =
      std::max(options_.interval, absl::Milliseconds(10));

  // Group by zone, keeping the callers' order; identical records once.
  std::vector<std::string> zone_order;
  std::map<std::string, std::vector<TxtRecord>> by_zone;
  for (const TxtRecord& r : records) {
    TxtRecord c{CanonicalName(r.fqdn), r.value};
    absl::StatusOr<std::string> zone = zones_.FindZone(c.fqdn, qctx);
    if (!zone.ok()) return Annotate(zone.status(), "DNS propagation check");
    auto& list = by_zone[*zone];
    if (list.empty()) zone_order.push_back(*zone);
    if (std::find(list.begin(), list.end(), c) == list.end()) {
      list.push_back(std::move(c));
    }
  }

  std::vector<std::unique_ptr<Check>> checks;
  std::set<std::string> discovered;
  std::map<std::string, std::string> discovery_errors;  // zone → error
  while (true) {
    const absl::Time round_start = clock_.Now();
    for (const std::string& zone : zone_order) {
      if (discovered.count(zone)) continue;
      absl::StatusOr<std::vector<Nameserver>> servers =
          FindNameservers(zone, qctx);
      if (!servers.ok()) {
        if (servers.status().code() == absl::StatusCode::kCancelled) {
          return servers.status();
        }
        discovery_errors[zone] = std::string(servers.status().message());
        continue;
      }
      discovered.insert(zone);
      discovery_errors.erase(zone);
      for (const TxtRecord& r : by_zone[zone]) {
        for (const Nameserver& ns : *servers) {
          checks.push_back(std::make_unique<Check>(Check{r, ns}));
        }
      }
    }
    std::vector<Check*> pending;
    for (auto& c : checks) {
      if (!c->ready) pending.push_back(c.get());
    }
    // The queries get the caller's context, not the propagation deadline:
    // the last look at the deadline must still be able to ask (each try is
    // capped by the resolver).
    if (!pending.empty()) RunRound(pending, ctx);
    if (ctx.IsCancelled()) {
      return absl::CancelledError("DNS propagation check cancelled");
    }
    const bool all_ready = discovery_errors.empty() &&
                           std::all_of(checks.begin(), checks.end(),
                                       [](const auto& c) { return c->ready; });
    if (all_ready) return clock_.Now() - start;
    const absl::Time now = clock_.Now();
    if (now >= deadline) break;
    const absl::Time next =
        std::max(now, std::min(round_start + interval, deadline));
    absl::Status slept = clock_.SleepUntil(next, ctx);
    if (slept.code() == absl::StatusCode::kCancelled) {
      return absl::CancelledError("DNS propagation check cancelled");
    }
    if (!slept.ok()) break;
  }

  std::vector<std::string> parts;
  for (const std::string& zone : zone_order) {
    auto err = discovery_errors.find(zone);
    if (err == discovery_errors.end()) continue;
    for (const TxtRecord& r : by_zone[zone]) {
      parts.push_back(absl::StrCat(r.fqdn, " TXT ", Quote(r.value),
                                   ": name servers of zone ", zone,
                                   " unknown: ", err->second));
    }
  }
  // One part per record, listing its servers that were not ready.
  std::vector<std::pair<TxtRecord, std::vector<std::string>>> missing;
  for (const auto& c : checks) {
    if (c->ready) continue;
    auto it = std::find_if(missing.begin(), missing.end(),
                           [&](const auto& m) { return m.first == c->record; });
    if (it == missing.end()) {
      missing.push_back({c->record, {}});
      it = std::prev(missing.end());
    }
    it->second.push_back(absl::StrCat("at ", c->server.host, " (",
                                      c->server.address, "): ", c->last));
  }
  for (const auto& [record, where] : missing) {
    parts.push_back(absl::StrCat(record.fqdn, " TXT ", Quote(record.value),
                                 " not seen ", absl::StrJoin(where, "; ")));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("DNS propagation timed out after ",
                   absl::FormatDuration(
                       absl::Trunc(deadline - start, absl::Milliseconds(1))),
                   ": ", absl::StrJoin(parts, "; ")));
}

void PropagationChecker::RunRound(std::vector<Check*>& pending,
                                  const Context& ctx) {
  std::map<std::string, std::vector<Check*>> by_server;
  for (Check* c : pending) by_server[c->server.address].push_back(c);
  auto ask_server = [&](std::vector<Check*>& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      Check* c = list[i];
      absl::StatusOr<DnsAnswer> a = authoritative_.Query(
          c->record.fqdn, RrType::kTXT, c->server.address, ctx);
      if (!a.ok()) {
        const absl::StatusCode code = a.status().code();
        if (code == absl::StatusCode::kCancelled ||
            code == absl::StatusCode::kDeadlineExceeded) {
          return;  // keep what the server said before
        }
        // The server is not answering: the rest of its list would only
        // wait for the same timeout.
        const std::string why = DescribeFailure(a.status());
        for (size_t j = i; j < list.size(); ++j) list[j]->last = why;
        return;
      }
      Evaluate(*a, c->record, &c->ready, &c->last);
    }
  };
  if (by_server.size() == 1) {
    ask_server(by_server.begin()->second);
    return;
  }
  std::vector<std::thread> threads;
  for (auto& [address, list] : by_server) {
    threads.emplace_back([&ask_server, &list = list] { ask_server(list); });
  }
  for (std::thread& t : threads) t.join();
}

absl::StatusOr<std::vector<std::string>> PropagationChecker::ResolveHost(
    const std::string& host, const DnsAnswer& referral, const Context& ctx) {
  std::vector<std::string> ips;
  for (const Rr& rr : referral.additional) {  // glue
    if ((rr.type == RrType::kA || rr.type == RrType::kAAAA) &&
        rr.name == host) {
      ips.push_back(rr.data);
    }
  }
  if (!ips.empty()) return ips;
  for (RrType type : {RrType::kA, RrType::kAAAA}) {
    absl::StatusOr<DnsAnswer> a =
        QueryFirstAvailable(resolver_, options_.resolvers, host, type, ctx);
    if (!a.ok()) {
      if (type == RrType::kAAAA && !ips.empty()) break;
      return a.status();
    }
    for (const Rr& rr : a->answer) {
      if (rr.type == type) ips.push_back(rr.data);
    }
  }
  return ips;
}

absl::StatusOr<std::vector<Nameserver>> PropagationChecker::FindNameservers(
    const std::string& zone_name, const Context& ctx) {
  const std::string zone = CanonicalName(zone_name);
  {
    absl::MutexLock lock(&mu_);
    auto it = ns_cache_.find(zone);
    if (it != ns_cache_.end() && it->second.expires > clock_.Now()) {
      return it->second.servers;
    }
  }
  ASSIGN_OR_RETURN(DnsAnswer a,
                   QueryFirstAvailable(resolver_, options_.resolvers, zone,
                                       RrType::kNS, ctx));
  if (a.rcode != kRcodeNoError) {
    const std::string m = absl::StrCat("NS query for zone ", zone, " answered ",
                                       RcodeName(a.rcode));
    return a.rcode == kRcodeServFail ? absl::UnavailableError(m)
                                     : absl::FailedPreconditionError(m);
  }
  std::vector<std::string> hosts;
  // A parent-side referral carries the NS set in the authority section.
  for (const auto* section : {&a.answer, &a.authority}) {
    for (const Rr& rr : *section) {
      if (rr.type == RrType::kNS && rr.name == zone &&
          std::find(hosts.begin(), hosts.end(), rr.data) == hosts.end()) {
        hosts.push_back(rr.data);
      }
    }
    if (!hosts.empty()) break;
  }
  if (hosts.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("zone ", zone, " has no NS records"));
  }
  std::vector<Nameserver> servers;
  for (const std::string& host : hosts) {
    ASSIGN_OR_RETURN(std::vector<std::string> ips, ResolveHost(host, a, ctx));
    if (ips.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "name server ", host, " of zone ", zone, " has no A/AAAA address"));
    }
    for (const std::string& ip : ips) {
      servers.push_back({host, JoinHostPort(ip, options_.nameserver_port)});
    }
  }
  // Stable order, so messages and logs do not depend on RRset rotation.
  std::sort(servers.begin(), servers.end(),
            [](const Nameserver& a, const Nameserver& b) {
              return std::tie(a.host, a.address) < std::tie(b.host, b.address);
            });
  absl::MutexLock lock(&mu_);
  ns_cache_[zone] = {servers, clock_.Now() + options_.nameserver_cache_ttl};
  return servers;
}

}  // namespace certfleet::dns
