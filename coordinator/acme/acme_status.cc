#include "coordinator/acme/acme_status.h"

namespace certfleet::acme {
namespace {

constexpr AcmeStatus kAll[] = {
    AcmeStatus::kPending,     AcmeStatus::kReady,   AcmeStatus::kProcessing,
    AcmeStatus::kValid,       AcmeStatus::kInvalid, AcmeStatus::kExpired,
    AcmeStatus::kDeactivated, AcmeStatus::kRevoked,
};

}  // namespace

absl::string_view AcmeStatusName(AcmeStatus status) {
  switch (status) {
    case AcmeStatus::kPending:
      return "pending";
    case AcmeStatus::kReady:
      return "ready";
    case AcmeStatus::kProcessing:
      return "processing";
    case AcmeStatus::kValid:
      return "valid";
    case AcmeStatus::kInvalid:
      return "invalid";
    case AcmeStatus::kExpired:
      return "expired";
    case AcmeStatus::kDeactivated:
      return "deactivated";
    case AcmeStatus::kRevoked:
      return "revoked";
  }
  return "?";
}

std::optional<AcmeStatus> ParseAcmeStatus(absl::string_view name) {
  for (AcmeStatus status : kAll) {
    if (AcmeStatusName(status) == name) return status;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& os, AcmeStatus status) {
  return os << AcmeStatusName(status);
}

}  // namespace certfleet::acme
