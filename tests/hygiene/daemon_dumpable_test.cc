// Both daemons make themselves non-dumpable before anything else
// (common/core_dumps.h): no core file, no ptrace or /proc/<pid>/mem for
// same-user processes. Seen from outside: the files of /proc/<pid> of a
// non-dumpable process belong to root even when it runs as another user.
// Each binary is started as nobody and held while it reads its
// configuration from a FIFO; /bin/cat in its place shows what a dumpable
// process looks like, so the check cannot pass for the wrong reason.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait_for.h"

namespace certfleet::hygiene {
namespace {

using ::certfleet::testing::WaitFor;

constexpr uid_t kNobody = 65534;

// Starts `argv` + FIFO as nobody, waits until it opened the FIFO to read,
// and returns the owner of its /proc/<pid>/status while it waits for data;
// -1 (with a test failure) when that cannot be seen.
int StatusOwnerWhileReading(std::vector<std::string> argv) {
  ::certfleet::testing::TempDir dir("dumpable");
  // nobody must reach the FIFO.
  EXPECT_EQ(chmod(dir.path().c_str(), 0755), 0);
  const std::string fifo = dir.File("config.yaml");
  EXPECT_EQ(mkfifo(fifo.c_str(), 0644), 0) << strerror(errno);
  absl::StatusOr<std::string> setpriv = harness::FindProgram("setpriv");
  EXPECT_OK(setpriv.status());
  if (!setpriv.ok()) return -1;
  std::vector<std::string> full = {*setpriv, "--reuid=65534", "--regid=65534",
                                   "--clear-groups"};
  full.insert(full.end(), argv.begin(), argv.end());
  full.push_back(fifo);
  absl::StatusOr<std::unique_ptr<harness::ServerProcess>> p =
      harness::ServerProcess::Start(
          {.name = argv[0], .argv = full, .log_path = dir.File("log")});
  EXPECT_OK(p.status());
  if (!p.ok()) return -1;
  // Opening the write end without blocking succeeds once the program has
  // the FIFO open for reading: past its start-up, waiting for data.
  int fd = -1;
  const absl::Status opened = WaitFor(
      absl::StrCat(argv[0], " to open its configuration"),
      [&] {
        fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        return fd >= 0 || !(*p)->Running();
      },
      absl::Seconds(30));
  EXPECT_GE(fd, 0) << argv[0] << " never opened its configuration (" << opened
                   << "): " << (*p)->LogTail();
  if (fd < 0) return -1;
  struct stat st;
  const std::string status = absl::StrCat("/proc/", (*p)->pid(), "/status");
  int owner = -1;
  if (stat(status.c_str(), &st) == 0) owner = static_cast<int>(st.st_uid);
  // It does run as nobody (real, effective, saved and fs uid).
  EXPECT_THAT(::certfleet::testing::ReadFileOrDie(status),
              ::testing::HasSubstr("\nUid:\t65534\t65534\t65534\t65534\n"));
  close(fd);  // end of file: the program gives up and exits
  return owner;
}

TEST(DaemonDumpableTest, AProcessRunAsNobodyIsNormallyDumpable) {
  EXPECT_EQ(StatusOwnerWhileReading({"/bin/cat"}), static_cast<int>(kNobody));
}

TEST(DaemonDumpableTest, AgentIsNotDumpable) {
  ASSERT_EQ(access(CERTFLEET_AGENT_BINARY, R_OK | X_OK), 0);
  EXPECT_EQ(StatusOwnerWhileReading({CERTFLEET_AGENT_BINARY, "check-config"}),
            0);
}

TEST(DaemonDumpableTest, CoordinatorIsNotDumpable) {
  ASSERT_EQ(access(CERTFLEET_COORDINATOR_BINARY, R_OK | X_OK), 0);
  EXPECT_EQ(
      StatusOwnerWhileReading({CERTFLEET_COORDINATOR_BINARY, "check-config"}),
      0);
}

}  // namespace
}  // namespace certfleet::hygiene
