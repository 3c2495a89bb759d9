// The coordinator side of the agent benchmarks, in the benchmark's own
// process so that the process's RSS is the coordinator's: a SQLite store in
// a temporary directory, a KEK, the internal CA, bootstrap tokens,
// enrollment, one certificate ("bench-site") assigned to the target "site"
// of every agent, the AgentHub with an observer that counts delivery
// results per version, and the AgentServer on 127.0.0.1:0 — wired as
// coordinator/app's StartAgentService wires them.
//
// PublishVersion() stores a new version of the certificate (a fresh key
// sealed with the KEK, a leaf and intermediate from a test CA valid by the
// real clock) and calls hub.NotifyVersion: what the order runner does after
// an issuance.
//
//   ASSIGN_OR_RETURN(auto coord, FleetCoordinator::Start(dir));
//   ASSIGN_OR_RETURN(std::string token, coord->CreateToken());
//   ... agents enroll with `token` against coord->address() and connect ...
//   ASSIGN_OR_RETURN(FleetCoordinator::Published v, coord->PublishVersion());
//   ASSIGN_OR_RETURN(absl::Time last,
//                    coord->WaitForOk(v.version_id, n, absl::Seconds(60)));
//   absl::Duration fan_out = last - v.notified_at;
#ifndef CERTFLEET_BENCH_FLEET_COORDINATOR_H_
#define CERTFLEET_BENCH_FLEET_COORDINATOR_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/direct_enrollment.h"
#include "coordinator/agentapi/agent_server.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/store/sqlite_store.h"
#include "tests/crypto/test_certs.h"

namespace certfleet::bench {

// The certificate every agent's target is assigned.
inline constexpr char kBenchCertificate[] = "bench-site";
// The one target each agent declares.
inline constexpr char kBenchTarget[] = "site";

class FleetCoordinator {
 public:
  // Everything lives under `dir` (store, KEK). Errors: the store's, the
  // internal CA's, or kUnavailable when the server cannot listen.
  static absl::StatusOr<std::unique_ptr<FleetCoordinator>> Start(
      const std::string& dir);
  ~FleetCoordinator();

  // "127.0.0.1:<port>" of the agent service.
  std::string address() const;
  // The internal CA (agents' coordinator_ca).
  const std::string& ca_pem() const { return direct_->ca_pem(); }

  // A bootstrap token (no labels, valid for a day).
  absl::StatusOr<std::string> CreateToken();

  // Enrolls an agent without gRPC (bench/direct_enrollment.h): for
  // simulated agents.
  using Identity = DirectEnrollment::Identity;
  absl::StatusOr<Identity> EnrollDirect(const std::string& hostname) {
    return direct_->Enroll(hostname);
  }

  struct Published {
    std::string version_id;  // "bench-site/<n>"
    absl::Time notified_at;  // just before hub.NotifyVersion
  };
  // Stores the next version and notifies the hub.
  absl::StatusOr<Published> PublishVersion();

  // Waits until `n` ok results for `version_id` have arrived; returns when
  // the n-th arrived (by the hub thread's clock reading). kDeadlineExceeded
  // naming how many ok and failed results came otherwise.
  absl::StatusOr<absl::Time> WaitForOk(const std::string& version_id, size_t n,
                                       absl::Duration timeout);
  // Failed (rejected) results for `version_id` so far, and the first error.
  size_t Failed(const std::string& version_id, std::string* first_error);

  // Waits until `n` agents hold a stream (hub's count).
  absl::Status WaitConnected(size_t n, absl::Duration timeout);
  size_t connected() const { return hub_->connected(); }

 private:
  // Counts results per version on the hub thread.
  class Counter : public delivery::HubObserver {
   public:
    void OnConnectedAgents(size_t) override {}
    void OnBundleSent(const std::string&) override {}
    void OnDeliveryResult(const v1::DeliveryResult& result) override;

    struct Tally {
      size_t ok = 0;
      size_t failed = 0;
      absl::Time last_ok = absl::InfinitePast();
      std::string first_error;
    };
    absl::Mutex mu;
    std::map<std::string, Tally> by_version ABSL_GUARDED_BY(mu);
  };

  FleetCoordinator() = default;

  std::unique_ptr<store::SqliteStore> store_;
  // The KEK, the internal CA, tokens and enrollment on store_.
  std::unique_ptr<DirectEnrollment> direct_;
  std::unique_ptr<delivery::Assignments> assignments_;
  Counter counter_;
  std::unique_ptr<delivery::AgentHub> hub_;
  std::unique_ptr<agentapi::AgentServer> server_;
  std::optional<crypto::testing::TestCa> test_ca_;
};

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_FLEET_COORDINATOR_H_
