// A DnsProvider that writes TXT records by RFC 2136 dynamic update, signed
// with TSIG (RFC 8945), to the zone's primary server — BIND, Knot, PowerDNS
// and most managed DNS that accept "nsupdate".
//
// Present adds each value to its RRset (RFC 2136 §2.5.1); CleanUp deletes
// exactly the given values (§2.5.4, class NONE with the rdata), so other
// values at the same name stay. All records of one call travel in one UPDATE,
// and concurrent calls for one zone are coalesced (update_batcher.h): while an
// UPDATE is in flight later calls queue, and the next UPDATE carries them
// all. UPDATEs go over TCP: batches quickly exceed 512 bytes.
//
//   ASSIGN_OR_RETURN(auto provider, Rfc2136Provider::Create("lab-bind", {
//       .server = "127.0.0.1:5353", .tsig_key_name = "certfleet",
//       .tsig_algorithm = "hmac-sha256", .tsig_secret = secret_base64}));
//   RETURN_IF_ERROR(provider->Present("example.test.", records, ctx));
#ifndef CERTFLEET_COORDINATOR_DNS_PROVIDERS_RFC2136_PROVIDER_H_
#define CERTFLEET_COORDINATOR_DNS_PROVIDERS_RFC2136_PROVIDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coordinator/dns/dns_provider.h"
#include "coordinator/dns/tsig.h"
#include "coordinator/dns/update_batcher.h"

namespace certfleet::dns {

struct Rfc2136Options {
  std::string server;  // the primary, "ip:port"
  std::string tsig_key_name;
  std::string tsig_algorithm = "hmac-sha256";  // or hmac-sha384, hmac-sha512
  std::string tsig_secret;                     // base64
  absl::Duration timeout = absl::Seconds(10);  // per UPDATE
  uint32_t ttl = 60;                           // of added records
};

class Rfc2136Provider : public DnsProvider {
 public:
  // kInvalidArgument naming the option when one is wrong.
  static absl::StatusOr<std::unique_ptr<Rfc2136Provider>> Create(
      std::string name, Rfc2136Options options);

  const std::string& name() const override { return name_; }

  // Errors name the provider, zone, server and what came back:
  // kPermissionDenied for TSIG failures (BADSIG: wrong secret or algorithm;
  // BADKEY: the server does not know the key), kFailedPrecondition for
  // REFUSED/NOTZONE/NOTAUTH, kUnavailable for timeouts, refused connections
  // and SERVFAIL, kInvalidArgument for records outside `zone`.
  absl::Status Present(const std::string& zone,
                       const std::vector<TxtRecord>& records,
                       const Context& ctx) override;
  absl::Status CleanUp(const std::string& zone,
                       const std::vector<TxtRecord>& records,
                       const Context& ctx) override;
  // "UPDATE is atomic" (RFC 2136, abstract and §3.4.2): when
  // the server answered with a refusal, nothing was written. Without an
  // answer (timeout, lost connection) it may have been.
  bool NothingWritten(const absl::Status& error) const override;

  // UPDATE messages sent so far (coalescing makes this < calls under load).
  int64_t updates_sent() const { return batcher_.batches_sent(); }

 private:
  Rfc2136Provider(std::string name, Rfc2136Options options, TsigKey key);
  absl::Status Submit(const std::string& zone,
                      const std::vector<TxtRecord>& records,
                      UpdateOp::Kind kind, const Context& ctx);
  // One signed UPDATE over TCP; the reply's TSIG is verified.
  absl::Status SendUpdate(const std::string& zone,
                          const std::vector<UpdateOp>& ops,
                          absl::Time deadline);

  const std::string name_;
  const Rfc2136Options options_;
  const TsigKey key_;
  UpdateBatcher batcher_;
};

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_PROVIDERS_RFC2136_PROVIDER_H_
