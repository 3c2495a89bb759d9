// FetchServedSerial (declared in health_checker.h): a TLS handshake over a
// non-blocking socket, bounded by the context's deadline.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "agent/install/health_checker.h"
#include "common/crypto/certificate.h"
#include "common/yaml/addresses.h"

namespace certfleet::agent {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL, SSL_free>>;

constexpr absl::Duration kPollSlice = absl::Milliseconds(50);

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// Waits until `fd` is ready for `events`, the deadline passes or the context
// is cancelled.
absl::Status WaitFor(int fd, short events, const Context& ctx,
                     absl::string_view what) {
  while (true) {
    if (ctx.IsCancelled()) return absl::CancelledError(what);
    const absl::Duration left = ctx.deadline() - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::UnavailableError(absl::StrCat(what, ": timed out"));
    }
    pollfd p{.fd = fd, .events = events, .revents = 0};
    const int ms = static_cast<int>(
        absl::ToInt64Milliseconds(std::min(left, kPollSlice)) + 1);
    const int n = poll(&p, 1, ms);
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) {
      return absl::UnavailableError(
          absl::StrCat(what, ": poll: ", strerror(errno)));
    }
  }
}

absl::StatusOr<int> Connect(const yaml::IpPort& endpoint, const Context& ctx) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (endpoint.is_v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(endpoint.port));
    inet_pton(AF_INET6, endpoint.ip.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(endpoint.port));
    inet_pton(AF_INET, endpoint.ip.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  const int fd =
      socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  absl::Cleanup closer = [fd] { close(fd); };
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(absl::StrCat("connect: ", strerror(errno)));
    }
    if (absl::Status s = WaitFor(fd, POLLOUT, ctx, "connect"); !s.ok())
      return s;
    int err = 0;
    socklen_t err_len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) {
      return absl::UnavailableError(absl::StrCat("connect: ", strerror(err)));
    }
  }
  std::move(closer).Cancel();
  return fd;
}

}  // namespace

absl::StatusOr<std::string> FetchServedSerial(const std::string& address,
                                              const std::string& server_name,
                                              const Context& ctx) {
  absl::StatusOr<yaml::IpPort> endpoint =
      yaml::ParseIpPort(address, std::nullopt);
  if (!endpoint.ok()) return endpoint.status();
  absl::StatusOr<int> fd = Connect(*endpoint, ctx);
  if (!fd.ok()) return fd.status();
  absl::Cleanup closer = [&fd] { close(*fd); };

  ERR_clear_error();
  SslCtxPtr ssl_ctx(SSL_CTX_new(TLS_client_method()));
  if (!ssl_ctx) return absl::InternalError("SSL_CTX_new: " + OpenSslErrors());
  // Only which certificate is served matters here, not whether we trust it.
  SSL_CTX_set_verify(ssl_ctx.get(), SSL_VERIFY_NONE, nullptr);
  SslPtr ssl(SSL_new(ssl_ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), *fd) != 1) {
    return absl::InternalError("SSL_new: " + OpenSslErrors());
  }
  if (!server_name.empty() &&
      SSL_set_tlsext_host_name(ssl.get(), server_name.c_str()) != 1) {
    return absl::InternalError("SNI: " + OpenSslErrors());
  }
  while (true) {
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    const int err = SSL_get_error(ssl.get(), rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      absl::Status s = WaitFor(
          *fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, ctx, "handshake");
      if (!s.ok()) return s;
      continue;
    }
    std::string detail = OpenSslErrors();
    if (detail.empty()) {
      detail = err == SSL_ERROR_SYSCALL && errno != 0
                   ? strerror(errno)
                   : "connection closed by the server";
    }
    return absl::UnavailableError(absl::StrCat("handshake: ", detail));
  }
  X509* peer = SSL_get1_peer_certificate(ssl.get());
  if (peer == nullptr) {
    return absl::UnavailableError("handshake: the server sent no certificate");
  }
  const crypto::Certificate leaf = crypto::Certificate::FromRaw(peer);
  X509_free(peer);  // FromRaw took its own reference
  // No close_notify: nothing was exchanged that it would protect.
  return leaf.SerialHex();
}

}  // namespace certfleet::agent
