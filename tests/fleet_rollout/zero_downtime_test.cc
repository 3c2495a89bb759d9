// Zero downtime, measured: while version 2 rolls out through the lab's
// waves, one client per nginx instance does TLS handshakes in a loop. No
// handshake may fail, and every one must present version 1 or version 2;
// the test prints the counts per instance.
#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/fleet_rollout/rollout_lab.h"
#include "tests/harness/tls_probe.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::fleet_rollout {
namespace {

using rollout::Quantity;

// What one client saw.
struct Tally {
  int handshakes = 0;
  int failed = 0;
  std::map<std::string, int> by_serial;
  std::string first_error;
};

TEST(ZeroDowntimeTest, EveryHandshakeSucceedsWithTheOldOrNewCertificate) {
  rollout::RolloutPolicy policy;
  policy.waves = {Quantity::Count(1), Quantity::Percent(50),
                  Quantity::Percent(100)};
  policy.max_unavailable = Quantity::Count(1);
  policy.bake_time = absl::Seconds(1);
  policy.health_timeout = absl::Seconds(30);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RolloutLab> lab,
                       RolloutLab::Start(policy));
  ASSERT_OK_AND_ASSIGN(const std::string v1, lab->Served(0));

  std::vector<const LabAgent*> servers;
  for (const LabAgent& a : lab->agents()) {
    if (a.nginx) servers.push_back(&a);
  }
  ASSERT_EQ(servers.size(), 6u);
  std::vector<Tally> tallies(servers.size());
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (size_t i = 0; i < servers.size(); ++i) {
    clients.emplace_back([&, i] {
      const std::string address = servers[i]->nginx->address();
      Tally& t = tallies[i];
      while (!stop.load()) {
        absl::StatusOr<harness::ServedCertificate> served =
            harness::ProbeTls(address, kServerName, absl::Seconds(5));
        ++t.handshakes;
        if (served.ok()) {
          ++t.by_serial[served->serial_hex];
        } else {
          ++t.failed;
          if (t.first_error.empty()) t.first_error = served.status().ToString();
        }
        absl::SleepFor(absl::Milliseconds(2));
      }
    });
  }

  absl::StatusOr<LabVersion> v2 = lab->Publish();
  absl::Status done = v2.status();
  if (done.ok()) done = lab->WaitForPhase("complete", absl::Seconds(90));
  if (done.ok()) done = lab->WaitAllServe(v2->serial, absl::Seconds(10));
  // A little of the new version's steady state too.
  absl::SleepFor(absl::Milliseconds(300));
  stop = true;
  for (std::thread& c : clients) c.join();
  ASSERT_OK(done);

  int total = 0, failed = 0;
  for (size_t i = 0; i < servers.size(); ++i) {
    const Tally& t = tallies[i];
    total += t.handshakes;
    failed += t.failed;
    const int old_cert = t.by_serial.count(v1) ? t.by_serial.at(v1) : 0;
    const int new_cert =
        t.by_serial.count(v2->serial) ? t.by_serial.at(v2->serial) : 0;
    printf(
        "nginx slot %d (%s): %d handshakes, %d failed, %d old (%s), "
        "%d new (%s)\n",
        servers[i]->slot, servers[i]->pool.c_str(), t.handshakes, t.failed,
        old_cert, v1.c_str(), new_cert, v2->serial.c_str());
    EXPECT_EQ(t.failed, 0) << "slot " << servers[i]->slot << ": "
                           << t.first_error;
    EXPECT_EQ(old_cert + new_cert, t.handshakes - t.failed)
        << "slot " << servers[i]->slot << " presented another certificate";
    EXPECT_GT(old_cert, 0) << "slot " << servers[i]->slot;
    EXPECT_GT(new_cert, 0) << "slot " << servers[i]->slot;
  }
  printf(
      "zero downtime: %d handshakes across %zu nginx during the rollout, "
      "%d failed\n",
      total, servers.size(), failed);
  EXPECT_GT(total, 100);
}

}  // namespace
}  // namespace certfleet::fleet_rollout
