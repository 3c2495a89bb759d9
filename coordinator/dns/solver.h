// Orchestrates the DNS-01 records of an order (RFC 8555 §8.4): decides where
// each record goes (CNAME delegation, zone apex, which configured provider),
// writes them, waits until every authoritative server shows them, and
// removes them again. Thread-safe: one solver serves all orders.
//
//   Dns01Solver solver({{rfc2136, {"example.test"}}}, resolver,
//                      {.resolvers = {"127.0.0.1:53"}}, clock);
//   ASSIGN_OR_RETURN(auto plan, solver.Plan(
//       {{Dns01Solver::ChallengeFqdn("*.example.test"), value}}, ctx));
//   RETURN_IF_ERROR(solver.Present(plan, ctx));
//   ASSIGN_OR_RETURN(absl::Duration waited, solver.WaitForPropagation(plan,
//   ctx));
//   ... answer the challenges ...
//   Context cleanup_ctx = Context::Background().WithDeadline(
//       clock.Now() + absl::Minutes(1));       // even after cancellation
//   solver.CleanUp(plan, cleanup_ctx);
#ifndef CERTFLEET_COORDINATOR_DNS_SOLVER_H_
#define CERTFLEET_COORDINATOR_DNS_SOLVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "coordinator/dns/dns_provider.h"
#include "coordinator/dns/propagation.h"
#include "coordinator/dns/resolver.h"
#include "coordinator/dns/zone_finder.h"

namespace certfleet::dns {

// A provider and the zones it may write (each zone and everything below).
struct ProviderBinding {
  std::shared_ptr<DnsProvider> provider;
  std::vector<std::string> zones;  // "example.test" or "example.test."
};

struct SolverOptions {
  std::vector<std::string> resolvers;  // "ip:port", asked in turn
  int nameserver_port = 53;
  absl::Duration propagation_interval = absl::Seconds(2);
  absl::Duration propagation_timeout = absl::Minutes(2);
  bool follow_cname = true;
  absl::Duration zone_cache_ttl = absl::Minutes(5);
};

// Where one TXT record goes. Persist it with the order: CleanUp needs only
// this (and FindProvider) to remove the record, even in a new process.
struct PlannedRecord {
  std::string provider;  // ProviderBinding name
  std::string zone;      // the zone apex written to, "example.test."
  std::string fqdn;      // the name written (after CNAME delegation)
  std::string value;

  bool operator==(const PlannedRecord&) const = default;
};

class Dns01Solver {
 public:
  // `resolver` asks `options.resolvers`; `authoritative_resolver` (RD off;
  // null: `resolver`) asks the zones' own servers during propagation checks.
  Dns01Solver(std::vector<ProviderBinding> bindings, DnsResolver& resolver,
              SolverOptions options, Clock& clock,
              DnsResolver* authoritative_resolver = nullptr);

  // "*.example.test" or "example.test" → "_acme-challenge.example.test."
  // (RFC 8555 §8.4; a wildcard is validated at its base name).
  static std::string ChallengeFqdn(const std::string& identifier);

  // Routes each wanted record: follows its CNAME (if enabled), finds the
  // zone, and picks the provider whose configured zone contains it (longest
  // match). A name no provider serves → kFailedPrecondition naming it and
  // the configured zones.
  absl::StatusOr<std::vector<PlannedRecord>> Plan(
      const std::vector<TxtRecord>& wanted, const Context& ctx);

  // One provider call per (provider, zone), the groups in parallel. On
  // failure the error names each failed group (records that did get written
  // are removed by CleanUp, which the caller runs in any case).
  // `not_written`, when given, receives the records of failed groups whose
  // provider is sure it wrote nothing (DnsProvider::NothingWritten): those
  // need no clean-up.
  absl::Status Present(const std::vector<PlannedRecord>& records,
                       const Context& ctx,
                       std::vector<PlannedRecord>* not_written = nullptr);

  // Waits until every authoritative server shows every record; returns the
  // time waited (see PropagationChecker).
  absl::StatusOr<absl::Duration> WaitForPropagation(
      const std::vector<PlannedRecord>& records, const Context& ctx);

  // Removes the records. Every group is attempted even if one fails; the
  // error names each failed group. Pass a fresh context with its own
  // deadline: clean-up must run after cancellation too.
  absl::Status CleanUp(const std::vector<PlannedRecord>& records,
                       const Context& ctx);

  // The provider configured under `name`, or null.
  std::shared_ptr<DnsProvider> FindProvider(const std::string& name) const;

  ZoneFinder& zone_finder() { return zone_finder_; }

 private:
  struct Group {
    std::string provider;
    std::string zone;
    std::vector<TxtRecord> records;
  };
  static std::vector<Group> GroupRecords(
      const std::vector<PlannedRecord>& records);
  // Runs `action` on every group (in parallel when there are several) and
  // combines the failures under `verb` ("present", "clean up").
  absl::Status ForEachGroup(
      const std::vector<PlannedRecord>& records, const char* verb,
      absl::Status (DnsProvider::*action)(const std::string&,
                                          const std::vector<TxtRecord>&,
                                          const Context&),
      const Context& ctx, std::vector<PlannedRecord>* not_written = nullptr);
  std::string DescribeZones() const;

  struct Binding {
    std::shared_ptr<DnsProvider> provider;
    std::vector<std::string> zones;  // canonical
  };
  const std::vector<Binding> bindings_;
  const SolverOptions options_;
  ZoneFinder zone_finder_;
  PropagationChecker checker_;
};

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_SOLVER_H_
