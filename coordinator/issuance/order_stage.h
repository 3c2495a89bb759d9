// Where an in-flight order stands, as the order runner records it in
// OrderRecord::stage before each step that acts on the CA or on DNS. The
// store keeps the stage's name as text (free-form to it and to operators);
// the runner writes only these names and decides only on them.
//
//   RETURN_IF_ERROR(PersistOrder(state, OrderStage::kAnswered));
//   if (IsAtStage(rec, OrderStage::kAnswered)) { ... }
#ifndef CERTFLEET_COORDINATOR_ISSUANCE_ORDER_STAGE_H_
#define CERTFLEET_COORDINATOR_ISSUANCE_ORDER_STAGE_H_

#include "absl/strings/string_view.h"
#include "coordinator/store/store.h"

namespace certfleet::issuance {

enum class OrderStage {
  kPlaced,      // the order URL is stored; nothing presented yet
  kPresenting,  // DNS-01 records remembered, being written
  kAnswered,    // a challenge was answered: the CA may be validating
  kFinalizing,  // validated; the CSR is being sent
  kAbandoned,   // cannot succeed; kept only for records left to remove
};

// The name stored: "placed", "presenting", "answered", "finalizing",
// "abandoned". Never changes: stored orders are read back by it.
absl::string_view OrderStageName(OrderStage stage);

// Whether `rec` was last saved at `stage`.
bool IsAtStage(const store::OrderRecord& rec, OrderStage stage);

}  // namespace certfleet::issuance

#endif  // CERTFLEET_COORDINATOR_ISSUANCE_ORDER_STAGE_H_
