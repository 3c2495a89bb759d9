// Feeds: one DNS reply in wire format to ParseDnsReply, the parsing half of
// LdnsResolver::Query (ldns_wire2pkt, then our conversion of the answer,
// authority and additional sections: TXT character-strings, names, A/AAAA
// text). Every propagation check and zone lookup reads such replies from
// the name servers it asks.
// Checks, beyond no crash, leak or sanitizer report: the rcode fits the 12
// bits of RCODE plus the EDNS extended RCODE; every owner name, and every
// CNAME/NS/SOA target, is canonical (lower case, one trailing dot).
#include <cstdint>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "coordinator/dns/ldns_resolver.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool Canonical(const std::string& name) {
  return absl::EndsWith(name, ".") && absl::AsciiStrToLower(name) == name &&
         (name == "." || !absl::EndsWith(name, ".."));
}

void CheckSection(const std::vector<certfleet::dns::Rr>& rrs) {
  using certfleet::dns::RrType;
  for (const certfleet::dns::Rr& rr : rrs) {
    FUZZ_CHECK(Canonical(rr.name), "owner names are canonical");
    if (rr.type == RrType::kCNAME || rr.type == RrType::kNS ||
        rr.type == RrType::kSOA) {
      FUZZ_CHECK(Canonical(rr.data), "CNAME/NS/SOA targets are canonical");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::optional<certfleet::dns::DnsAnswer> answer =
      certfleet::dns::ParseDnsReply(certfleet::fuzz::AsView(data, size));
  if (!answer) return 0;
  FUZZ_CHECK(answer->rcode >= 0 && answer->rcode < (1 << 12),
             "the rcode is 12 bits");
  CheckSection(answer->answer);
  CheckSection(answer->authority);
  CheckSection(answer->additional);
  return 0;
}
