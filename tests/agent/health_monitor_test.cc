// Health checks between installs: only targets with a health_interval, at
// that interval, and only changes are reported.
#include "agent/install/health_monitor.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/install_fixture.h"

namespace certfleet::agent::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class HealthMonitorTest : public InstallFixture {
 protected:
  HealthMonitorTest() { config_.targets[0].health_interval = absl::Minutes(1); }

  std::unique_ptr<HealthMonitor> NewMonitor(TargetManager& manager) {
    return std::make_unique<HealthMonitor>(
        config_, manager, clock_,
        [this](const HealthChange& c) { changes_.push_back(c); });
  }
  std::vector<std::string> Changes() const {
    std::vector<std::string> out;
    for (const HealthChange& c : changes_) {
      out.push_back(c.target + (c.healthy ? " healthy" : " unhealthy: ") +
                    c.detail);
    }
    return out;
  }

  std::vector<HealthChange> changes_;
};

TEST_F(HealthMonitorTest, ReportsOnlyChangesAtTheInterval) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  auto monitor = NewMonitor(*manager);
  ASSERT_TRUE(monitor->active());
  const size_t checks = checker_.serials().size();
  const absl::Time start = clock_.Now();

  // Not due yet: nothing checked.
  EXPECT_EQ(monitor->RunDue(Context()), start + absl::Minutes(1));
  EXPECT_EQ(checker_.serials().size(), checks);

  // Due, still healthy: checked against the served serial, nothing to say.
  clock_.SetTime(start + absl::Minutes(1));
  EXPECT_EQ(monitor->RunDue(Context()), start + absl::Minutes(2));
  EXPECT_EQ(checker_.serials().back(), "0a01");
  EXPECT_THAT(Changes(), IsEmpty());

  // Someone replaced the certificate behind the agent's back.
  checker_.FailFor("0a01", "tls 127.0.0.1:8443: serves serial 0b00");
  clock_.SetTime(start + absl::Minutes(2));
  monitor->RunDue(Context());
  clock_.SetTime(start + absl::Minutes(3));
  monitor->RunDue(Context());  // the same failure again: not repeated
  EXPECT_THAT(Changes(), ElementsAre("www unhealthy: tls 127.0.0.1:8443: "
                                     "serves serial 0b00"));
  EXPECT_FALSE(manager->Inventory()[0].healthy);

  checker_.SetHandler(nullptr);
  clock_.SetTime(start + absl::Minutes(4));
  monitor->RunDue(Context());
  EXPECT_THAT(Changes(), ElementsAre("www unhealthy: tls 127.0.0.1:8443: "
                                     "serves serial 0b00",
                                     "www healthy"));
  EXPECT_TRUE(manager->Inventory()[0].healthy);
}

// An install between rounds already told the coordinator (its delivery
// result): the next round, healthy, has nothing to add.
TEST_F(HealthMonitorTest, AnInstallBetweenRoundsIsNotReportedAgain) {
  auto manager = NewManager();
  auto monitor = NewMonitor(*manager);
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  clock_.SetTime(clock_.Now() + absl::Minutes(1));
  monitor->RunDue(Context());
  EXPECT_EQ(checker_.serials().back(), "0a01");
  EXPECT_THAT(Changes(), IsEmpty());
}

TEST_F(HealthMonitorTest, TargetsWithoutAnIntervalAreLeftAlone) {
  config_.targets[0].health_interval = absl::ZeroDuration();
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  auto monitor = NewMonitor(*manager);
  EXPECT_FALSE(monitor->active());
  const size_t checks = checker_.serials().size();
  clock_.SetTime(clock_.Now() + absl::Hours(24));
  EXPECT_EQ(monitor->RunDue(Context()), absl::InfiniteFuture());
  monitor->Run(Context());  // returns at once
  EXPECT_EQ(checker_.serials().size(), checks);
}

TEST_F(HealthMonitorTest, ATargetWithNothingServedReportsItOnce) {
  auto manager = NewManager();
  auto monitor = NewMonitor(*manager);
  clock_.SetTime(clock_.Now() + absl::Minutes(1));
  monitor->RunDue(Context());
  clock_.SetTime(clock_.Now() + absl::Minutes(1));
  monitor->RunDue(Context());
  // The manager starts with "not checked"; the first round's "nothing is
  // served" is a change, the second round's is not.
  ASSERT_THAT(changes_, ::testing::SizeIs(1));
  EXPECT_FALSE(changes_[0].healthy);
  EXPECT_THAT(changes_[0].detail, ::testing::HasSubstr("nothing is served"));
}

}  // namespace
}  // namespace certfleet::agent::testing
