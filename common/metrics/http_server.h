// The HTTP endpoint Prometheus scrapes: GET /metrics renders a Registry,
// GET /healthz runs a health check (200 "ok" or 503 with its message): is
// the process alive (liveness); GET /readyz runs a readiness check the same
// way: should it get work now (a replica cut off from its store is alive
// but not ready); everything else is 404. Lives in its own library,
// certfleet_metrics_http (the only part that links cpp-httplib), so a binary
// can keep a Registry without serving it.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<metrics::MetricsServer> server,
//                    metrics::MetricsServer::Start("127.0.0.1:9464", &registry,
//                                                  [&] { return Health(); }));
//   CF_LOG_INFO("metrics on port %d", server->port());
//   ...
//   server->Stop();  // or let the destructor do it
#ifndef CERTFLEET_COMMON_METRICS_HTTP_SERVER_H_
#define CERTFLEET_COMMON_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/registry.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace certfleet::metrics {

// Serves one registry over HTTP/1.1 on one thread that accepts connections
// and a pool of kWorkerThreads that answer them.
class MetricsServer {
 public:
  // Threads answering requests (the accepting thread comes on top).
  static constexpr int kWorkerThreads = 2;

  // Binds `listen` ("host:port"; host an IPv4 literal or a bracketed IPv6
  // literal such as "[::1]:9464", never a name, so no resolver is consulted;
  // port 0 picks a free port, see port()) and starts serving.
  //
  // `registry` must outlive the server. `health` (optional; nullptr means
  // always healthy) runs on a worker thread for each GET /healthz, possibly
  // on two threads at once, so it must be thread-safe and quick.
  //
  // Errors: kInvalidArgument for a malformed address or a null registry;
  // kUnavailable when the address is in use (another process, or a
  // previous instance still exiting: retrying may succeed);
  // kPermissionDenied for a privileged port; kFailedPrecondition for other
  // bind failures (e.g. an address not on this host). Messages name the
  // address and the system's reason.
  // `ready` (optional, the same rules) runs for each GET /readyz.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, const Registry* registry,
      std::function<absl::Status()> health = nullptr,
      std::function<absl::Status()> ready = nullptr);

  // Stops serving (see Stop()).
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (the chosen one when Start was given port 0).
  int port() const { return port_; }

  // Closes the listening socket, then waits for requests in progress; an
  // idle client connection is dropped within about two seconds. Safe to call
  // more than once and from any thread but a request handler.
  void Stop();

 private:
  MetricsServer(std::unique_ptr<httplib::Server> server, int port);

  std::unique_ptr<httplib::Server> server_;
  const int port_;
  std::thread thread_;
  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace certfleet::metrics

#endif  // CERTFLEET_COMMON_METRICS_HTTP_SERVER_H_
