// Failures after the swap: the previous version goes back, is reloaded and
// checked, and the outcome names the step and the error. Also metrics and
// concurrent installs on different targets.
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "common/filesystem.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/install_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::agent::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(InstallFixture, AFailedReloadSwapsThePreviousVersionBack) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  // The reload fails once: the new version's; the rollback's works.
  int reloads = 0;
  runner_.SetHandler([&reloads](const ProcessSpec&) {
    return ++reloads == 1
               ? Exit(1, "nginx: [emerg] cannot load certificate key\n")
               : Exit(0);
  });
  const InstallOutcome outcome =
      manager->Install(WwwBundle(2, "0a02"), Context());
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kReload);
  EXPECT_THAT(outcome.error,
              AllOf(HasSubstr("reload /usr/sbin/reload-www: exited with "
                              "status 1; stderr: nginx: [emerg] cannot load "
                              "certificate key"),
                    HasSubstr("rolled back to www/1")));
  EXPECT_TRUE(outcome.rolled_back);

  EXPECT_EQ(Current(), "www_2f1");
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");
  EXPECT_EQ(runner_.runs(), 3);  // install 1, failed 2, rollback to 1
  // The rollback's reload was checked against the old serial.
  EXPECT_THAT(checker_.serials(), ElementsAre("0a01", "0a01"));
  const Journal j = ReadJournalOrDie();
  EXPECT_EQ(j.phase, Journal::Phase::kIdle);
  EXPECT_EQ(j.serving, "www_2f1");
  EXPECT_EQ(j.candidate, "");
  const TargetStatus status = manager->Inventory()[0];
  EXPECT_EQ(status.version_id, "www/1");
  EXPECT_TRUE(status.healthy);

  EXPECT_EQ(
      Metric("certfleet_agent_reloads_total{target=\"www\",result=\"ok\"}"), 2);
  EXPECT_EQ(
      Metric("certfleet_agent_reloads_total{target=\"www\",result=\"failed\"}"),
      1);
  EXPECT_EQ(Metric("certfleet_agent_rollbacks_total{target=\"www\"}"), 1);
  EXPECT_EQ(
      Metric("certfleet_agent_installs_total{target=\"www\",result=\"ok\"}"),
      1);
  EXPECT_EQ(
      Metric(
          "certfleet_agent_installs_total{target=\"www\",result=\"rejected\"}"),
      1);

  // The next delivery of the same version tries again (it is not serving).
  runner_.SetHandler(nullptr);
  EXPECT_TRUE(manager->Install(WwwBundle(2, "0a02"), Context()).ok);
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a02");
}

TEST_F(InstallFixture, FailingHealthChecksAreRetriedThenRolledBack) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  checker_.FailFor("0a02",
                   "tls 127.0.0.1:8443 (www.example.test): serves serial "
                   "0a01, expected 0a02");
  const absl::Time start = clock_.Now();
  const InstallOutcome outcome =
      manager->Install(WwwBundle(2, "0a02"), Context());
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kHealth);
  EXPECT_THAT(
      outcome.error,
      AllOf(HasSubstr("serves serial 0a01, expected 0a02"),
            HasSubstr("attempts over"), HasSubstr("rolled back to www/1")));
  EXPECT_TRUE(outcome.rolled_back);
  EXPECT_EQ(Current(), "www_2f1");
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");

  // Grace 1s, then a round every 250ms for the 5s health timeout; then the
  // rollback's grace and one passing round.
  const std::vector<std::string> serials = checker_.serials();
  const int failed_rounds =
      static_cast<int>(std::count(serials.begin(), serials.end(), "0a02"));
  EXPECT_GE(failed_rounds, 15);
  EXPECT_LE(failed_rounds, 21);
  EXPECT_EQ(serials.back(), "0a01");
  EXPECT_GE(clock_.Now() - start,
            absl::Seconds(1 + 5 + 1) - absl::Milliseconds(250));
  EXPECT_EQ(Metric("certfleet_agent_health_failures_total{target=\"www\"}"), 1);
  EXPECT_EQ(Metric("certfleet_agent_rollbacks_total{target=\"www\"}"), 1);
  EXPECT_TRUE(manager->Inventory()[0].healthy);  // the rolled-back version
}

TEST_F(InstallFixture, AFailingFirstInstallLeavesNothingServed) {
  auto manager = NewManager();
  checker_.FailFor("0a01",
                   "http http://127.0.0.1:8080/: status 503, expected 200");
  const InstallOutcome outcome =
      manager->Install(WwwBundle(1, "0a01"), Context());
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kHealth);
  EXPECT_THAT(outcome.error,
              AllOf(HasSubstr("status 503, expected 200"),
                    HasSubstr("no previous version to roll back to: removed "
                              "current, nothing is served")));
  EXPECT_FALSE(outcome.rolled_back);
  EXPECT_EQ(LinkTarget("current"), "");
  EXPECT_EQ(access(Path("current").c_str(), F_OK), -1);
  const Journal j = ReadJournalOrDie();
  EXPECT_EQ(j.phase, Journal::Phase::kIdle);
  EXPECT_EQ(j.serving, "");
  const TargetStatus status = manager->Inventory()[0];
  EXPECT_EQ(status.version_id, "");
  EXPECT_FALSE(status.healthy);
  EXPECT_EQ(status.health_detail, "nothing is served");
  // No reload was run for the rollback: there is nothing to reload onto.
  EXPECT_EQ(runner_.runs(), 1);
}

