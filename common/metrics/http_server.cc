#include "common/metrics/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/text_format.h"
#include "common/status_macros.h"
#include "httplib.h"

namespace certfleet::metrics {
namespace {

struct ListenAddress {
  std::string host;  // an IP literal, without brackets
  int port = 0;
  sockaddr_storage sockaddr{};
  socklen_t sockaddr_len = 0;
};

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& listen) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address \"", listen, "\": ", why,
                     " (expected \"IPv4:port\" or \"[IPv6]:port\", e.g. "
                     "\"127.0.0.1:9464\")"));
  };
  ListenAddress address;
  std::string port_text;
  if (!listen.empty() && listen[0] == '[') {
    const size_t close = listen.find("]:");
    if (close == std::string::npos) return invalid("missing \"]:port\"");
    address.host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return invalid("missing \":port\"");
    address.host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
    if (address.host.find(':') != std::string::npos) {
      return invalid("an IPv6 address must be in brackets");
    }
  }
  if (!absl::SimpleAtoi(port_text, &address.port) || address.port < 0 ||
      address.port > 65535) {
    return invalid(absl::StrCat("port \"", port_text, "\" is not 0-65535"));
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.sockaddr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.sockaddr);
  if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(address.port));
    address.sockaddr_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(address.port));
    address.sockaddr_len = sizeof(sockaddr_in6);
  } else {
    return invalid(absl::StrCat("host \"", address.host,
                                "\" is not an IP address literal"));
  }
  return address;
}

// SO_REUSEADDR lets a restarted process bind while old connections sit in
// TIME_WAIT. cpp-httplib's default also sets SO_REUSEPORT, which would let a
// second server bind the same port and silently split the scrapes.
void SetSocketOptions(int fd) {
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

// cpp-httplib reports a failed bind as a bare false. Binding a probe socket
// the same way recovers the system's reason for the error message.
absl::Status DiagnoseBindFailure(const std::string& listen,
                                 const ListenAddress& address) {
  const std::string prefix =
      absl::StrCat("metrics server cannot listen on ", listen);
  const int fd =
      socket(address.sockaddr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat(prefix, ": socket(): ", std::strerror(errno)));
  }
  SetSocketOptions(fd);
  const int rc = bind(fd, reinterpret_cast<const sockaddr*>(&address.sockaddr),
                      address.sockaddr_len);
  const int error = errno;
  close(fd);
  if (rc == 0) {
    return absl::UnavailableError(absl::StrCat(
        prefix, ": bind or listen failed, but the address is free now; retry"));
  }
  const std::string message = absl::StrCat(prefix, ": ", std::strerror(error));
  switch (error) {
    case EADDRINUSE:
      return absl::UnavailableError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, const Registry* registry,
    std::function<absl::Status()> health, std::function<absl::Status()> ready) {
  if (registry == nullptr) {
    return absl::InvalidArgumentError("MetricsServer::Start: registry is null");
  }
  ASSIGN_OR_RETURN(ListenAddress address, ParseListenAddress(listen));

  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] {
    return new httplib::ThreadPool(kWorkerThreads);
  };
  server->set_socket_options(SetSocketOptions);
  // One request per connection: a scrape every few seconds gains nothing
  // from keep-alive, and an idle kept-alive connection would hold one of
  // the two workers (and Stop()) for the keep-alive timeout.
  server->set_keep_alive_max_count(1);
  server->set_keep_alive_timeout(2);  // wait for the first request byte
  server->set_read_timeout(5);
  server->set_write_timeout(5);
  server->set_payload_max_length(64 * 1024);

  server->Get("/metrics", [registry](const httplib::Request&,
                                     httplib::Response& response) {
    response.set_content(registry->Render(), kTextFormatContentType);
  });
  // 200 "ok", or 503 with the check's message.
  auto check = [](std::function<absl::Status()> fn) {
    return [fn = std::move(fn)](const httplib::Request&,
                                httplib::Response& response) {
      const absl::Status status = fn ? fn() : absl::OkStatus();
      if (status.ok()) {
        response.set_content("ok", "text/plain; charset=utf-8");
      } else {
        response.status = 503;
        response.set_content(std::string(status.message()),
                             "text/plain; charset=utf-8");
      }
    };
  };
  server->Get("/healthz", check(std::move(health)));
  server->Get("/readyz", check(std::move(ready)));

  // AI_NUMERICHOST: the host is a literal; never ask a resolver.
  int port = address.port;
  if (port == 0) {
    port = server->bind_to_any_port(address.host, AI_NUMERICHOST);
    if (port < 0) return DiagnoseBindFailure(listen, address);
  } else if (!server->bind_to_port(address.host, port, AI_NUMERICHOST)) {
    return DiagnoseBindFailure(listen, address);
  }

  std::unique_ptr<MetricsServer> result(
      new MetricsServer(std::move(server), port));
  auto listen_returned = std::make_shared<std::atomic<bool>>(false);
  httplib::Server* raw = result->server_.get();
  result->thread_ = std::thread([raw, listen_returned] {
    // cpp-httplib 0.11 writes without MSG_NOSIGNAL; a scraper hanging up
    // mid-response would raise SIGPIPE and kill the process. Blocking it
    // here also blocks it in the workers, which this thread creates.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    raw->listen_after_bind();
    listen_returned->store(true);
  });
  // httplib's stop() is a no-op until the accept loop is running; wait for
  // it so that Stop() right after Start() cannot hang.
  while (!raw->is_running() && !listen_returned->load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!raw->is_running()) {
    result->Stop();
    return absl::UnavailableError(absl::StrCat(
        "metrics server on ", listen, ": the accept loop ended at once"));
  }
  return result;
}

MetricsServer::MetricsServer(std::unique_ptr<httplib::Server> server, int port)
    : server_(std::move(server)), port_(port) {}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() {
  absl::MutexLock lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace certfleet::metrics
