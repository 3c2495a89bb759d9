// Shared by the etcd integration tests: one real 3-member etcd cluster per
// test process (started on first use, stopped by PID when the process ends),
// clients on it, a per-test key prefix, and a recorder for watch callbacks.
//
//   TEST_F(EtcdTest, Something) {
//     auto client = NewClient();
//     ASSERT_OK(client->Put(Key("a"), "1", Ctx()));
//   }
#ifndef CERTFLEET_TESTS_ETCD_ETCD_TEST_ENV_H_
#define CERTFLEET_TESTS_ETCD_ETCD_TEST_ENV_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/context.h"
#include "common/etcd/etcd_client.h"
#include "gtest/gtest.h"
#include "tests/harness/etcd_server.h"

namespace certfleet::etcd::testing {

// A Context that ends `timeout` from now.
Context Ctx(absl::Duration timeout = absl::Seconds(20));

// The process's cluster (3 members), started on first use. Fails the
// current test (and returns nullptr) when it cannot start.
harness::EtcdCluster* SharedCluster();

class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override;

  harness::EtcdCluster& cluster() { return *cluster_; }
  // A client on every member, or on `endpoints` when given.
  std::unique_ptr<EtcdClient> NewClient(
      std::vector<std::string> endpoints = {},
      absl::Duration call_timeout = absl::Seconds(10));
  // "/certfleet-test/<Suite>.<Test>/<name>": tests never see each other's
  // keys although they share the cluster.
  std::string Key(const std::string& name) const { return prefix_ + name; }
  const std::string& prefix() const { return prefix_; }

 private:
  harness::EtcdCluster* cluster_ = nullptr;
  std::string prefix_;
};

// Collects what a watch delivers, for tests to wait on.
class WatchRecorder {
 public:
  WatchCallback Callback();
  // Waits until `n` events have arrived (or the watch ended, or the timeout
  // passed) and returns every event so far.
  std::vector<WatchEvent> WaitForEvents(
      size_t n, absl::Duration timeout = absl::Seconds(10));
  // Waits for the final status; kDeadlineExceeded when none came in time.
  absl::Status WaitForEnd(absl::Duration timeout = absl::Seconds(10));
  std::vector<WatchEvent> events();
  // How many non-OK statuses arrived (must never exceed 1).
  int final_calls();
  // How many calls arrived after the final status (must stay 0).
  int calls_after_final();

 private:
  absl::Mutex mu_;
  std::vector<WatchEvent> events_ ABSL_GUARDED_BY(mu_);
  absl::Status final_ ABSL_GUARDED_BY(mu_);
  int final_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int calls_after_final_ ABSL_GUARDED_BY(mu_) = 0;
};

// "PUT key=value@rev" / "DELETE key@rev", for readable expectations.
std::string Describe(const WatchEvent& event);
std::vector<std::string> Describe(const std::vector<WatchEvent>& events);

}  // namespace certfleet::etcd::testing

#endif  // CERTFLEET_TESTS_ETCD_ETCD_TEST_ENV_H_
