#include "coordinator/dns/ldns_resolver.h"

#include <ldns/ldns.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/dns/dns_name.h"
#include "coordinator/dns/transport.h"

namespace certfleet::dns {
namespace {

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktDeleter>;

ldns_rr_type ToLdns(RrType type) {
  switch (type) {
    case RrType::kA:
      return LDNS_RR_TYPE_A;
    case RrType::kAAAA:
      return LDNS_RR_TYPE_AAAA;
    case RrType::kCNAME:
      return LDNS_RR_TYPE_CNAME;
    case RrType::kNS:
      return LDNS_RR_TYPE_NS;
    case RrType::kSOA:
      return LDNS_RR_TYPE_SOA;
    case RrType::kTXT:
      return LDNS_RR_TYPE_TXT;
  }
  return LDNS_RR_TYPE_A;
}

bool FromLdns(ldns_rr_type type, RrType* out) {
  switch (type) {
    case LDNS_RR_TYPE_A:
      *out = RrType::kA;
      return true;
    case LDNS_RR_TYPE_AAAA:
      *out = RrType::kAAAA;
      return true;
    case LDNS_RR_TYPE_CNAME:
      *out = RrType::kCNAME;
      return true;
    case LDNS_RR_TYPE_NS:
      *out = RrType::kNS;
      return true;
    case LDNS_RR_TYPE_SOA:
      *out = RrType::kSOA;
      return true;
    case LDNS_RR_TYPE_TXT:
      *out = RrType::kTXT;
      return true;
    default:
      return false;
  }
}

std::string RdfText(const ldns_rdf* rdf) {
  if (rdf == nullptr) return "";
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "";
  free(s);
  return out;
}

// Converts the record types we know; others (RRSIG, ...) are skipped.
void ConvertSection(const ldns_rr_list* list, std::vector<Rr>* out) {
  for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    Rr r;
    if (!FromLdns(ldns_rr_get_type(rr), &r.type)) continue;
    if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) continue;
    r.name = CanonicalName(RdfText(ldns_rr_owner(rr)));
    r.ttl = ldns_rr_ttl(rr);
    switch (r.type) {
      case RrType::kTXT:
        // RFC 1035 §3.3.14: one or more <character-string>s, each with a
        // length byte; DNS-01 values are their concatenation.
        for (size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
          const ldns_rdf* rdf = ldns_rr_rdf(rr, j);
          if (ldns_rdf_size(rdf) < 1) continue;
          r.data.append(reinterpret_cast<const char*>(ldns_rdf_data(rdf)) + 1,
                        ldns_rdf_size(rdf) - 1);
        }
        break;
      case RrType::kCNAME:
      case RrType::kNS:
      case RrType::kSOA:
        r.data = CanonicalName(RdfText(ldns_rr_rdf(rr, 0)));
        break;
      case RrType::kA:
      case RrType::kAAAA:
        r.data = RdfText(ldns_rr_rdf(rr, 0));
        break;
    }
    out->push_back(std::move(r));
  }
}

}  // namespace

std::optional<DnsAnswer> ParseDnsReply(absl::string_view wire) {
  ldns_pkt* parsed = nullptr;
  if (ldns_wire2pkt(&parsed, reinterpret_cast<const uint8_t*>(wire.data()),
                    wire.size()) != LDNS_STATUS_OK ||
      parsed == nullptr) {
    return std::nullopt;
  }
  PktPtr pkt(parsed);
  DnsAnswer answer;
  answer.rcode = (ldns_pkt_edns_extended_rcode(pkt.get()) << 4) |
                 ldns_pkt_get_rcode(pkt.get());
  answer.authoritative = ldns_pkt_aa(pkt.get());
  ConvertSection(ldns_pkt_answer(pkt.get()), &answer.answer);
  ConvertSection(ldns_pkt_authority(pkt.get()), &answer.authority);
  ConvertSection(ldns_pkt_additional(pkt.get()), &answer.additional);
  return answer;
}

absl::StatusOr<DnsAnswer> LdnsResolver::Query(const std::string& name,
                                              RrType type,
                                              const std::string& server,
                                              const Context& ctx) {
  const std::string qname = CanonicalName(name);
  const std::string what =
      absl::StrCat("DNS query ", qname, " ", RrTypeName(type));
  ldns_rdf* rdf = ldns_dname_new_frm_str(qname.c_str());
  if (rdf == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is not a valid DNS name"));
  }
  PktPtr query(ldns_pkt_query_new(rdf, ToLdns(type), LDNS_RR_CLASS_IN,
                                  options_.recursion_desired ? LDNS_RD : 0));
  if (!query) return absl::InternalError(absl::StrCat(what, ": ldns failed"));
  uint16_t id = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id);
  ldns_pkt_set_id(query.get(), id);
  ldns_pkt_set_edns_udp_size(query.get(), 1232);
  uint8_t* wire_data = nullptr;
  size_t wire_size = 0;
  if (ldns_pkt2wire(&wire_data, query.get(), &wire_size) != LDNS_STATUS_OK) {
    return absl::InternalError(absl::StrCat(what, ": cannot encode"));
  }
  const std::string wire(reinterpret_cast<char*>(wire_data), wire_size);
  free(wire_data);

  absl::Status last = absl::UnavailableError("not tried");
  for (int attempt = 0; attempt < std::max(1, options_.tries); ++attempt) {
    if (ctx.IsCancelled()) return absl::CancelledError(what + ": cancelled");
    const absl::Duration left = ctx.deadline() - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat(
          what, " at ", server, ": deadline exceeded",
          attempt > 0 ? absl::StrCat(" (last try: ", last.message(), ")")
                      : ""));
    }
    const absl::Duration timeout = std::min(options_.per_try_timeout, left);
    absl::StatusOr<std::string> reply = ExchangeUdp(server, wire, timeout);
    if (reply.ok() && reply->size() >= 12 && ((*reply)[2] & 0x02)) {
      // TC bit: the full answer needs TCP (RFC 7766 §5).
      reply = ExchangeTcp(server, wire, timeout);
      if (reply.ok() && (reply->size() < 2 || (*reply)[0] != wire[0] ||
                         (*reply)[1] != wire[1])) {
        reply = absl::UnavailableError(
            absl::StrCat(server, ": TCP reply with a different message ID"));
      }
    }
    if (!reply.ok()) {
      if (reply.status().code() != absl::StatusCode::kUnavailable) {
        return reply.status();
      }
      last = reply.status();
      continue;
    }
    std::optional<DnsAnswer> answer = ParseDnsReply(*reply);
    if (!answer) {
      last = absl::UnavailableError(absl::StrCat(server, ": malformed reply"));
      continue;
    }
    return *std::move(answer);
  }
  // Transport errors start with "<server>: "; say it once.
  absl::string_view reason = last.message();
  const std::string prefix = server + ": ";
  if (absl::StartsWith(reason, prefix)) reason.remove_prefix(prefix.size());
  return absl::UnavailableError(absl::StrCat(
      what, " at ", server, ": ", reason, " after ",
      std::max(1, options_.tries), options_.tries > 1 ? " tries" : " try"));
}

}  // namespace certfleet::dns
