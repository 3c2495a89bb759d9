// The status of an ACME object (RFC 8555 §7.1.6): accounts, orders,
// authorizations and challenges share one set of names, each using some of
// them. resources.cc parses the "status" member into AcmeStatus once, at the
// JSON boundary; everything after it compares enums.
//
//   if (order.status == AcmeStatus::kReady) ...
//   absl::StrCat("order ", order.url, " is ", AcmeStatusName(order.status));
#ifndef CERTFLEET_COORDINATOR_ACME_ACME_STATUS_H_
#define CERTFLEET_COORDINATOR_ACME_ACME_STATUS_H_

#include <optional>
#include <ostream>

#include "absl/strings/string_view.h"

namespace certfleet::acme {

enum class AcmeStatus {
  kPending,
  kReady,
  kProcessing,
  kValid,
  kInvalid,
  kExpired,
  kDeactivated,
  kRevoked,
};

// The name the CA sends: "pending", "ready", "processing", "valid",
// "invalid", "expired", "deactivated", "revoked".
absl::string_view AcmeStatusName(AcmeStatus status);

// The status named `name`; nullopt for anything else ("" included).
std::optional<AcmeStatus> ParseAcmeStatus(absl::string_view name);

// Its name, for test output.
std::ostream& operator<<(std::ostream& os, AcmeStatus status);

}  // namespace certfleet::acme

#endif  // CERTFLEET_COORDINATOR_ACME_ACME_STATUS_H_
