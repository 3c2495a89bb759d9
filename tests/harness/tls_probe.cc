#include "tests/harness/tls_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto/certificate.h"

namespace certfleet::harness {
namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

absl::Status ParseAddress(const std::string& address, sockaddr_storage* out,
                          socklen_t* len) {
  std::string host;
  std::string port_text;
  if (!address.empty() && address[0] == '[') {
    const size_t close_at = address.find("]:");
    if (close_at == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("address \"", address, "\" is not [IPv6]:port"));
    }
    host = address.substr(1, close_at - 1);
    port_text = address.substr(close_at + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("address \"", address, "\" has no port"));
    }
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  int port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address, "\" has a bad port"));
  }
  memset(out, 0, sizeof *out);
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *v6;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "address \"", address, "\" is not a numeric IP address and port"));
  }
  return absl::OkStatus();
}

int MillisLeft(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return ms < 0 ? 0 : static_cast<int>(ms > 60'000 ? 60'000 : ms);
}

// OpenSSL's queued errors as text (and clears the queue).
std::string SslErrors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "no OpenSSL error queued" : text;
}

absl::Status Connect(int fd, const sockaddr_storage& addr, socklen_t len,
                     const std::string& address, absl::Time deadline) {
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0) {
    return absl::OkStatus();
  }
  if (errno != EINPROGRESS) {
    return absl::UnavailableError(
        absl::StrCat("connect to ", address, ": ", strerror(errno)));
  }
  pollfd p{fd, POLLOUT, 0};
  const int ready = poll(&p, 1, MillisLeft(deadline));
  if (ready == 0) {
    return absl::DeadlineExceededError(
        absl::StrCat("connect to ", address, " timed out"));
  }
  int error = 0;
  socklen_t error_len = sizeof error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len);
  if (ready < 0 || error != 0) {
    return absl::UnavailableError(absl::StrCat(
        "connect to ", address, ": ", strerror(ready < 0 ? errno : error)));
  }
  return absl::OkStatus();
}

void IgnoreSigpipeOnce() {
  // OpenSSL writes with write(2): a server that closed the connection
  // (a worker shutting down during a reload) would otherwise kill the test
  // binary with SIGPIPE. Server processes get default signals back at spawn.
  static const bool ignored = [] {
    signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)ignored;
}

}  // namespace

absl::StatusOr<PendingTlsConnection> PendingTlsConnection::Open(
    const std::string& address, absl::Duration timeout) {
  IgnoreSigpipeOnce();
  const absl::Time deadline = absl::Now() + timeout;
  sockaddr_storage addr;
  socklen_t addr_len = 0;
  if (absl::Status s = ParseAddress(address, &addr, &addr_len); !s.ok()) {
    return s;
  }
  const int fd =
      socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  }
  PendingTlsConnection connection(fd, address);
  if (absl::Status s = Connect(fd, addr, addr_len, address, deadline);
      !s.ok()) {
    return s;
  }
  return connection;
}

PendingTlsConnection::PendingTlsConnection(
    PendingTlsConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), address_(std::move(other.address_)) {}

PendingTlsConnection& PendingTlsConnection::operator=(
    PendingTlsConnection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    address_ = std::move(other.address_);
  }
  return *this;
}

PendingTlsConnection::~PendingTlsConnection() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<ServedCertificate> PendingTlsConnection::Handshake(
    const std::string& server_name, absl::Duration timeout) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("connection to ", address_, " is closed"));
  }
  const absl::Time deadline = absl::Now() + timeout;
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return absl::InternalError("SSL_CTX_new: " + SslErrors());
  // No verification: the probe reports what is served, valid or not.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (!ssl) return absl::InternalError("SSL_new: " + SslErrors());
  SSL_set_fd(ssl.get(), fd_);
  if (!server_name.empty() &&
      SSL_set_tlsext_host_name(ssl.get(), server_name.c_str()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("server name \"", server_name, "\" rejected for SNI"));
  }
  for (;;) {
    errno = 0;
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    const int error = SSL_get_error(ssl.get(), rc);
    short events = 0;
    if (error == SSL_ERROR_WANT_READ) {
      events = POLLIN;
    } else if (error == SSL_ERROR_WANT_WRITE) {
      events = POLLOUT;
    } else {
      const std::string reason =
          error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
              ? absl::StrCat("connection closed by peer (",
                             errno ? strerror(errno) : "EOF", ")")
              : SslErrors();
      return absl::UnavailableError(
          absl::StrCat("TLS handshake with ", address_, " (SNI \"", server_name,
                       "\") failed: ", reason));
    }
    pollfd p{fd_, events, 0};
    if (poll(&p, 1, MillisLeft(deadline)) <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("TLS handshake with ", address_, " timed out after ",
                       absl::FormatDuration(timeout)));
    }
  }
  std::unique_ptr<X509, X509Free> peer(SSL_get1_peer_certificate(ssl.get()));
  // Best effort close_notify; the probe does not wait for the reply.
  SSL_shutdown(ssl.get());
  ERR_clear_error();
  ssl.reset();
  close(std::exchange(fd_, -1));
  if (!peer) {
    return absl::UnavailableError(
        absl::StrCat(address_, " completed a handshake without a certificate"));
  }
  const crypto::Certificate cert = crypto::Certificate::FromRaw(peer.get());
  ServedCertificate served;
  served.serial_hex = cert.SerialHex();
  served.subject_cn = cert.SubjectCommonName();
  served.dns_names = cert.DnsNames();
  served.not_after = cert.NotAfter();
  served.leaf_der = cert.ToDer();
  return served;
}

absl::StatusOr<ServedCertificate> ProbeTls(const std::string& address,
                                           const std::string& server_name,
                                           absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto connection = PendingTlsConnection::Open(address, timeout);
  if (!connection.ok()) return connection.status();
  return connection->Handshake(server_name, deadline - absl::Now());
}

absl::StatusOr<ServedCertificate> WaitForTls(const std::string& address,
                                             const std::string& server_name,
                                             absl::Duration timeout,
                                             ServerProcess* server) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::DeadlineExceededError("no probe was made");
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    auto served =
        ProbeTls(address, server_name, std::min(left, absl::Seconds(2)));
    if (served.ok()) return served;
    if (served.status().code() == absl::StatusCode::kInvalidArgument) {
      return served.status();
    }
    last = served.status();
    if (server != nullptr && !server->Running()) {
      return absl::FailedPreconditionError(
          absl::StrCat(server->name(), " exited before serving TLS on ",
                       address, "; log:\n", server->LogTail()));
    }
    if (absl::Now() + absl::Milliseconds(5) >= deadline) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "no TLS handshake with ", address, " after ",
      absl::FormatDuration(timeout), "; last error: ", last.message(),
      server ? absl::StrCat("; ", server->name(), " log:\n", server->LogTail())
             : ""));
}

}  // namespace certfleet::harness
