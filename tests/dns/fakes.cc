#include "tests/dns/fakes.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "coordinator/dns/dns_name.h"

namespace certfleet::dns::testing {

Rr FakeDnsResolver::Txt(const std::string& name, const std::string& value) {
  return {CanonicalName(name), RrType::kTXT, 60, value};
}
Rr FakeDnsResolver::Cname(const std::string& name, const std::string& target) {
  return {CanonicalName(name), RrType::kCNAME, 60, CanonicalName(target)};
}
Rr FakeDnsResolver::Ns(const std::string& zone, const std::string& host) {
  return {CanonicalName(zone), RrType::kNS, 60, CanonicalName(host)};
}
Rr FakeDnsResolver::A(const std::string& name, const std::string& ip) {
  return {CanonicalName(name), RrType::kA, 60, ip};
}

void FakeDnsResolver::AddZone(const std::string& apex) {
  absl::MutexLock lock(&mu_);
  zones_.insert(CanonicalName(apex));
}

void FakeDnsResolver::AddRecord(const Rr& rr) {
  absl::MutexLock lock(&mu_);
  Rr r = rr;
  r.name = CanonicalName(r.name);
  if (std::find(records_.begin(), records_.end(), r) == records_.end()) {
    records_.push_back(std::move(r));
  }
}

void FakeDnsResolver::AddRecordAt(const std::string& server, const Rr& rr) {
  absl::MutexLock lock(&mu_);
  Rr r = rr;
  r.name = CanonicalName(r.name);
  server_records_[server].push_back(std::move(r));
}

void FakeDnsResolver::RemoveRecord(const std::string& name, RrType type,
                                   const std::string& data) {
  absl::MutexLock lock(&mu_);
  const std::string n = CanonicalName(name);
  auto matches = [&](const Rr& r) {
    return r.name == n && r.type == type && r.data == data;
  };
  records_.erase(std::remove_if(records_.begin(), records_.end(), matches),
                 records_.end());
  for (auto& [server, list] : server_records_) {
    list.erase(std::remove_if(list.begin(), list.end(), matches), list.end());
  }
}

void FakeDnsResolver::SetServerDown(const std::string& server, bool down) {
  absl::MutexLock lock(&mu_);
  if (down) {
    down_.insert(server);
  } else {
    down_.erase(server);
  }
}

void FakeDnsResolver::SetHandler(Handler handler) {
  absl::MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

absl::StatusOr<DnsAnswer> FakeDnsResolver::Query(const std::string& name,
                                                 RrType type,
                                                 const std::string& server,
                                                 const Context& ctx) {
  const std::string n = CanonicalName(name);
  const absl::Time now = clock_ ? clock_->Now() : absl::Now();
  Handler handler;
  {
    absl::MutexLock lock(&mu_);
    queries_.push_back({n, type, server, now});
    handler = handler_;
  }
  if (ctx.IsCancelled()) return absl::CancelledError("cancelled");
  if (handler) {
    if (auto r = handler(n, type, server)) return *r;
  }
  absl::MutexLock lock(&mu_);
  if (down_.count(server)) {
    return absl::UnavailableError(absl::StrCat("DNS query ", n, " ",
                                               RrTypeName(type), " at ", server,
                                               ": no answer (timeout)"));
  }
  return Answer(n, type, server);
}

DnsAnswer FakeDnsResolver::Answer(const std::string& name, RrType type,
                                  const std::string& server) const {
  DnsAnswer a;
  std::string zone;
  for (const std::string& z : zones_) {
    if (IsInZone(name, z) && z.size() > zone.size()) zone = z;
  }
  if (zone.empty()) {
    a.rcode = kRcodeRefused;
    return a;
  }
  a.authoritative = true;
  std::vector<Rr> visible = records_;
  if (auto it = server_records_.find(server); it != server_records_.end()) {
    visible.insert(visible.end(), it->second.begin(), it->second.end());
  }
  const Rr soa{zone, RrType::kSOA, 60, "ns1." + zone};
  if (type == RrType::kSOA && name == zone) a.answer.push_back(soa);
  for (const Rr& r : visible) {
    if (r.name == name && r.type == type) a.answer.push_back(r);
  }
  if (a.answer.empty() && type != RrType::kCNAME) {
    for (const Rr& r : visible) {
      if (r.name == name && r.type == RrType::kCNAME) a.answer.push_back(r);
    }
  }
  if (type == RrType::kNS) {  // glue
    for (const Rr& ns : a.answer) {
      for (const Rr& r : visible) {
        if (r.name == ns.data &&
            (r.type == RrType::kA || r.type == RrType::kAAAA)) {
          a.additional.push_back(r);
        }
      }
    }
  }
  if (a.answer.empty()) {
    const bool exists =
        name == zone ||
        std::any_of(visible.begin(), visible.end(),
                    [&](const Rr& r) { return IsInZone(r.name, name); });
    a.rcode = exists ? kRcodeNoError : kRcodeNxDomain;
    a.authority.push_back(soa);  // RFC 2308 §3
  }
  return a;
}

std::vector<FakeDnsResolver::LoggedQuery> FakeDnsResolver::queries() const {
  absl::MutexLock lock(&mu_);
  return queries_;
}

int FakeDnsResolver::QueryCount(const std::string& name, RrType type) const {
  absl::MutexLock lock(&mu_);
  const std::string n = CanonicalName(name);
  return static_cast<int>(std::count_if(
      queries_.begin(), queries_.end(),
      [&](const LoggedQuery& q) { return q.name == n && q.type == type; }));
}

absl::Status FakeDnsProvider::Present(const std::string& zone,
                                      const std::vector<TxtRecord>& records,
                                      const Context& /*ctx*/) {
  absl::MutexLock lock(&mu_);
  calls_.push_back({"present", zone, records});
  if (!present_error_.ok()) return present_error_;
  for (const TxtRecord& r : records) {
    TxtRecord c{CanonicalName(r.fqdn), r.value};
    if (std::find(records_.begin(), records_.end(), c) == records_.end()) {
      records_.push_back(c);
    }
    if (dns_) dns_->AddRecord(FakeDnsResolver::Txt(c.fqdn, c.value));
  }
  return absl::OkStatus();
}

absl::Status FakeDnsProvider::CleanUp(const std::string& zone,
                                      const std::vector<TxtRecord>& records,
                                      const Context& /*ctx*/) {
  absl::MutexLock lock(&mu_);
  calls_.push_back({"cleanup", zone, records});
  if (!cleanup_error_.ok()) return cleanup_error_;
  for (const TxtRecord& r : records) {
    TxtRecord c{CanonicalName(r.fqdn), r.value};
    records_.erase(std::remove(records_.begin(), records_.end(), c),
                   records_.end());
    if (dns_) dns_->RemoveRecord(c.fqdn, RrType::kTXT, c.value);
  }
  return absl::OkStatus();
}

void FakeDnsProvider::SetPresentError(absl::Status s) {
  absl::MutexLock lock(&mu_);
  present_error_ = std::move(s);
}

void FakeDnsProvider::SetCleanUpError(absl::Status s) {
  absl::MutexLock lock(&mu_);
  cleanup_error_ = std::move(s);
}

std::vector<FakeDnsProvider::Call> FakeDnsProvider::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

std::vector<TxtRecord> FakeDnsProvider::records() const {
  absl::MutexLock lock(&mu_);
  return records_;
}

}  // namespace certfleet::dns::testing
