#include "tests/harness/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace certfleet::harness {
namespace {

int ConnectTo(const std::string& host, int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One proxied connection: bytes flow both ways until either side closes.
struct Pair {
  int client = -1;
  int server = -1;  // -1: accepted while cut, left hanging
};

}  // namespace

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(
    const std::string& target) {
  std::unique_ptr<TcpProxy> p(new TcpProxy());
  const size_t colon = target.rfind(':');
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(target.substr(colon + 1), &p->target_port_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tcp proxy: target \"", target, "\" is not ip:port"));
  }
  p->target_host_ = target.substr(0, colon);
  p->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (p->listen_fd_ < 0 ||
      bind(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
          0 ||
      listen(p->listen_fd_, 64) != 0 ||
      getsockname(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
          0 ||
      pipe2(p->wake_fd_, O_CLOEXEC) != 0) {
    return absl::InternalError("tcp proxy: cannot listen on 127.0.0.1");
  }
  p->port_ = ntohs(addr.sin_port);
  p->thread_ = std::thread([raw = p.get()] { raw->Loop(); });
  return p;
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  if (wake_fd_[1] >= 0) (void)!write(wake_fd_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, wake_fd_[0], wake_fd_[1]}) {
    if (fd >= 0) close(fd);
  }
}

std::string TcpProxy::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

void TcpProxy::Loop() {
  std::vector<Pair> pairs;
  char buf[16384];
  while (!stop_) {
    std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0},
                               {wake_fd_[0], POLLIN, 0}};
    // While cut nothing is read, so nothing is forwarded: the peers' data
    // waits in the kernel as if the network dropped it.
    if (!cut_) {
      for (const Pair& p : pairs) {
        fds.push_back({p.client, POLLIN, 0});
        if (p.server >= 0) fds.push_back({p.server, POLLIN, 0});
      }
    }
    if (poll(fds.data(), fds.size(), 50) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        const int server = cut_ ? -1 : ConnectTo(target_host_, target_port_);
        if (!cut_ && server < 0) {
          close(client);  // the target is down: refuse, as it would
        } else {
          pairs.push_back({client, server});
        }
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      for (Pair& p : pairs) {
        if (p.client != fds[i].fd && p.server != fds[i].fd) continue;
        const int from = fds[i].fd;
        const int to = from == p.client ? p.server : p.client;
        const ssize_t n = read(from, buf, sizeof buf);
        if (n <= 0 || to < 0 || write(to, buf, n) != n) {
          close(p.client);
          if (p.server >= 0) close(p.server);
          p.client = p.server = -2;  // removed below
        }
      }
    }
    std::erase_if(pairs, [](const Pair& p) { return p.client == -2; });
  }
  for (const Pair& p : pairs) {
    close(p.client);
    if (p.server >= 0) close(p.server);
  }
}

}  // namespace certfleet::harness
