// Simulated agents for the fan-out and reconnection benchmarks: thousands
// of AgentService streams from one process, each on its own mTLS
// connection with its own identity from the coordinator's internal CA,
// speaking the protocol the way certfleet-agent does
// (proto/certfleet/v1/agent.proto): Hello, then an Inventory with one
// target "site" (reporting the version it last installed); every
// DesiredBundle is answered at once with an ok DeliveryResult (echoing
// target, version and nonce) followed by an Inventory that reports the
// version installed — without touching disk.
//
// Streams are opened through gRPC's callback API; at most
// `max_connecting` of the first streams wait for their Welcome at a time,
// so the coordinator's TLS handshakes are paced rather than all started at
// once.
//
// With `reconnect`, each simulated agent also behaves as certfleet-agent's
// session does when its stream ends (agent/client/session.cc): it waits
// its backoff (1 s doubling to 60 s, jitter 0.5, reset after a stream that
// lived a minute) and dials again on a new connection; a stream with no
// Welcome within `welcome_timeout`, or silent for three heartbeat
// intervals after it, is cancelled. Reconnections are not paced: that is
// the storm a restarted coordinator sees.
//
//   SimAgentPool pool({.address = "127.0.0.1:7443", .ca_pem = ca,
//                      .identities = ReadIdentities(path)});
//   pool.Start();
//   pool.WaitConnected(absl::Minutes(2));
//   ... pool.results_sent() ...
#ifndef CERTFLEET_BENCH_SIM_AGENTS_H_
#define CERTFLEET_BENCH_SIM_AGENTS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/backoff.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

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
  // Reconnect after a stream ends, as certfleet-agent does (above); false:
  // an ended stream stays ended.
  bool reconnect = false;
  // certfleet-agent's defaults (agent/config: reconnect_initial,
  // reconnect_max; agent/main.cc: jitter 0.5).
  BackoffPolicy reconnect_backoff = {
      .initial = absl::Seconds(1), .max = absl::Seconds(60), .jitter = 0.5};
  // agent/client/session.h SessionOptions::welcome_timeout.
  absl::Duration welcome_timeout = absl::Seconds(10);
  // Threads that open streams. One opens ~140 a second here (a channel and
  // its first calls each); on this 2-core machine shared with the
  // coordinator, 4 starved the load generator's own gRPC threads, so its
  // agents missed heartbeats and gave up streams the coordinator served
  // (docs/benchmarks.md, "Reconnect storm").
  int dialers = 1;
};

class SimAgentPool {
 public:
  explicit SimAgentPool(SimAgentOptions options);
  ~SimAgentPool();

  // Opens every stream (returns at once; a thread paces the opening).
  void Start();
  // Waits until every agent holds a welcomed stream, or (without
  // `reconnect`) one ended, or `timeout`.
  absl::Status WaitConnected(absl::Duration timeout);

  // Agents holding a welcomed stream now.
  size_t connected() const { return connected_.load(); }
  // When connected() last reached the number of agents (InfinitePast
  // before).
  absl::Time all_connected_at();
  // Welcomes, stream attempts and ended streams since the start.
  size_t welcomed() const { return welcomed_.load(); }
  size_t attempts() const { return attempts_.load(); }
  size_t results_sent() const { return results_.load(); }
  // When the last DeliveryResult was queued (InfinitePast before the
  // first): what a fan-out's end is, as the agents see it.
  absl::Time last_result_at() const;
  size_t ended() const { return ended_.load(); }
  // Streams this pool cancelled: no Welcome within welcome_timeout, or
  // silent for three heartbeat intervals.
  size_t gave_up() const { return gave_up_.load(); }
  std::string first_error();
  // Bundles of `version_id` received, over all streams, and when the last
  // of them came (InfinitePast before the first).
  size_t received(const std::string& version_id);
  absl::Time last_received_at(const std::string& version_id);
  // The longest any welcomed stream went without a message from the
  // coordinator (heartbeats included), up to now.
  absl::Duration LongestSilence();

  class Stream;  // one stream of one agent (sim_agents.cc)

 private:
  friend class Stream;
  // One simulated agent: its identity, what it installed, its backoff, its
  // channel credentials (made once: certfleet-agent makes them at every
  // dial, but on its own host) and its current stream (replaced, by a
  // dialer, at a reconnection; shared so that the timer can cancel one
  // that a dialer is replacing).
  struct Agent {
    size_t index = 0;
    std::string installed;  // touched only by its current stream
    std::shared_ptr<Stream> stream;
    Backoff backoff;
    std::shared_ptr<grpc::ChannelCredentials> credentials;  // dialers only
  };
  struct Due {
    absl::Time at;
    size_t agent;
    bool operator>(const Due& o) const { return at > o.at; }
  };

  void OnWelcome(bool paced);
  void OnResult();
  void OnBundle(const std::string& version_id);
  // `welcomed`: whether the stream had got its Welcome; `paced`: whether
  // it held one of the opener's connecting slots; `lived`: how long it was
  // open.
  void OnEnded(size_t agent, bool welcomed, bool paced, absl::Duration lived,
               const std::string& why);
  // Opens a new stream for `agent` (the previous one, if any, is done).
  void Dial(size_t agent, bool paced);
  // A dialer thread: dials what the opener and the timer queue.
  void Dialer();
  // The reconnection thread: dials agents whose backoff ran out, and
  // cancels streams that waited too long for a Welcome or went silent.
  void Timer();

  const SimAgentOptions options_;
  std::vector<Agent> agents_;
  std::thread opener_;
  std::thread timer_;
  std::vector<std::thread> dialers_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> connected_{0};
  std::atomic<size_t> welcomed_{0};
  std::atomic<size_t> attempts_{0};
  std::atomic<size_t> results_{0};
  std::atomic<int64_t> last_result_us_{0};  // Unix microseconds; 0: none
  std::atomic<size_t> ended_{0};
  std::atomic<size_t> gave_up_{0};
  absl::Mutex mu_;
  int connecting_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time all_connected_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string first_error_ ABSL_GUARDED_BY(mu_);
  struct Received {
    size_t count = 0;
    absl::Time last = absl::InfinitePast();
  };
  std::map<std::string, Received> received_ ABSL_GUARDED_BY(mu_);
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_
      ABSL_GUARDED_BY(mu_);
  // Agents to dial now, and whether each holds an opener's slot.
  std::deque<std::pair<size_t, bool>> to_dial_ ABSL_GUARDED_BY(mu_);
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_SIM_AGENTS_H_
