#include "coordinator/dns/providers/rfc2136_provider.h"

#include <ldns/ldns.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/dns/dns_name.h"
#include "coordinator/dns/resolver.h"
#include "coordinator/dns/transport.h"

namespace certfleet::dns {
namespace {

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RrListDeleter {
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};

// One TXT RR for the update section. Adds carry class IN and the TTL
// (RFC 2136 §2.5.1); deletes of one RR carry class NONE and TTL 0 (§2.5.4).
ldns_rr* MakeTxtRr(const UpdateOp& op, uint32_t ttl) {
  ldns_rr* rr = ldns_rr_new();
  ldns_rr_set_owner(rr, ldns_dname_new_frm_str(op.record.fqdn.c_str()));
  ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
  const bool add = op.kind == UpdateOp::kAdd;
  ldns_rr_set_class(rr, add ? LDNS_RR_CLASS_IN : LDNS_RR_CLASS_NONE);
  ldns_rr_set_ttl(rr, add ? ttl : 0);
  // Character-strings hold at most 255 bytes (RFC 1035 §3.3); longer values
  // are split, and a reader concatenates them again.
  const std::string& v = op.record.value;
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(255, v.size() - pos);
    std::string chunk(1, static_cast<char>(n));
    chunk.append(v, pos, n);
    ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, chunk.size(),
                                               chunk.data()));
    pos += n;
  } while (pos < v.size());
  return rr;
}

