#include "coordinator/issuance/order_stage.h"

#include <cstddef>
#include <iterator>

namespace certfleet::issuance {
namespace {

// Indexed by OrderStage, in its order.
constexpr absl::string_view kNames[] = {"placed", "presenting", "answered",
                                        "finalizing", "abandoned"};
static_assert(std::size(kNames) ==
              static_cast<size_t>(OrderStage::kAbandoned) + 1);

}  // namespace

absl::string_view OrderStageName(OrderStage stage) {
  return kNames[static_cast<size_t>(stage)];
}

bool IsAtStage(const store::OrderRecord& rec, OrderStage stage) {
  return rec.stage == OrderStageName(stage);
}

}  // namespace certfleet::issuance
