// PickFreePort: never the same port twice in one process, even from many
// threads at once, and every port it hands out stays locked against other
// test processes.
#include "tests/harness/free_port.h"

#include <fcntl.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::harness {
namespace {

TEST(PickFreePortTest, NeverHandsOutAPortTwice) {
  // Closing a probe socket makes its port free again for the kernel, which
  // is how two etcd members of one cluster once got the same port.
  std::set<int> seen;
  for (int i = 0; i < 300; ++i) {
    ASSERT_OK_AND_ASSIGN(int port, PickFreePort());
    EXPECT_TRUE(seen.insert(port).second) << "port " << port << " twice";
  }
}

TEST(PickFreePortTest, ThreadsNeverShareAPort) {
  absl::Mutex mu;
  std::vector<int> ports;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        absl::StatusOr<int> port = PickFreePort();
        ASSERT_OK(port.status());
        absl::MutexLock lock(&mu);
        ports.push_back(*port);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(std::set<int>(ports.begin(), ports.end()).size(), ports.size());
}

TEST(PickFreePortTest, APortHandedOutIsLockedAgainstOtherProcesses) {
  ASSERT_OK_AND_ASSIGN(int port, PickFreePort());
  // Below the kernel's ephemeral range (32768 and up by default).
  EXPECT_LT(port, 32768);
  // A lock through another open file description conflicts exactly as one
  // taken by another process would.
  const int fd = open("/tmp/certfleet-test-ports.lock", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = port;
  fl.l_len = 1;
  EXPECT_EQ(fcntl(fd, F_OFD_SETLK, &fl), -1) << "port " << port;
  EXPECT_THAT(errno, ::testing::AnyOf(EAGAIN, EACCES));
  close(fd);
}

}  // namespace
}  // namespace certfleet::harness
