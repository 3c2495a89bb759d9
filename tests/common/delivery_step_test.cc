// The delivery steps' names are stored (agent journals) and sent (agent.proto
// failed_step): each parses back to its step, the names written by earlier
// releases still parse, and nothing else does.
#include "common/delivery_step.h"

#include <sstream>

#include "gtest/gtest.h"

namespace certfleet {
namespace {

TEST(DeliveryStepTest, TheNamesWrittenTodayParseBackToTheirSteps) {
  const std::pair<const char*, DeliveryStep> kStored[] = {
      {"verify", DeliveryStep::kVerify}, {"write", DeliveryStep::kWrite},
      {"swap", DeliveryStep::kSwap},     {"reload", DeliveryStep::kReload},
      {"health", DeliveryStep::kHealth}, {"unknown", DeliveryStep::kUnknown},
  };
  for (const auto& [name, step] : kStored) {
    EXPECT_EQ(DeliveryStepName(step), name);
    EXPECT_EQ(ParseDeliveryStep(name), step) << name;
  }
}

TEST(DeliveryStepTest, AnythingElseIsNoStep) {
  for (const char* name : {"", "Reload", "reload ", "rm -rf", "rollback"}) {
    EXPECT_EQ(ParseDeliveryStep(name), std::nullopt) << name;
  }
}

TEST(DeliveryStepTest, PrintsItsName) {
  std::ostringstream os;
  os << DeliveryStep::kHealth << " " << std::optional<DeliveryStep>() << " "
     << std::optional<DeliveryStep>(DeliveryStep::kSwap);
  EXPECT_EQ(os.str(), "health (none) swap");
}

}  // namespace
}  // namespace certfleet
