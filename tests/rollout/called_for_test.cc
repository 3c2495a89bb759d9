// CalledFor: what a saved rollout state tells each of its targets to serve.
#include "coordinator/rollout/called_for.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace certfleet::rollout {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

HostRecord Host(const std::string& agent, HostState state) {
  return {.agent_id = agent, .target = "www", .state = state};
}

RolloutState State(Phase phase, std::vector<HostRecord> hosts,
                   std::string from = "web/1") {
  return {.certificate = "web",
          .from_version = std::move(from),
          .to_version = "web/2",
          .phase = phase,
          .hosts = std::move(hosts)};
}

TEST(CalledForTest, MovedHostsGetTheNewVersionAndRevertedOnesTheOld) {
  const std::vector<DeliverAction> called = CalledFor(
      State(Phase::kDelivering,
            {Host("a", HostState::kQueued), Host("b", HostState::kWaiting),
             Host("c", HostState::kChanging), Host("d", HostState::kHealthy),
             Host("e", HostState::kReverting), Host("f", HostState::kReverted),
             Host("g", HostState::kUnchanged), Host("h", HostState::kFailed)}));
  EXPECT_THAT(called, ElementsAre(DeliverAction{"c", "www", "web/2", false},
                                  DeliverAction{"d", "www", "web/2", false},
                                  DeliverAction{"e", "www", "web/1", true},
                                  DeliverAction{"f", "www", "web/1", true}));
}

TEST(CalledForTest, NothingToRevertToSendsNothingBack) {
  EXPECT_THAT(
      CalledFor(State(Phase::kHalted, {Host("e", HostState::kReverting)}, "")),
      IsEmpty());
}

TEST(CalledForTest, SkippedHostsAsTheRolloutLeftThem) {
  HostRecord reverted = Host("r", HostState::kSkipped);
  reverted.skip_reason = kSkipStale;
  reverted.reverted_at = absl::FromUnixSeconds(1);
  HostRecord waiting = Host("w", HostState::kSkipped);
  waiting.skip_reason = kSkipOperator;
  HostRecord removed = Host("x", HostState::kSkipped);
  removed.skip_reason = kSkipRemoved;
  // Running: a skipped host a halt reverted goes back; the others stay.
  EXPECT_THAT(CalledFor(State(Phase::kHalted, {reverted, waiting, removed})),
              ElementsAre(DeliverAction{"r", "www", "web/1", true}));
  // Complete: every skipped host but a removed one gets the new version.
  EXPECT_THAT(CalledFor(State(Phase::kComplete, {reverted, waiting, removed})),
              ElementsAre(DeliverAction{"r", "www", "web/2", false},
                          DeliverAction{"w", "www", "web/2", false}));
}

}  // namespace
}  // namespace certfleet::rollout