// Why the server said no, in words an operator can act on.
std::string TsigHint(uint16_t error, const TsigKey& key) {
  switch (error) {
    case kTsigBadSig:
      return absl::StrCat("the server knows key \"", key.name,
                          "\" but the signature does not verify: wrong "
                          "secret or algorithm");
    case kTsigBadKey:
      return absl::StrCat("the server does not know key \"", key.name,
                          "\" with algorithm ", key.algorithm);
    case kTsigBadTime:
      return "the clocks of this host and the server differ by more than "
             "the 300 s fudge";
    default:
      return "";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Rfc2136Provider>> Rfc2136Provider::Create(
    std::string name, Rfc2136Options options) {
  const std::string where = absl::StrCat("rfc2136 provider \"", name, "\"");
  absl::Status server_ok = ParseHostPort(options.server).status();
  if (!server_ok.ok()) return Annotate(server_ok, where + ": server");
  absl::StatusOr<TsigKey> key = TsigKey::Create(
      options.tsig_key_name, options.tsig_algorithm, options.tsig_secret);
  if (!key.ok()) return Annotate(key.status(), where);
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(where + ": timeout must be positive");
  }
  return std::unique_ptr<Rfc2136Provider>(
      new Rfc2136Provider(std::move(name), std::move(options), *key));
}

Rfc2136Provider::Rfc2136Provider(std::string name, Rfc2136Options options,
                                 TsigKey key)
    : name_(std::move(name)),
      options_(std::move(options)),
      key_(std::move(key)),
      batcher_([this](const std::string& zone, const std::vector<UpdateOp>& ops,
                      absl::Time deadline) {
        return SendUpdate(zone, ops, deadline);
      }) {}

absl::Status Rfc2136Provider::Present(const std::string& zone,
                                      const std::vector<TxtRecord>& records,
                                      const Context& ctx) {
  return Submit(zone, records, UpdateOp::kAdd, ctx);
}

absl::Status Rfc2136Provider::CleanUp(const std::string& zone,
                                      const std::vector<TxtRecord>& records,
                                      const Context& ctx) {
  return Submit(zone, records, UpdateOp::kDelete, ctx);
}

absl::Status Rfc2136Provider::Submit(const std::string& zone,
                                     const std::vector<TxtRecord>& records,
                                     UpdateOp::Kind kind, const Context& ctx) {
  const std::string apex = CanonicalName(zone);
  std::vector<UpdateOp> ops;
  for (const TxtRecord& r : records) {
    UpdateOp op{kind, {CanonicalName(r.fqdn), r.value}};
    if (!IsInZone(op.record.fqdn, apex)) {
      return absl::InvalidArgumentError(
          absl::StrCat("rfc2136 provider \"", name_, "\": ", op.record.fqdn,
                       " is not in zone ", apex));
    }
    ops.push_back(std::move(op));
  }
  absl::Status s = batcher_.Submit(apex, std::move(ops), ctx);
  if (s.code() == absl::StatusCode::kDeadlineExceeded ||
      s.code() == absl::StatusCode::kCancelled) {
    return Annotate(
        s, absl::StrCat("rfc2136 provider \"", name_, "\": update of zone ",
                        apex, " at ", options_.server));
  }
  return s;
}

absl::Status Rfc2136Provider::SendUpdate(const std::string& zone,
                                         const std::vector<UpdateOp>& ops,
                                         absl::Time deadline) {
  const std::string what =
      absl::StrCat("rfc2136 provider \"", name_, "\": update of zone ", zone,
                   " at ", options_.server);
  std::unique_ptr<ldns_rr_list, RrListDeleter> updates(ldns_rr_list_new());
  for (const UpdateOp& op : ops) {
    ldns_rr_list_push_rr(updates.get(), MakeTxtRr(op, options_.ttl));
  }
  std::unique_ptr<ldns_pkt, PktDeleter> pkt(
      ldns_update_pkt_new(ldns_dname_new_frm_str(zone.c_str()),
                          LDNS_RR_CLASS_IN, nullptr, updates.get(), nullptr));
  if (!pkt) return absl::InternalError(what + ": cannot build the UPDATE");
  ldns_pkt_set_rd(pkt.get(), false);  // Z bits in an UPDATE (§2.2)
  uint16_t id = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id);
  ldns_pkt_set_id(pkt.get(), id);
  uint8_t* data = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&data, pkt.get(), &size) != LDNS_STATUS_OK) {
    return absl::InternalError(what + ": cannot encode the UPDATE");
  }
  std::string wire(reinterpret_cast<char*>(data), size);
  free(data);
  ASSIGN_OR_RETURN(std::string request_mac, TsigSign(key_, absl::Now(), &wire));
  if (wire.size() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", ops.size(), " records make a ", wire.size(),
                     "-byte UPDATE, more than a DNS message can hold"));
  }

  const absl::Time end = std::min(deadline, absl::Now() + options_.timeout);
  if (end <= absl::Now()) {
    return absl::DeadlineExceededError(what + ": deadline exceeded");
  }
  absl::StatusOr<std::string> reply =
      ExchangeTcp(options_.server, wire, end - absl::Now());
  if (!reply.ok()) return Annotate(reply.status(), what + " failed");
  if (reply->size() < 12 || (*reply)[0] != wire[0] || (*reply)[1] != wire[1]) {
    return absl::UnavailableError(what + ": malformed reply");
  }
  const int rcode = static_cast<uint8_t>((*reply)[3]) & 0x0f;
  const TsigResult tsig =
      TsigVerifyResponse(key_, request_mac, *reply, absl::Now());

  if (tsig.present && tsig.error != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        what, " rejected: ", RcodeName(rcode), ", TSIG error ",
        TsigErrorName(tsig.error), " (", TsigHint(tsig.error, key_), ")"));
  }
  switch (rcode) {
    case kRcodeNoError:
      break;
    case kRcodeServFail:
      return absl::UnavailableError(what + " failed: SERVFAIL");
    case kRcodeRefused:
      return absl::FailedPreconditionError(
          absl::StrCat(what, " rejected: REFUSED (the zone does not let key \"",
                       key_.name, "\" update these TXT records)"));
    case kRcodeNotZone:
      return absl::FailedPreconditionError(
          what + " rejected: NOTZONE (a record is outside the zone)");
    case kRcodeNotAuth:
      return absl::FailedPreconditionError(
          what +
          " rejected: NOTAUTH (the server is not authoritative for "
          "the zone)");
    default:
      return absl::FailedPreconditionError(
          absl::StrCat(what, " rejected: ", RcodeName(rcode)));
  }
  if (!tsig.verified) {
    // Accepted, but we cannot tell that the server (and not an impostor)
    // said so.
    return absl::PermissionDeniedError(
        absl::StrCat(what, ": ", tsig.problem,
                     "; the update may or may not have been applied"));
  }
  return absl::OkStatus();
}

bool Rfc2136Provider::NothingWritten(const absl::Status& error) const {
  switch (error.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
      return false;
    default:
      return !error.ok();
  }
}

}  // namespace certfleet::dns
