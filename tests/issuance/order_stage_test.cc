// The order runner's stages and the names stored for them: stored orders
// are read back by these names, so they never change.
#include "coordinator/issuance/order_stage.h"

#include "gtest/gtest.h"

namespace certfleet::issuance {
namespace {

TEST(OrderStageTest, NamesAreTheStoredOnes) {
  EXPECT_EQ(OrderStageName(OrderStage::kPlaced), "placed");
  EXPECT_EQ(OrderStageName(OrderStage::kPresenting), "presenting");
  EXPECT_EQ(OrderStageName(OrderStage::kAnswered), "answered");
  EXPECT_EQ(OrderStageName(OrderStage::kFinalizing), "finalizing");
  EXPECT_EQ(OrderStageName(OrderStage::kAbandoned), "abandoned");
}

TEST(OrderStageTest, ARecordIsAtTheStageItWasSavedAt) {
  store::OrderRecord rec;
  rec.stage = "answered";
  EXPECT_TRUE(IsAtStage(rec, OrderStage::kAnswered));
  EXPECT_FALSE(IsAtStage(rec, OrderStage::kPresenting));
  rec.stage = "presented";  // written by no stage of today's runner
  EXPECT_FALSE(IsAtStage(rec, OrderStage::kPresenting));
}

}  // namespace
}  // namespace certfleet::issuance
