// The coordinator's side of the agent channel for tests, assembled the way
// Coordinator::StartAgentService assembles it (internal CA, bootstrap
// tokens, enrollment, assignments, hub) over an in-memory store that also
// logs every target state written, plus recorders for what the hub reports
// and a helper that stores certificate versions issued by a test CA.
//
//   FakeClock clock(absl::Now());
//   CoordinatorParts c(clock, {WebCertificate()});
//   StoredVersion v1 = c.AddVersion("web", "1a01", absl::Now());
//   c.hub->NotifyVersion("web");
//   ASSERT_OK(WaitFor("a bundle sent",
//                     [&] { return c.observer.bundles_sent() == 1; }));
#ifndef CERTFLEET_TESTS_DELIVERY_COORDINATOR_PARTS_H_
#define CERTFLEET_TESTS_DELIVERY_COORDINATOR_PARTS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "certfleet/v1/agent.pb.h"
#include "common/clock.h"
#include "common/crypto/kek.h"
#include "coordinator/config/config.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/identity/enrollment.h"
#include "coordinator/identity/internal_ca.h"
#include "coordinator/identity/tokens.h"
#include "coordinator/store/memory_store.h"
#include "tests/crypto/test_certs.h"

namespace certfleet::delivery::testing {

// An InMemoryStore that also keeps every target state written, in order:
// lets a test find the write of one particular message (an inventory after
// a delivery result) without racing the hub's writer. A batch of writes
// (PutTargetStates, PutDesiredVersions, RecordLastSeen) waits once, as a
// backend with transactions makes one round trip per batch.
class RecordingStore : public store::InMemoryStore {
 public:
  absl::Status PutTargetState(const store::TargetStateRecord& state) override;
  std::vector<absl::Status> PutTargetStates(
      const std::vector<store::TargetStateRecord>& states) override;
  std::vector<absl::Status> PutDesiredVersions(
      const std::vector<store::TargetStateRecord>& desired) override;
  std::vector<absl::Status> RecordLastSeen(
      const std::vector<store::LastSeen>& seen) override;
  absl::StatusOr<std::optional<store::AgentRecord>> GetAgent(
      const std::string& id) override;
  std::vector<store::TargetStateRecord> target_state_writes() const;
  // The stored state of (agent, target), if any.
  std::optional<store::TargetStateRecord> TargetState(
      const std::string& agent_id, const std::string& target);
  // While a kind of call is held, its calls wait (the thread making them
  // stalls, as in a store that hangs): target-state writes (the hub's
  // writer), desired-version writes (the writer too), agent reads (the hub
  // thread, attaching a stream). Release lets every waiting and later call
  // through.
  enum class Held { kTargetStateWrites, kDesiredVersionWrites, kAgentReads };
  void Hold(Held what);
  void Release(Held what);
  // Calls of `what` waiting now.
  int waiting(Held what) const;
  void HoldTargetStateWrites() { Hold(Held::kTargetStateWrites); }
  void ReleaseTargetStateWrites() { Release(Held::kTargetStateWrites); }
  int held_writes() const { return waiting(Held::kTargetStateWrites); }

  // What the etcd store's leadership fence does to a deposed leader: while
  // refused, SaveRollout and PutDesiredVersion (setting a version) fail with
  // kFailedPrecondition and change nothing.
  absl::StatusOr<int64_t> SaveRollout(
      const store::RolloutRecord& rollout) override;
  absl::Status PutDesiredVersion(const std::string& agent_id,
                                 const std::string& target,
                                 const std::string& certificate,
                                 const std::string& version_id) override;
  void RefuseRolloutSaves(bool refuse);
  void RefuseDesiredVersions(bool refuse);
  // The next `n` GetVersion calls fail with kUnavailable (etcd unreachable
  // for a moment).
  absl::StatusOr<std::optional<store::VersionRecord>> GetVersion(
      const std::string& cert_name, int64_t version) override;
  void FailVersionReads(int n);
  // From now on each write the hub makes (PutTargetState,
  // PutDesiredVersion, UpdateAgent) first waits `delay`: a store that is
  // far away or under load. Calls on several threads wait side by side.
  void SlowWrites(absl::Duration delay);
  absl::StatusOr<store::AgentRecord> UpdateAgent(
      const std::string& id,
      const std::function<absl::Status(store::AgentRecord&)>& mutate) override;

 private:
  // Waits as SlowWrites says (no lock held).
  void SlowDown() const;
  // Waits while `what` is held.
  void WaitIfHeld(Held what);
  // kFailedPrecondition when desired versions are refused and `version_id`
  // sets one.
  absl::Status RefusedDesired(const std::string& version_id) const;

