// Choosing among the certificate chains a CA offers (RFC 8555 §7.4.2:
// the default chain plus Link rel="alternate" ones), the way operators know
// from certbot's and lego's --preferred-chain: by the Common Name of the
// issuer at the top of the chain.
#ifndef CERTFLEET_COORDINATOR_ACME_CHAIN_SELECTION_H_
#define CERTFLEET_COORDINATOR_ACME_CHAIN_SELECTION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/acme/acme_client.h"

namespace certfleet::acme {

// Index of the chain to use. A chain matches when the issuer CN of its
// topmost certificate equals `preferred_issuer` (case-insensitive); failing
// that, when any of its certificates has that subject or issuer CN. No match,
// or an empty preference, selects the default chain (index 0). Chains that do
// not parse are skipped; kInvalidArgument when `chains` is empty or, when
// there is a choice to make, the default chain does not parse.
absl::StatusOr<size_t> SelectChain(const std::vector<CertificateChain>& chains,
                                   const std::string& preferred_issuer);

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_CHAIN_SELECTION_H_
