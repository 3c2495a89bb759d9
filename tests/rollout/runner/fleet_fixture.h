// A fleet of fake agents for rollout tests: 12 agents labelled role=web in
// pools p0, p1, p2 (4 each), each with one target "www", connected to the
// real AgentHub through fake streams; the coordinator parts of
// tests/agentapi underneath (in-memory store, test CA, hub) and a manual
// fake clock, so time moves only when the test advances it.
//
//   RolloutFleet f;                       // 12 agents, attached, inventoried
//   f.AddVersion();                       // web/1
//   ASSERT_OK(f.runner->OnVersionStored("web", 1));
//   f.AckAll("web/1");                    // every agent installs it
#ifndef CERTFLEET_TESTS_ROLLOUT_RUNNER_FLEET_FIXTURE_H_
#define CERTFLEET_TESTS_ROLLOUT_RUNNER_FLEET_FIXTURE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "certfleet/v1/agent.pb.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/rollout/runner/rollout_runner.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/testing/fake_clock.h"

namespace certfleet::rollout::testing {

// One agent's stream as the hub sees it; records what was sent, and how
// the hub closed it.
class FakeChannel : public delivery::AgentChannel {
 public:
  void Send(const v1::CoordinatorMessage& message) override;
  void Close(const absl::Status& why) override;
  std::vector<v1::DesiredBundle> bundles() const;
  // The status the hub closed the stream with; nullopt while open.
  std::optional<absl::Status> closed() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::DesiredBundle> bundles_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> closed_ ABSL_GUARDED_BY(mu_);
};

// waves [1, 50%, 100%], pools by label "pool", max_unavailable 100% (waves
// are not split by it), bake 5 min, health timeout 10 min, threshold 1.
rollout::RolloutPolicy TestPolicy();

class RolloutFleet {
 public:
  static constexpr int kAgents = 12;

  // `stale_after`: agents.stale_after of the runner (InfiniteDuration:
  // nobody is ever stale). The fake clock starts at `start` (the real time
  // when the fleet also talks TLS: certificates are checked against the
  // real clock).
  explicit RolloutFleet(
      absl::Duration stale_after = absl::InfiniteDuration(),
      absl::Time start = absl::FromUnixSeconds(1'800'000'000));
  explicit RolloutFleet(absl::Time start)
      : RolloutFleet(absl::InfiniteDuration(), start) {}
  ~RolloutFleet();

  // "agt-0000000000" + two digits; pool "p" + (i % 3).
  static std::string AgentId(int i);

  // Stores the next version of "web" (serials 1a01, 1a02, …).
  void AddVersion();
  // Connects agent `i` on a new stream and reports its inventory: target
  // "www" serving `serving` ("" = nothing), healthy when serving; with
  // `rolled_back` set, also that an install of that version was interrupted
  // and rolled back by the agent's crash recovery (TargetState.last_failure).
  void Connect(int i, const std::string& serving,
               const std::string& rolled_back = "");
  // Ends agent `i`'s stream.
  void Disconnect(int i);
  // Agent `i` answers the last bundle it got: installed (and healthy) or
  // rejected at the reload step (rolled back).
  void Ack(int i);
  void Reject(int i, const std::string& error);
  // Every agent whose last bundle is `version_id` acknowledges it.
  void AckAll(const std::string& version_id);
  // Agents whose stream received a bundle of `version_id` (any time on the
  // current stream), in index order.
  std::vector<int> Received(const std::string& version_id) const;
  // Number of bundles agent `i`'s current stream got.
  int BundleCount(int i) const;
  std::string LastBundle(int i) const;
  // The runner's next step, then the hub's work.
  void Step();
  // Replaces the hub and the runner (a coordinator restart): every stream
  // is gone; the new runner has Resumed; no agent is connected.
  void Restart();
  // The audit actions, oldest first.
  std::vector<std::string> AuditActions();
  // The one stored rollout of "web" that is unfinished (fails the test if
  // there is none).
  store::RolloutRecord Active();

  const absl::Duration stale_after;
  ::certfleet::testing::FakeClock clock;
  delivery::testing::CoordinatorParts parts;
  std::unique_ptr<RolloutRunner> runner;
  std::vector<std::shared_ptr<FakeChannel>> channels;
  int next_serial = 1;
};

}  // namespace certfleet::rollout::testing

#endif  // CERTFLEET_TESTS_ROLLOUT_RUNNER_FLEET_FIXTURE_H_
