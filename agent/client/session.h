// The agent's connection to its coordinators: one long-lived stream, tried
// on each configured coordinator in turn and reopened with exponential
// backoff and jitter after any failure. While no coordinator can be reached
// nothing on the host changes. On every (re)connection the agent first
// says what it serves (Inventory); then it installs the bundles it is sent,
// one at a time on a worker thread, and answers each with a
// DeliveryResult. It renews its own identity over the stream when two
// thirds of the certificate's lifetime have passed, then reconnects with it.
//
// A renewal is accepted only as the answer to a request of this agent: the
// certificate must be for the key of a pending request (each request has
// its own key, kept until answered), verify against the agent's own trusted
// CA, and name this agent; an IdentityCertificate carrying a CA other than
// the trusted one is refused (a coordinator cannot swap the agent's trust
// anchor). A refusal is logged with the facts, counted
// (SessionObserver::OnIdentityRefused) and leaves the identity on disk as
// it was.
//
//   AgentSession session(options, identities, targets, clock);
//   session.Run(ctx);  // until ctx is cancelled
#ifndef CERTFLEET_AGENT_CLIENT_SESSION_H_
#define CERTFLEET_AGENT_CLIENT_SESSION_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/client/identity.h"
#include "agent/install/health_monitor.h"
#include "agent/install/target_manager.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/crypto/private_key.h"

namespace grpc {
class ClientContext;
template <class W, class R>
class ClientReaderWriterInterface;
}  // namespace grpc

namespace certfleet::v1 {
class AgentMessage;
class CoordinatorMessage;
}  // namespace certfleet::v1

namespace certfleet::agent {

struct SessionOptions {
  std::vector<std::string> coordinators;  // "host:port", tried in turn
  BackoffPolicy reconnect = {
      .initial = absl::Seconds(1), .max = absl::Seconds(60), .jitter = 0.5};
  // HTTP/2 keepalive ping interval: notices a dead connection.
  absl::Duration keepalive = absl::Seconds(30);
  // A stream whose coordinator says nothing (not even its Welcome) for this
  // long is given up: a frozen coordinator accepts connections and answers
  // nothing. After the Welcome, three heartbeat intervals apply instead.
  absl::Duration welcome_timeout = absl::Seconds(10);
  std::string hostname;
  std::string agent_version = "0.1.0";
};

// Told about connections, for metrics and tests.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void OnConnected(const std::string& coordinator) = 0;
  virtual void OnDisconnected(const std::string& coordinator,
                              const std::string& why) = 0;
  // An IdentityCertificate from `coordinator` was refused; `reason` is one
  // of "unparsable", "ca_changed", "not_requested", "untrusted",
  // "wrong_agent", "not_saved".
  virtual void OnIdentityRefused(const std::string& coordinator,
                                 const std::string& reason) {
    (void)coordinator;
    (void)reason;
  }
};

class AgentSession {
 public:
  AgentSession(SessionOptions options, IdentityStore& identities,
               TargetManager& targets, Clock& clock,
               SessionObserver* observer = nullptr);
  ~AgentSession();

  // Serves until `ctx` is cancelled.
  void Run(const Context& ctx);

  // Tells the coordinator a target's health changed between installs (any
  // thread). Dropped while disconnected: the next Inventory carries it.
  void ReportHealth(const HealthChange& change);

 private:
  using Stream = grpc::ClientReaderWriterInterface<v1::AgentMessage,
                                                   v1::CoordinatorMessage>;
  struct Job {
    Bundle bundle;
    std::string nonce;
  };

  struct StreamEnd {
    absl::Status why;     // why it ended
    bool heard = false;   // the coordinator sent something
    bool silent = false;  // given up for silence (hung, not closed)
  };
  // One stream to `address`.
  StreamEnd ServeOnce(const std::string& address, const Identity& identity,
                      const Context& ctx);
  void Worker();
  void SendInventory();
  // Writes to the current stream, if any (any thread).
  void Send(const v1::AgentMessage& message);
  void HandleIdentity(const std::string& address, const std::string& cert_pem,
                      const std::string& ca_pem);
  // Logs and counts a refused IdentityCertificate; the identity is kept.
  void RefuseIdentity(const std::string& address, const std::string& reason,
                      const std::string& why);
  // When (clock_ time) the worker next looks at the identity: its renewal
  // time, or when an unanswered request is repeated; never while
  // disconnected.
  absl::Time NextIdentityCheck() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeRenewIdentity();

  const SessionOptions options_;
  IdentityStore& identities_;
  TargetManager& targets_;
  Clock& clock_;
  SessionObserver* const observer_;

  absl::Mutex mu_;
  // The open stream's context (null between streams): a renewed identity
  // ends the stream, to reconnect with it.
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The identity the current stream uses.
  std::optional<Identity> identity_ ABSL_GUARDED_BY(mu_);
  // Renewal requests not answered yet, oldest first, each with the key its
  // CSR was made for: an answer is accepted only for one of these keys.
  // Repeated after kRenewalRetry with a new key; the oldest is forgotten
  // past kMaxPendingRenewals.
  struct PendingRenewal {
    crypto::PrivateKey key;
    absl::Time requested_at;
  };
  std::vector<PendingRenewal> pending_renewals_ ABSL_GUARDED_BY(mu_);
  // One Write at a time on a gRPC stream; also guards the stream's life, so
  // a Write never outlasts it.
  absl::Mutex write_mu_;
  Stream* writer_ ABSL_GUARDED_BY(write_mu_) = nullptr;
  Context run_ctx_;
  std::thread worker_;
};

}  // namespace certfleet::agent

#endif  // CERTFLEET_AGENT_CLIENT_SESSION_H_
