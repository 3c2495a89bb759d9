// Which coordinator the agent dials next: in turn, silent ones last.
#include "agent/client/coordinator_rotation.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certfleet::agent {
namespace {

std::vector<std::string> Dial(CoordinatorRotation& r, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(r.Next());
  return out;
}

TEST(CoordinatorRotationTest, EachInTurn) {
  CoordinatorRotation r({"a", "b", "c"});
  EXPECT_THAT(Dial(r, 4), ::testing::ElementsAre("a", "b", "c", "a"));
}

TEST(CoordinatorRotationTest, ASilentOneIsNotDialedWhileAnotherIsNot) {
  CoordinatorRotation r({"a", "b", "c"});
  EXPECT_EQ(r.Next(), "a");
  r.MarkSilent("a");
  EXPECT_THAT(Dial(r, 4), ::testing::ElementsAre("b", "c", "b", "c"));
  r.MarkHeard("a");  // it answered again (through another agent's eyes)
  EXPECT_THAT(Dial(r, 3), ::testing::ElementsAre("a", "b", "c"));
}

TEST(CoordinatorRotationTest, WhenAllAreSilentAllAreTriedInTurn) {
  CoordinatorRotation r({"a", "b"});
  r.MarkSilent("a");
  r.MarkSilent("b");
  EXPECT_THAT(Dial(r, 3), ::testing::ElementsAre("a", "b", "a"));
  EXPECT_TRUE(r.silent("a"));
}

}  // namespace
}  // namespace certfleet::agent
