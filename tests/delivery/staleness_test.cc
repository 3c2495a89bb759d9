// When an agent is stale: not connected, and not seen for stale_after —
// seen by its record, by this process, or since this process started
// watching.
#include "coordinator/delivery/staleness.h"

#include "gtest/gtest.h"

namespace certfleet::delivery {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'900'000'000);

store::AgentRecord Seen(absl::Time at) {
  return {.id = "agt-000000000001", .last_seen_at = at};
}

TEST(StalenessTest, NotConnectedForStaleAfterSinceLastSeen) {
  Staleness staleness(absl::Hours(1), kStart - absl::Hours(10));
  const store::AgentRecord agent = Seen(kStart);
  EXPECT_FALSE(staleness.IsStale(agent, false, kStart + absl::Minutes(59)));
  EXPECT_TRUE(staleness.IsStale(agent, false, kStart + absl::Hours(1)));
  // A connected agent is never stale, whatever its record says.
  EXPECT_FALSE(staleness.IsStale(agent, true, kStart + absl::Hours(5)));
}

// After a restart, a stream that was cut never recorded its end: nobody is
// stale before stale_after has passed since the start.
TEST(StalenessTest, NobodyIsStaleBeforeStaleAfterSinceTheStart) {
  Staleness staleness(absl::Hours(1), kStart);
  const store::AgentRecord agent = Seen(kStart - absl::Hours(72));
  EXPECT_EQ(staleness.LastSeen(agent), kStart);
  EXPECT_FALSE(staleness.IsStale(agent, false, kStart + absl::Minutes(30)));
  EXPECT_TRUE(staleness.IsStale(agent, false, kStart + absl::Hours(1)));
}

// An agent seen connected (on another replica) counts from when it was last
// seen there, not from when its stream opened.
TEST(StalenessTest, AnObservedConnectionCounts) {
  Staleness staleness(absl::Hours(1), kStart - absl::Hours(100));
  const store::AgentRecord agent = Seen(kStart - absl::Hours(72));
  staleness.Observe({agent.id}, kStart);
  staleness.Observe({"agt-other"}, kStart + absl::Minutes(10));
  EXPECT_EQ(staleness.LastSeen(agent), kStart);
  EXPECT_FALSE(staleness.IsStale(agent, false, kStart + absl::Minutes(59)));
  EXPECT_TRUE(staleness.IsStale(agent, false, kStart + absl::Hours(1)));
  // An older observation never moves it back.
  staleness.Observe({agent.id}, kStart - absl::Hours(5));
  EXPECT_EQ(staleness.LastSeen(agent), kStart);
}

TEST(StalenessTest, AnInfiniteStaleAfterIsNeverStale) {
  Staleness staleness(absl::InfiniteDuration(), kStart);
  EXPECT_FALSE(staleness.IsStale(Seen(absl::InfinitePast()), false,
                                 kStart + absl::Hours(24 * 365)));
}

}  // namespace
}  // namespace certfleet::delivery
