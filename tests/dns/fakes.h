// Test doubles for the DNS-01 seams, shared by every module's tests
// (library certfleet_dns_testing).
//
// FakeDnsResolver is a tiny in-memory authoritative DNS: zones, records
// visible at every server or only at one, servers that do not answer, and a
// log of every query (with the fake clock's time). FakeDnsProvider keeps the
// records it was given, honours the provider contract (Present adds a
// (name, value) pair, CleanUp removes exactly that pair, missing is fine)
// and, when linked to a FakeDnsResolver, publishes them there so the
// propagation check sees them. Both are thread-safe.
//
//   FakeDnsResolver dns(&clock);
//   dns.AddZone("example.test.");
//   dns.AddRecord(FakeDnsResolver::Ns("example.test.", "ns1.example.test."));
//   dns.AddRecord(FakeDnsResolver::A("ns1.example.test.", "127.0.0.1"));
//   auto provider = std::make_shared<FakeDnsProvider>("fake", &dns);
#ifndef CERTFLEET_TESTS_DNS_FAKES_H_
#define CERTFLEET_TESTS_DNS_FAKES_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "coordinator/dns/dns_provider.h"
#include "coordinator/dns/resolver.h"

namespace certfleet::dns::testing {

class FakeDnsResolver : public DnsResolver {
 public:
  struct LoggedQuery {
    std::string name;
    RrType type;
    std::string server;
    absl::Time time;  // clock->Now() if a clock was given
  };
  // Consulted before the zone data; nullopt means "answer normally".
  using Handler = std::function<std::optional<absl::StatusOr<DnsAnswer>>(
      const std::string& name, RrType type, const std::string& server)>;

  explicit FakeDnsResolver(Clock* clock = nullptr) : clock_(clock) {}

  // Record builders (names are canonicalized).
  static Rr Txt(const std::string& name, const std::string& value);
  static Rr Cname(const std::string& name, const std::string& target);
  static Rr Ns(const std::string& zone, const std::string& host);
  static Rr A(const std::string& name, const std::string& ip);

  // Every server answers authoritatively for names in `apex` (SOA
  // synthesized); names in no zone get REFUSED.
  void AddZone(const std::string& apex);
  // Visible at every server.
  void AddRecord(const Rr& rr);
  // Visible only at `server` ("ip:port"), in addition to the common ones.
  void AddRecordAt(const std::string& server, const Rr& rr);
  // Removes matching records everywhere (common and per-server).
  void RemoveRecord(const std::string& name, RrType type,
                    const std::string& data);
  // A down server fails every query with kUnavailable ("no answer (timeout)").
  void SetServerDown(const std::string& server, bool down);
  void SetHandler(Handler handler);

  absl::StatusOr<DnsAnswer> Query(const std::string& name, RrType type,
                                  const std::string& server,
                                  const Context& ctx) override;

  std::vector<LoggedQuery> queries() const;
  // Queries for (name, type), any server.
  int QueryCount(const std::string& name, RrType type) const;

 private:
  DnsAnswer Answer(const std::string& name, RrType type,
                   const std::string& server) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock* const clock_;
  mutable absl::Mutex mu_;
  std::set<std::string> zones_ ABSL_GUARDED_BY(mu_);
  std::vector<Rr> records_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<Rr>> server_records_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> down_ ABSL_GUARDED_BY(mu_);
  Handler handler_ ABSL_GUARDED_BY(mu_);
  std::vector<LoggedQuery> queries_ ABSL_GUARDED_BY(mu_);
};

class FakeDnsProvider : public DnsProvider {
 public:
  struct Call {
    std::string action;  // "present" or "cleanup"
    std::string zone;
    std::vector<TxtRecord> records;
  };

  // With `dns`, present records are added to it as TXT (at every server).
  explicit FakeDnsProvider(std::string name, FakeDnsResolver* dns = nullptr)
      : name_(std::move(name)), dns_(dns) {}

  const std::string& name() const override { return name_; }
  absl::Status Present(const std::string& zone,
                       const std::vector<TxtRecord>& records,
                       const Context& ctx) override;
  absl::Status CleanUp(const std::string& zone,
                       const std::vector<TxtRecord>& records,
                       const Context& ctx) override;

  // Every later Present/CleanUp fails with `s` (OK to stop failing) and
  // changes nothing.
  void SetPresentError(absl::Status s);
  void SetCleanUpError(absl::Status s);

  std::vector<Call> calls() const;
  // The (name, value) pairs present now, in insertion order.
  std::vector<TxtRecord> records() const;

 private:
  const std::string name_;
  FakeDnsResolver* const dns_;
  mutable absl::Mutex mu_;
  absl::Status present_error_ ABSL_GUARDED_BY(mu_);
  absl::Status cleanup_error_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<TxtRecord> records_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::dns::testing

#endif  // CERTFLEET_TESTS_DNS_FAKES_H_
