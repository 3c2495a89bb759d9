// Simulated agents for the fan-out benchmark: thousands of AgentService
// streams from one process, each on its own mTLS connection with its own
// identity from the coordinator's internal CA, speaking the protocol the
// way certfleet-agent does (proto/certfleet/v1/agent.proto): Hello, then an
// Inventory with one target "site"; every DesiredBundle is answered at once
// with an ok DeliveryResult (echoing target, version and nonce) followed by
// an Inventory that reports the version installed — without touching disk.
//
// Streams are opened through gRPC's callback API; at most
// `max_connecting` wait for their Welcome at a time, so the coordinator's
// TLS handshakes are paced rather than all started at once.
//
//   SimAgentPool pool({.address = "127.0.0.1:7443", .ca_pem = ca,
//                      .identities = ReadIdentities(path)});
//   pool.Start();
//   pool.WaitConnected(absl::Minutes(2));
//   ... pool.results_sent() ...
#ifndef CERTFLEET_BENCH_SIM_AGENTS_H_
#define CERTFLEET_BENCH_SIM_AGENTS_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace certfleet::bench {

struct SimIdentity {
  std::string key_pem;
  std::string cert_pem;
};

// The identities file the benchmark writes: for each agent its key PEM
// followed by its certificate PEM. kInvalidArgument when the blocks do not
// pair up.
absl::StatusOr<std::vector<SimIdentity>> ParseIdentities(
    const std::string& text);
// The inverse, for the benchmark.
std::string FormatIdentities(const std::vector<SimIdentity>& identities);

struct SimAgentOptions {
  std::string address;  // the coordinator's agent service
  std::string ca_pem;   // its internal CA
  std::vector<SimIdentity> identities;
  int max_connecting = 256;
  // The one target every agent declares.
  std::string target = "site";
};

class SimAgentPool {
 public:
  explicit SimAgentPool(SimAgentOptions options);
  ~SimAgentPool();

  // Opens every stream (returns at once; a thread paces the opening).
  void Start();
  // Waits until every stream got its Welcome, or one ended, or `timeout`.
  absl::Status WaitConnected(absl::Duration timeout);

  size_t welcomed() const { return welcomed_.load(); }
  size_t results_sent() const { return results_.load(); }
  size_t ended() const { return ended_.load(); }
  std::string first_error();
  // Bundles of `version_id` received, over all streams, and when the last
  // of them came (InfinitePast before the first).
  size_t received(const std::string& version_id);
  absl::Time last_received_at(const std::string& version_id);
  // The longest any welcomed stream went without a message from the
  // coordinator (heartbeats included), up to now.
  absl::Duration LongestSilence();

  class Stream;  // one agent's stream (sim_agents.cc)

 private:
  friend class Stream;
  void OnWelcome();
  void OnResult() { results_.fetch_add(1); }
  void OnBundle(const std::string& version_id);
  // `welcomed`: whether the stream had got its Welcome (else it still
  // held a connecting slot).
  void OnEnded(bool welcomed, const std::string& why);

  const SimAgentOptions options_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::thread opener_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> welcomed_{0};
  std::atomic<size_t> results_{0};
  std::atomic<size_t> ended_{0};
  absl::Mutex mu_;
  int connecting_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
  struct Received {
    size_t count = 0;
    absl::Time last = absl::InfinitePast();
  };
  std::map<std::string, Received> received_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_SIM_AGENTS_H_
