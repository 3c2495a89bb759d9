// The DNS provider seam for DNS-01 (RFC 8555 §8.4): something that can add
// and remove TXT records in a zone. Implementations: Rfc2136Provider (RFC 2136
// dynamic update with TSIG), ExecProvider (a configured program), and fakes in
// tests.
//
// A record is identified by its name AND value: "example.com" and
// "*.example.com" are validated through the same name
// (_acme-challenge.example.com) with different values, and two orders may
// hold values there at the same time. Present adds values; CleanUp removes
// exactly the given (name, value) pairs and leaves every other value alone.
#ifndef CERTFLEET_COORDINATOR_DNS_DNS_PROVIDER_H_
#define CERTFLEET_COORDINATOR_DNS_DNS_PROVIDER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/context.h"

namespace certfleet::dns {

struct TxtRecord {
  // Absolute, lower-case, with the trailing dot:
  // "_acme-challenge.example.test."
  std::string fqdn;
  // The TXT value (for DNS-01: base64url of SHA-256 of the key authorization).
  std::string value;

  bool operator==(const TxtRecord&) const = default;
};

class DnsProvider {
 public:
  virtual ~DnsProvider() = default;

  // The provider's configured name, for logs and errors.
  virtual const std::string& name() const = 0;

  // Adds every record. All records are inside `zone` (absolute, trailing
  // dot). Returns when the provider accepted them; visibility on the
  // authoritative servers is checked separately (PropagationChecker).
  virtual absl::Status Present(const std::string& zone,
                               const std::vector<TxtRecord>& records,
                               const Context& ctx) = 0;

  // Whether a Present that failed with `error` certainly wrote none of its
  // records, so nothing needs cleaning up. Default: unknown (false). A
  // provider whose writes are atomic says yes when the server refused.
  virtual bool NothingWritten(const absl::Status& error) const {
    (void)error;
    return false;
  }

  // Removes exactly these (name, value) pairs. Records that are already gone
  // are not an error.
  virtual absl::Status CleanUp(const std::string& zone,
                               const std::vector<TxtRecord>& records,
                               const Context& ctx) = 0;
};

}  // namespace certfleet::dns

#endif  // CERTFLEET_COORDINATOR_DNS_DNS_PROVIDER_H_