// A host that served files before certfleet (by hand, certbot): the first
// install keeps them as version "adopted" and rolls back to them.
TEST_F(InstallFixture, AFailingFirstInstallRollsBackToTheFilesFoundThere) {
  const Bundle before = WwwBundle(0, "0b00");
  std::filesystem::create_directories(Dir());
  ::certfleet::testing::WriteFileOrDie(Path("cert.pem"), before.leaf_pem, 0644);
  ::certfleet::testing::WriteFileOrDie(Path("key.pem"), before.key_pem, 0640);
  auto manager = NewManager();
  int reloads = 0;
  runner_.SetHandler([&reloads](const ProcessSpec&) {
    return ++reloads == 1 ? Exit(1, "nginx: [emerg] no such file\n") : Exit(0);
  });
  const InstallOutcome outcome =
      manager->Install(WwwBundle(1, "0a01"), Context());
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kReload);
  EXPECT_THAT(outcome.error, HasSubstr("rolled back to adopted"));
  EXPECT_TRUE(outcome.rolled_back);

  EXPECT_EQ(Current(), "adopted");
  EXPECT_EQ(LinkTarget("cert.pem"), "current/cert.pem");
  EXPECT_EQ(LinkTarget("key.pem"), "current/key.pem");
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0b00");
  LocalFilesystem fs;
  absl::StatusOr<std::string> key = fs.ReadFile(Path("key.pem"));
  ASSERT_OK(key);
  EXPECT_EQ(*key, before.key_pem);
  // Kept with the mode the configuration gives a key file, not the one
  // found (nothing planted there keeps its privileges).
  struct stat st;
  ASSERT_EQ(stat(Path("key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // The rollback's health checks expected the adopted certificate.
  EXPECT_EQ(checker_.serials().back(), "0b00");
  const TargetStatus status = manager->Inventory()[0];
  EXPECT_EQ(status.version_id, "adopted");
  EXPECT_EQ(status.serial, "0b00");
  EXPECT_TRUE(status.healthy);
}

TEST_F(InstallFixture, TheAdoptedFilesAreThePreviousVersionThenPruned) {
  const Bundle before = WwwBundle(0, "0b00");
  std::filesystem::create_directories(Dir());
  ::certfleet::testing::WriteFileOrDie(Path("cert.pem"), before.leaf_pem, 0644);
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");
  EXPECT_EQ(ReadJournalOrDie().previous, "adopted");
  EXPECT_THAT(Versions(), ElementsAre("adopted", "www_2f1"));
  for (int n = 2; n <= 4; ++n) {
    ASSERT_TRUE(
        manager->Install(WwwBundle(n, absl::StrCat("0a0", n)), Context()).ok);
  }
  // keep_versions 3: serving, previous and one more.
  EXPECT_THAT(Versions(), ElementsAre("www_2f2", "www_2f3", "www_2f4"));
}

TEST_F(InstallFixture, ARollbackThatFailsTooIsReported) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  runner_.SetHandler(
      [](const ProcessSpec&) { return Exit(2, "config test failed"); });
  const InstallOutcome outcome =
      manager->Install(WwwBundle(2, "0a02"), Context());
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kReload);
  EXPECT_TRUE(outcome.rolled_back);
  EXPECT_THAT(outcome.error,
              HasSubstr("rolled back to www/1; after the rollback, step "
                        "reload failed too: reload /usr/sbin/reload-www: "
                        "exited with status 2; stderr: config test failed"));
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");
}

TEST_F(InstallFixture, ADeadlineDuringTheHealthChecksStillRollsBack) {
  auto manager = NewManager();
  ASSERT_TRUE(manager->Install(WwwBundle(1, "0a01"), Context()).ok);
  checker_.FailFor("0a02", "not yet");
  // The caller gives up after 2s (fake time); the rollback still runs.
  const Context ctx =
      Context::Background().WithDeadline(clock_.Now() + absl::Seconds(2));
  const InstallOutcome outcome = manager->Install(WwwBundle(2, "0a02"), ctx);
  EXPECT_EQ(outcome.failed_step, DeliveryStep::kHealth);
  EXPECT_TRUE(outcome.rolled_back);
  EXPECT_EQ(ServedSerialWithMatchingKey(), "0a01");
  EXPECT_EQ(runner_.runs(), 3);
}

TEST_F(InstallFixture, DifferentTargetsInstallConcurrently) {
  TargetSpec api = WwwTarget(tmp_.File("api"), password_file_);
  api.name = "api";
  config_.targets.push_back(api);
  auto manager = NewManager();
  // Each reload waits until both are in progress: only concurrent installs
  // get past it.
  absl::BlockingCounter both(2);
  absl::Notification released;
  std::atomic<bool> overlapped{false};
  runner_.SetHandler([&](const ProcessSpec&) {
    both.DecrementCount();
    if (!released.HasBeenNotified()) {
      overlapped = released.WaitForNotificationWithTimeout(absl::Seconds(10));
    }
    return Exit(0);
  });
  std::thread waker([&] {
    both.Wait();
    released.Notify();
  });
  InstallOutcome a, b;
  std::thread t1(
      [&] { a = manager->Install(WwwBundle(1, "0a01"), Context()); });
  Bundle api_bundle = WwwBundle(1, "0c01");
  api_bundle.target = "api";
  std::thread t2([&] { b = manager->Install(api_bundle, Context()); });
  t1.join();
  t2.join();
  waker.join();
  EXPECT_TRUE(a.ok) << a.error;
  EXPECT_TRUE(b.ok) << b.error;
  EXPECT_TRUE(overlapped);
  const std::vector<TargetStatus> inventory = manager->Inventory();
  ASSERT_EQ(inventory.size(), 2u);
  EXPECT_EQ(inventory[0].serial, "0a01");
  EXPECT_EQ(inventory[1].serial, "0c01");
  EXPECT_THAT(manager->TargetNames(), ElementsAre("www", "api"));
}

}  // namespace
}  // namespace certfleet::agent::testing
