#include "coordinator/dns/resolver.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"

namespace certfleet::dns {

const char* RrTypeName(RrType type) {
  switch (type) {
    case RrType::kA:
      return "A";
    case RrType::kAAAA:
      return "AAAA";
    case RrType::kCNAME:
      return "CNAME";
    case RrType::kNS:
      return "NS";
    case RrType::kSOA:
      return "SOA";
    case RrType::kTXT:
      return "TXT";
  }
  return "?";
}

std::string RcodeName(int rcode) {
  switch (rcode) {
    case kRcodeNoError:
      return "NOERROR";
    case kRcodeFormErr:
      return "FORMERR";
    case kRcodeServFail:
      return "SERVFAIL";
    case kRcodeNxDomain:
      return "NXDOMAIN";
    case kRcodeNotImp:
      return "NOTIMP";
    case kRcodeRefused:
      return "REFUSED";
    case 6:
      return "YXDOMAIN";
    case 7:
      return "YXRRSET";
    case 8:
      return "NXRRSET";
    case kRcodeNotAuth:
      return "NOTAUTH";
    case kRcodeNotZone:
      return "NOTZONE";
    default:
      return absl::StrCat("RCODE", rcode);
  }
}

absl::StatusOr<DnsAnswer> QueryFirstAvailable(
    DnsResolver& resolver, const std::vector<std::string>& servers,
    const std::string& name, RrType type, const Context& ctx) {
  if (servers.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no DNS resolvers configured to ask for ", name, " ",
                     RrTypeName(type)));
  }
  std::vector<std::string> failures;
  for (const std::string& server : servers) {
    absl::StatusOr<DnsAnswer> a = resolver.Query(name, type, server, ctx);
    if (a.ok() || a.status().code() != absl::StatusCode::kUnavailable) {
      return a;
    }
    failures.emplace_back(a.status().message());
    if (&server != &servers.back()) {
      CF_LOG_WARN(
          "DNS resolver %s unavailable for %s %s (%s); trying the "
          "next one",
          server, name, RrTypeName(type), a.status().message());
    }
  }
  return absl::UnavailableError(absl::StrCat("no resolver answered ", name, " ",
                                             RrTypeName(type), ": ",
                                             absl::StrJoin(failures, "; ")));
}

}  // namespace certfleet::dns
