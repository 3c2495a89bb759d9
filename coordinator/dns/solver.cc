#include "coordinator/dns/solver.h"

#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "coordinator/dns/dns_name.h"

namespace certfleet::dns {
namespace {

std::vector<ProviderBinding> Canonical(std::vector<ProviderBinding> in) {
  for (ProviderBinding& b : in) {
    for (std::string& z : b.zones) z = CanonicalName(z);
  }
  return in;
}

}  // namespace

Dns01Solver::Dns01Solver(std::vector<ProviderBinding> bindings,
                         DnsResolver& resolver, SolverOptions options,
                         Clock& clock, DnsResolver* authoritative_resolver)
    : bindings_([&] {
        std::vector<Binding> out;
        for (ProviderBinding& b : Canonical(std::move(bindings))) {
          out.push_back({std::move(b.provider), std::move(b.zones)});
        }
        return out;
      }()),
      options_(std::move(options)),
      zone_finder_(resolver, options_.resolvers, clock,
                   {.cache_ttl = options_.zone_cache_ttl}),
      checker_(resolver, zone_finder_,
               {.resolvers = options_.resolvers,
                .nameserver_port = options_.nameserver_port,
                .interval = options_.propagation_interval,
                .timeout = options_.propagation_timeout,
                .nameserver_cache_ttl = options_.zone_cache_ttl},
               clock, authoritative_resolver) {}

std::string Dns01Solver::ChallengeFqdn(const std::string& identifier) {
  absl::string_view base = identifier;
  if (absl::StartsWith(base, "*.")) base.remove_prefix(2);
  return CanonicalName(absl::StrCat("_acme-challenge.", base));
}

std::string Dns01Solver::DescribeZones() const {
  std::vector<std::string> parts;
  for (const Binding& b : bindings_) {
    for (const std::string& z : b.zones) {
      parts.push_back(absl::StrCat(z, " (", b.provider->name(), ")"));
    }
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

absl::StatusOr<std::vector<PlannedRecord>> Dns01Solver::Plan(
    const std::vector<TxtRecord>& wanted, const Context& ctx) {
  // A wildcard and its base share one name: route each name once.
  std::map<std::string, PlannedRecord> routes;
  std::vector<PlannedRecord> plan;
  for (const TxtRecord& w : wanted) {
    const std::string fqdn = CanonicalName(w.fqdn);
    auto it = routes.find(fqdn);
    if (it == routes.end()) {
      std::string target = fqdn;
      if (options_.follow_cname) {
        absl::StatusOr<std::string> t = zone_finder_.FollowCname(fqdn, ctx);
        if (!t.ok()) {
          return Annotate(t.status(), absl::StrCat("planning ", fqdn));
        }
        target = *t;
      }
      absl::StatusOr<std::string> zone = zone_finder_.FindZone(target, ctx);
      if (!zone.ok()) {
        return Annotate(zone.status(), absl::StrCat("planning ", fqdn));
      }
      const Binding* best = nullptr;
      size_t best_len = 0;
      for (const Binding& b : bindings_) {
        for (const std::string& z : b.zones) {
          if (IsInZone(*zone, z) && (best == nullptr || z.size() > best_len)) {
            best = &b;
            best_len = z.size();
          }
        }
      }
      if (best == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            "no DNS provider serves ", target, " (zone ", *zone, ")",
            target != fqdn ? absl::StrCat(", the CNAME target of ", fqdn) : "",
            "; configured zones: ", DescribeZones()));
      }
      it = routes
               .emplace(fqdn, PlannedRecord{best->provider->name(), *zone,
                                            target, ""})
               .first;
    }
    PlannedRecord r = it->second;
    r.value = w.value;
    if (std::find(plan.begin(), plan.end(), r) == plan.end()) {
      plan.push_back(std::move(r));
    }
  }
  return plan;
}

std::vector<Dns01Solver::Group> Dns01Solver::GroupRecords(
    const std::vector<PlannedRecord>& records) {
  std::vector<Group> groups;
  for (const PlannedRecord& r : records) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.provider == r.provider && g.zone == r.zone;
    });
    if (it == groups.end()) {
      groups.push_back({r.provider, r.zone, {}});
      it = std::prev(groups.end());
    }
    it->records.push_back({r.fqdn, r.value});
  }
  return groups;
}

absl::Status Dns01Solver::ForEachGroup(
    const std::vector<PlannedRecord>& records, const char* verb,
    absl::Status (DnsProvider::*action)(const std::string&,
                                        const std::vector<TxtRecord>&,
                                        const Context&),
    const Context& ctx, std::vector<PlannedRecord>* not_written) {
  const std::vector<Group> groups = GroupRecords(records);
  std::vector<absl::Status> results(groups.size());
  auto run = [&](size_t i) {
    std::shared_ptr<DnsProvider> p = FindProvider(groups[i].provider);
    if (!p) {
      results[i] = absl::FailedPreconditionError(absl::StrCat(
          "DNS provider \"", groups[i].provider, "\" is not configured"));
      return;
    }
    results[i] = ((*p).*action)(groups[i].zone, groups[i].records, ctx);
  };
  if (groups.size() == 1) {
    run(0);
  } else {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < groups.size(); ++i) threads.emplace_back(run, i);
    for (std::thread& t : threads) t.join();
  }
  absl::StatusCode code = absl::StatusCode::kOk;
  std::vector<std::string> failures;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (results[i].ok()) continue;
    if (not_written != nullptr) {
      std::shared_ptr<DnsProvider> p = FindProvider(groups[i].provider);
      if (p && p->NothingWritten(results[i])) {
        for (const TxtRecord& r : groups[i].records) {
          not_written->push_back(
              {groups[i].provider, groups[i].zone, r.fqdn, r.value});
        }
      }
    }
    if (code == absl::StatusCode::kOk) code = results[i].code();
    failures.push_back(absl::StrCat(
        "provider \"", groups[i].provider, "\" zone ", groups[i].zone, " (",
        groups[i].records.size(), " records): ", results[i].message()));
  }
  if (failures.empty()) return absl::OkStatus();
  return absl::Status(
      code, absl::StrCat("DNS-01 ", verb, " failed for ", failures.size(),
                         " of ", groups.size(),
                         " record groups: ", absl::StrJoin(failures, "; ")));
}

absl::Status Dns01Solver::Present(const std::vector<PlannedRecord>& records,
                                  const Context& ctx,
                                  std::vector<PlannedRecord>* not_written) {
  return ForEachGroup(records, "present", &DnsProvider::Present, ctx,
                      not_written);
}

absl::Status Dns01Solver::CleanUp(const std::vector<PlannedRecord>& records,
                                  const Context& ctx) {
  return ForEachGroup(records, "clean-up", &DnsProvider::CleanUp, ctx);
}

absl::StatusOr<absl::Duration> Dns01Solver::WaitForPropagation(
    const std::vector<PlannedRecord>& records, const Context& ctx) {
  std::vector<TxtRecord> txt;
  txt.reserve(records.size());
  for (const PlannedRecord& r : records) txt.push_back({r.fqdn, r.value});
  return checker_.WaitForRecords(txt, ctx);
}

std::shared_ptr<DnsProvider> Dns01Solver::FindProvider(
    const std::string& name) const {
  for (const Binding& b : bindings_) {
    if (b.provider && b.provider->name() == name) return b.provider;
  }
  return nullptr;
}

}  // namespace certfleet::dns
