#include "tests/harness/free_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace certfleet::harness {
namespace {

// Shared by every certfleet test process on the machine, whatever its
// TMPDIR: the point is that they all see the same file.
constexpr char kLockPath[] = "/tmp/certfleet-test-ports.lock";
constexpr int kLowestPort = 20000;
constexpr int kMinRangeSize = 2000;

bool CanBind(int type, int port) {
  const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  // As the servers do, so a port left in TIME_WAIT by an earlier server
  // counts as free.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok =
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// [first, last]: below the kernel's ephemeral range when that leaves room,
// else above it.
std::pair<int, int> PortRange() {
  int ephemeral_low = 32768, ephemeral_high = 60999;
  if (FILE* f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re")) {
    if (fscanf(f, "%d %d", &ephemeral_low, &ephemeral_high) != 2) {
      ephemeral_low = 32768;
      ephemeral_high = 60999;
    }
    fclose(f);
  }
  if (ephemeral_low - kLowestPort >= kMinRangeSize) {
    return {kLowestPort, ephemeral_low - 1};
  }
  if (65535 - ephemeral_high >= kMinRangeSize) {
    return {ephemeral_high + 1, 65535};
  }
  return {kLowestPort, 32767};  // a tuned-down machine: best effort
}

// The process's allocator. A process-wide object on purpose: "never the same
// port twice" is a property of the process, whichever test asks.
class PortAllocator {
 public:
  PortAllocator() : range_(PortRange()) {
    const int size = range_.second - range_.first + 1;
    next_ = range_.first + static_cast<int>((getpid() * 7919L) % size);
    lock_fd_ = open(kLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    // Whoever creates it, every user may lock it.
    if (lock_fd_ >= 0) fchmod(lock_fd_, 0666);
  }

  absl::StatusOr<int> Pick() {
    absl::MutexLock lock(&mu_);
    const int size = range_.second - range_.first + 1;
    for (int tried = 0; tried < size; ++tried) {
      const int port = next_;
      next_ = next_ == range_.second ? range_.first : next_ + 1;
      if (handed_out_.count(port) > 0) continue;
      if (!LockAcrossProcesses(port)) continue;
      // Locked: ours from now on, even if something else holds it at the
      // moment (checked next), so no other test process tries it later.
      handed_out_.insert(port);
      if (CanBind(SOCK_STREAM, port) && CanBind(SOCK_DGRAM, port)) return port;
    }
    return absl::UnavailableError(absl::StrCat(
        "no free loopback port left in ", range_.first, "-", range_.second));
  }

 private:
  // A write lock on byte `port` of the lock file; false when another process
  // holds it. An open-file-description lock: it stays ours until the process
  // exits, whatever else the process opens or closes.
  bool LockAcrossProcesses(int port) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (lock_fd_ < 0) return true;  // no lock file: in-process uniqueness only
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = port;
    fl.l_len = 1;
    return fcntl(lock_fd_, F_OFD_SETLK, &fl) == 0;
  }

  const std::pair<int, int> range_;
  int lock_fd_ = -1;
  absl::Mutex mu_;
  int next_ ABSL_GUARDED_BY(mu_);
  std::set<int> handed_out_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<int> PickFreePort() {
  static PortAllocator* const allocator = new PortAllocator();
  return allocator->Pick();
}

}  // namespace certfleet::harness
