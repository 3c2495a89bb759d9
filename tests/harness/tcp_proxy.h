// A TCP proxy on loopback for partition tests: forwards every connection
// to a target, until the test cuts it off. Cut() simulates a network
// partition — open connections go silent (nothing is forwarded, nothing is
// closed, as when packets are dropped) and new connections are accepted and
// left hanging — so a client sees timeouts, not refusals. Heal() forwards
// again (new connections only; the silenced ones stay dead).
//
//   ASSIGN_OR_RETURN(auto proxy, TcpProxy::Start("127.0.0.1:2379"));
//   client_options.endpoints = {proxy->address()};
//   proxy->Cut();    // the client can no longer reach etcd
//   proxy->Heal();
#ifndef CERTFLEET_TESTS_HARNESS_TCP_PROXY_H_
#define CERTFLEET_TESTS_HARNESS_TCP_PROXY_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace certfleet::harness {

class TcpProxy {
 public:
  // Listens on 127.0.0.1:<free port> and forwards to `target`
  // ("127.0.0.1:P").
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(
      const std::string& target);
  // Closes everything.
  ~TcpProxy();

  std::string address() const;
  void Cut() { cut_ = true; }
  void Heal() { cut_ = false; }

 private:
  TcpProxy() = default;
  void Loop();

  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};
  int port_ = 0;
  std::string target_host_;
  int target_port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace certfleet::harness

#endif  // CERTFLEET_TESTS_HARNESS_TCP_PROXY_H_