  mutable absl::Mutex mu_;
  std::vector<store::TargetStateRecord> writes_ ABSL_GUARDED_BY(mu_);
  bool held_[3] ABSL_GUARDED_BY(mu_) = {false, false, false};
  int waiting_[3] ABSL_GUARDED_BY(mu_) = {0, 0, 0};
  bool refuse_saves_ ABSL_GUARDED_BY(mu_) = false;
  bool refuse_desired_ ABSL_GUARDED_BY(mu_) = false;
  int failing_version_reads_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration write_delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

// Records what the hub reports (called on the hub thread).
class RecordingHubObserver : public HubObserver {
 public:
  void OnConnectedAgents(size_t count) override;
  void OnBundleSent(const std::string& target) override;
  void OnDeliveryResult(const v1::DeliveryResult& result) override;
  void OnIdentityRefused(absl::string_view call,
                         absl::string_view reason) override;
  void OnReportDropped(absl::string_view reason) override;
  void OnRefused(absl::string_view limit) override;
  void OnAgentProblem(absl::string_view kind) override;

  void OnMessageHeldBack() override;
  void OnStreamAbandoned() override;

  int bundles_sent() const;
  // Messages whose stream was held back while store writes drained.
  int held_back() const;
  // Attaches skipped because their stream had ended.
  int streams_abandoned() const;
  std::vector<v1::DeliveryResult> results() const;
  // "<call>/<reason>" of each refused identity, in order.
  std::vector<std::string> refusals() const;
  // How often each reason, limit, kind was reported.
  std::map<std::string, int> dropped() const;
  std::map<std::string, int> refused() const;
  std::map<std::string, int> problems() const;

 private:
  mutable absl::Mutex mu_;
  int bundles_sent_ ABSL_GUARDED_BY(mu_) = 0;
  int held_back_ ABSL_GUARDED_BY(mu_) = 0;
  int abandoned_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::DeliveryResult> results_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> refusals_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> dropped_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> refused_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> problems_ ABSL_GUARDED_BY(mu_);
};

// A version as stored, with its plaintext key (what a bundle must carry).
struct StoredVersion {
  int64_t version = 0;
  std::string version_id;  // "<certificate>/<version>"
  std::string serial;      // lower-case hex
  std::string leaf_pem, chain_pem, key_pem;
  absl::Time not_after;
};

// The identity serial of the agents PutAgent stores: their streams attach
// with it (AgentHub::Attach admits only an agent's current serial).
inline constexpr char kTestIdentitySerial[] = "7e57";

// Certificate "web" for www.example.test, delivered to target "www" of
// agents labelled role=web.
config::CertificateConfig WebCertificate();

// The issuer of every stored version: a test CA shared by the binary.
const crypto::testing::TestCa& VersionIssuer();

class CoordinatorParts {
 public:
  // Aborts the test binary when the internal CA cannot be created.
  CoordinatorParts(Clock& clock, std::vector<config::CertificateConfig> certs,
                   absl::Duration identity_lifetime = absl::Hours(24),
                   const AgentLimits& limits = AgentLimits());
  ~CoordinatorParts();

  // Stores a new version of `certificate` (leaf for www.example.test,
  // serial `serial_hex`, valid from now-1h to now+30d; key sealed as the
  // issuance module seals it). Aborts on failure.
  StoredVersion AddVersion(const std::string& certificate,
                           const std::string& serial_hex, absl::Time now);
  // Replaces the hub with a fresh one over the same store (a restarted
  // coordinator), with `limits`.
  void RestartHub();
  void RestartHub(const AgentLimits& limits);
  // A bootstrap token granting `labels`, valid for an hour. Aborts on failure.
  std::string NewToken(const std::map<std::string, std::string>& labels);
  // Puts an enrolled agent record straight into the store (identity serial
  // kTestIdentitySerial).
  void PutAgent(const std::string& id,
                const std::map<std::string, std::string>& labels);
  // An identity of `agent_id` signed by the internal CA (as enrollment or a
  // renewal signs it), valid for an hour, and recorded as the current
  // identity of the agent when it is enrolled already (PutAgent first).
  // Aborts on failure.
  struct AgentIdentity {
    std::string key_pem, cert_pem;
  };
  AgentIdentity IdentityFor(const std::string& agent_id);

  Clock& clock;
  RecordingStore store;
  const crypto::Kek kek;
  std::unique_ptr<identity::InternalCa> ca;
  identity::BootstrapTokens tokens;
  std::unique_ptr<identity::EnrollmentService> enrollment;
  const std::vector<config::CertificateConfig> certificates;
  delivery::Assignments assignments;
  RecordingHubObserver observer;
  AgentLimits limits;  // the hub's
  std::unique_ptr<AgentHub> hub;
};

}  // namespace certfleet::delivery::testing

#endif  // CERTFLEET_TESTS_DELIVERY_COORDINATOR_PARTS_H_
