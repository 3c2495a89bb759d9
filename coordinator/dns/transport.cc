#include "coordinator/dns/transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "coordinator/dns/dns_name.h"

namespace certfleet::dns {
namespace {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

absl::StatusOr<SocketAddress> ToSockaddr(const std::string& server) {
  ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(server));
  SocketAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET, hp.ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(hp.port);
    out.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, hp.ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(hp.port);
    out.length = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("bad server address \"", server, "\""));
  }
  return out;
}

absl::Status NetError(const std::string& server, const char* what, int err) {
  return absl::UnavailableError(
      absl::StrCat(server, ": ", what, ": ", strerror(err)));
}

absl::Status TimeoutError(const std::string& server, absl::Duration timeout) {
  return absl::UnavailableError(
      absl::StrCat(server, ": no answer (timeout after ",
                   absl::FormatDuration(timeout), ")"));
}

int MillisUntil(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left) + 1);
}

// Waits until `fd` is ready for `events` or the deadline passes. Returns
// false on timeout.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    const int ms = MillisUntil(deadline);
    if (ms == 0) return false;
    const int r = poll(&p, 1, ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // let the following call report it
  }
}

}  // namespace

absl::StatusOr<std::string> ExchangeUdp(const std::string& server,
                                        const std::string& message,
                                        absl::Duration timeout) {
  ASSIGN_OR_RETURN(SocketAddress addr, ToSockaddr(server));
  if (message.size() < 2) return absl::InvalidArgumentError("short message");
  const absl::Time deadline = absl::Now() + timeout;
  const int fd = socket(addr.storage.ss_family,
                        SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return NetError(server, "socket", errno);
  absl::Cleanup closer = [fd] { close(fd); };
  // A connected socket receives only from the server, and an ICMP port
  // unreachable comes back as ECONNREFUSED instead of a silent timeout.
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage),
              addr.length) != 0) {
    return NetError(server, "connect", errno);
  }
  if (send(fd, message.data(), message.size(), 0) < 0) {
    return NetError(server, "send", errno);
  }
  std::string buf(65535, '\0');
  while (true) {
    if (!WaitFor(fd, POLLIN, deadline)) return TimeoutError(server, timeout);
    const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNREFUSED) {
        return absl::UnavailableError(
            absl::StrCat(server, ": no answer (connection refused)"));
      }
      return NetError(server, "recv", errno);
    }
    // RFC 5452 §4.3: only a reply with our ID answers our query.
    if (n >= 12 && buf[0] == message[0] && buf[1] == message[1]) {
      buf.resize(n);
      return buf;
    }
  }
}

absl::StatusOr<std::string> ExchangeTcp(const std::string& server,
                                        const std::string& message,
                                        absl::Duration timeout) {
  ASSIGN_OR_RETURN(SocketAddress addr, ToSockaddr(server));
  if (message.size() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DNS message of ", message.size(), " bytes exceeds 65535"));
  }
  const absl::Time deadline = absl::Now() + timeout;
  const int fd = socket(addr.storage.ss_family,
                        SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return NetError(server, "socket", errno);
  absl::Cleanup closer = [fd] { close(fd); };
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage),
              addr.length) != 0) {
    if (errno != EINPROGRESS) {
      if (errno == ECONNREFUSED) {
        return absl::UnavailableError(
            absl::StrCat(server, ": no answer (connection refused)"));
      }
      return NetError(server, "connect", errno);
    }
    if (!WaitFor(fd, POLLOUT, deadline)) return TimeoutError(server, timeout);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == ECONNREFUSED) {
      return absl::UnavailableError(
          absl::StrCat(server, ": no answer (connection refused)"));
    }
    if (err != 0) return NetError(server, "connect", err);
  }
  std::string out;
  out.push_back(static_cast<char>(message.size() >> 8));
  out.push_back(static_cast<char>(message.size() & 0xff));
  out += message;
  size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n =
        send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return NetError(server, "send", errno);
    }
    if (!WaitFor(fd, POLLOUT, deadline)) return TimeoutError(server, timeout);
  }
  // Read the 2-byte length, then the message.
  std::string in;
  size_t want = 2;
  bool have_length = false;
  char buf[16384];
  while (in.size() < want) {
    if (!WaitFor(fd, POLLIN, deadline)) return TimeoutError(server, timeout);
    const ssize_t n = recv(fd, buf, std::min(sizeof buf, want - in.size()), 0);
    if (n == 0) {
      return absl::UnavailableError(
          absl::StrCat(server, ": connection closed before a full reply"));
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return NetError(server, "recv", errno);
    }
    in.append(buf, n);
    if (!have_length && in.size() == 2) {
      want = 2 +
             ((static_cast<uint8_t>(in[0]) << 8) | static_cast<uint8_t>(in[1]));
      have_length = true;
    }
  }
  return in.substr(2);
}

}  // namespace certfleet::dns
