#include "coordinator/acme/chain_selection.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/certificate.h"

namespace certfleet::acme {

absl::StatusOr<size_t> SelectChain(const std::vector<CertificateChain>& chains,
                                   const std::string& preferred_issuer) {
  if (chains.empty()) return absl::InvalidArgumentError("no chain downloaded");
  // Nothing to choose: don't pay for parsing (the caller parses the chain it
  // uses anyway).
  if (preferred_issuer.empty() || chains.size() == 1) return 0;
  std::vector<std::vector<crypto::Certificate>> parsed(chains.size());
  for (size_t i = 0; i < chains.size(); ++i) {
    auto certs = crypto::Certificate::ParsePemChain(chains[i].pem);
    if (certs.ok()) {
      parsed[i] = std::move(*certs);
    } else if (i == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate at ", chains[0].url, ": ", certs.status().message()));
    }
  }
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (!parsed[i].empty() &&
        absl::EqualsIgnoreCase(parsed[i].back().IssuerCommonName(),
                               preferred_issuer)) {
      return i;
    }
  }
  for (size_t i = 0; i < parsed.size(); ++i) {
    for (const crypto::Certificate& c : parsed[i]) {
      if (absl::EqualsIgnoreCase(c.SubjectCommonName(), preferred_issuer) ||
          absl::EqualsIgnoreCase(c.IssuerCommonName(), preferred_issuer)) {
        return i;
      }
    }
  }
  return 0;
}

}  // namespace certfleet::acme
