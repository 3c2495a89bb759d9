#include "common/delivery_step.h"

namespace certfleet {
namespace {

constexpr DeliveryStep kAll[] = {
    DeliveryStep::kVerify, DeliveryStep::kWrite,  DeliveryStep::kSwap,
    DeliveryStep::kReload, DeliveryStep::kHealth, DeliveryStep::kUnknown,
};

}  // namespace

absl::string_view DeliveryStepName(DeliveryStep step) {
  switch (step) {
    case DeliveryStep::kVerify:
      return "verify";
    case DeliveryStep::kWrite:
      return "write";
    case DeliveryStep::kSwap:
      return "swap";
    case DeliveryStep::kReload:
      return "reload";
    case DeliveryStep::kHealth:
      return "health";
    case DeliveryStep::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<DeliveryStep> ParseDeliveryStep(absl::string_view name) {
  for (DeliveryStep step : kAll) {
    if (DeliveryStepName(step) == name) return step;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& os, DeliveryStep step) {
  return os << DeliveryStepName(step);
}

std::ostream& operator<<(std::ostream& os,
                         const std::optional<DeliveryStep>& step) {
  if (!step.has_value()) return os << "(none)";
  return os << *step;
}

}  // namespace certfleet
