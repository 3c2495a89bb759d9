// What the admin API answers, below gRPC: reads the coordinator's store and
// configuration into the certfleet.v1 admin messages, creates bootstrap
// tokens, disables, enables, removes and relabels agents (admin_agents.cc),
// requests renewals, and writes and reads the audit log. The gRPC
// service (admin_server.h) checks the caller, calls this, and records each
// mutating call with RecordAudit (admin_audit.h); tests call it directly
// too.
//
//   AdminBackend backend(store, tokens, clock,
//                        {.certificates = config.certificates,
//                         .default_token_ttl =
//                         config.agents.default_token_ttl,
//                         .connected_agents =
//                             [&hub] { return hub.ConnectedSince(); }});
//   ASSIGN_OR_RETURN(v1::ListCertificatesResponse certs,
//                    backend.ListCertificates());
#ifndef CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_BACKEND_H_
#define CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_BACKEND_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "certfleet/v1/admin.pb.h"
#include "common/clock.h"
#include "coordinator/adminapi/admin_audit.h"
#include "coordinator/config/config.h"
#include "coordinator/delivery/assignments.h"
#include "coordinator/delivery/staleness.h"
#include "coordinator/identity/tokens.h"
#include "coordinator/store/store.h"

namespace certfleet::adminapi {

// What an operator may do to a certificate's active rollout.
enum class RolloutCommand { kPause, kResume, kAbort };

// Carries out `command` on the active rollout of `certificate` for `actor`
// ("admin:alice") and returns the rollout as saved (the coordinator wires
// rollout::RolloutRunner::Act here).
using RolloutCommandFn = std::function<absl::StatusOr<store::RolloutRecord>(
    RolloutCommand command, const std::string& certificate,
    const std::string& actor)>;

// Starts a rollback of `certificate` to version `to_version` (0: the
// previous one) for `actor` and returns it as saved (the coordinator wires
// rollout::RolloutRunner::Rollback here).
using RollbackFn = std::function<absl::StatusOr<store::RolloutRecord>(
    const std::string& certificate, int64_t to_version, bool expedite,
    const std::string& actor)>;

// Stops the active rollout of `certificate` waiting for agent `agent_id`
// for `actor` and returns the rollout afterwards (the coordinator wires
// rollout::RolloutRunner::Skip here).
using SkipHostFn = std::function<absl::StatusOr<store::RolloutRecord>(
    const std::string& certificate, const std::string& agent_id,
    const std::string& actor)>;

// The agents holding a stream to this coordinator right now, each with when
// that stream opened (the coordinator wires delivery::AgentHub::
// ConnectedSince here). Must be thread-safe and must not block for long.
using ConnectedAgentsFn = std::function<std::map<std::string, absl::Time>()>;

struct AdminBackendOptions {
  // The configured certificates (their names and issuers).
  std::vector<config::CertificateConfig> certificates;
  // CreateToken without a ttl.
  absl::Duration default_token_ttl = absl::Hours(1);
  // Reported by GetStatus.
  std::string version = "0.1.0";
  // Called after RenewCertificate stored a request, so the scheduler looks
  // at once instead of at its next check (Scheduler::Wake). May be empty.
  std::function<void()> wake_scheduler;
  // Whether this coordinator leads (several coordinators on etcd): only the
  // leader orders, so RenewCertificate elsewhere is refused with a message
  // that says where to send it. Empty: it always leads (one coordinator).
  std::function<bool()> leading;
  // Pause/resume/abort of rollouts; empty when this coordinator runs no
  // rollouts (then those calls are kUnimplemented).
  RolloutCommandFn rollout_command;
  // Rollback; empty when this coordinator runs no rollouts.
  RollbackFn rollback;
  // Which agents are connected; empty when this coordinator runs no agent
  // service (then every agent is reported not connected).
  ConnectedAgentsFn connected_agents;
  // The agents connected to any replica (AgentInfo.state "connected");
  // empty: those of connected_agents.
  std::function<std::set<std::string>()> present_agents;
  // Who is stale (AgentInfo.state "stale"); null: nobody is said to be.
  delivery::Staleness* staleness = nullptr;
  // Called with the id of an agent whose record an action changed, so its
  // open stream applies it at once (the coordinator wires
  // delivery::AgentHub::AgentChanged; other replicas learn it from the
  // store's watch). May be empty.
  std::function<void(const std::string& agent_id)> agent_changed;
  // Called after an agent was disabled, enabled or removed, so rollouts see
  // it at once rather than at their next step (RolloutRunner::Poke). May be
  // empty.
  std::function<void()> poke_rollouts;
  // SkipRolloutHost; empty when this coordinator runs no rollouts.
  SkipHostFn skip_host;
  // Several coordinators: this replica's name and who leads now (empty for
  // a single coordinator).
  std::string replica;
  std::function<std::string()> leader;
  // This coordinator's config::ClusterDigest, and (several coordinators)
  // every live replica's name, version and digest, sorted by name.
  std::string config_digest;
  struct Replica {
    std::string name;
    std::string version;
    std::string config_digest;
  };
  std::function<std::vector<Replica>()> replicas;
};

// ListAudit without a limit returns at most this many records.
inline constexpr int kDefaultAuditLimit = 1000;

class AdminBackend {
 public:
  // All references must outlive the backend. Safe for concurrent use (the
  // store is).
  AdminBackend(store::Store& store, identity::BootstrapTokens& tokens,
               Clock& clock, AdminBackendOptions options);

  // Every method fails only with the store's errors, except where said.
  absl::StatusOr<v1::GetStatusResponse> GetStatus(const std::string& caller);
  // Configured certificates, and those still holding versions in the store
  // although no longer configured (configured = false); sorted by name.
  absl::StatusOr<v1::ListCertificatesResponse> ListCertificates();
  // kInvalidArgument for an empty name; kNotFound "no certificate <name>"
  // when it is neither configured nor has versions.
  absl::StatusOr<v1::GetCertificateResponse> GetCertificate(
      const v1::GetCertificateRequest& request);
  // Every enrolled agent, with whether it is connected now (see
  // AdminBackendOptions::connected_agents).
  absl::StatusOr<v1::ListAgentsResponse> ListAgents();
  // kInvalidArgument for an empty id; kNotFound "no agent <id>".
  absl::StatusOr<v1::GetAgentResponse> GetAgent(
      const v1::GetAgentRequest& request);
  // kInvalidArgument when labels are missing or invalid (or given with
  // for_agent), or the ttl is not positive; for_agent: kNotFound "no agent
  // <id>", kFailedPrecondition for a removed agent. Logs who made which
  // token (its id, never the secret).
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const v1::CreateTokenRequest& request, const std::string& caller);

  // The agent actions (admin_agents.cc), by admin `caller`: the record is
  // changed with Store::UpdateAgent (status_changed_by "admin:<caller>"),
  // then options.agent_changed and options.poke_rollouts are called.
  // kInvalidArgument for an empty id; kNotFound "no agent <id>";
  // kFailedPrecondition for a removed agent (except RemoveAgent, which
  // succeeds again).
  absl::StatusOr<v1::AgentActionResponse> DisableAgent(
      const v1::DisableAgentRequest& request, const std::string& caller);
  absl::StatusOr<v1::AgentActionResponse> EnableAgent(
      const v1::EnableAgentRequest& request, const std::string& caller);
  absl::StatusOr<v1::AgentActionResponse> RemoveAgent(
      const v1::RemoveAgentRequest& request, const std::string& caller);
  // Also kInvalidArgument for no labels or an invalid one
  // (labels::CheckLabel). Targets no longer selected by their certificate
  // forget their desired version first (a certificate selecting them again
  // later sends what its fleet serves then).
  absl::StatusOr<v1::AgentActionResponse> RelabelAgent(
      const v1::RelabelAgentRequest& request, const std::string& caller);
  // Marks the certificate due now for the scheduler (store::CertificateState
  // renew_at = InfinitePast, which the scheduler reads as "renewal
  // requested" until a new version is issued) and clears any failure
  // backoff, then wakes the scheduler. kInvalidArgument for an empty name;
  // kNotFound "no certificate <name>" when it is neither configured nor has
  // versions; kFailedPrecondition when it is no longer configured.
  absl::StatusOr<v1::RenewCertificateResponse> RenewCertificate(
      const v1::RenewCertificateRequest& request, const std::string& caller);
  // Newest first. kInvalidArgument for a negative limit.
  absl::StatusOr<v1::ListAuditResponse> ListAudit(
      const v1::ListAuditRequest& request);
  // The active rollout of the certificate, or its latest one
  // (admin_rollouts.cc). kInvalidArgument for an empty name; kNotFound "no
  // rollout of <cert>" when it never had one; kDataLoss for an unreadable
  // state.
  absl::StatusOr<v1::GetRolloutResponse> GetRollout(
      const v1::GetRolloutRequest& request);
  // options.rollout_command for admin `caller` (actor "admin:<caller>"),
  // then the rollout as saved. kInvalidArgument for an empty name;
  // kUnimplemented without rollouts; the command's errors.
  absl::StatusOr<v1::GetRolloutResponse> CommandRollout(
      RolloutCommand command, const std::string& certificate,
      const std::string& caller);

  // options.rollback for admin `caller`. kInvalidArgument for an empty name
  // or a negative version; kUnimplemented without rollouts; its errors.
  absl::StatusOr<v1::GetRolloutResponse> Rollback(
      const v1::RollbackRequest& request, const std::string& caller);

  // options.skip_host for admin `caller`, then the rollout. kInvalidArgument
  // for an empty certificate or agent id; kUnimplemented without rollouts;
  // its errors.
  absl::StatusOr<v1::GetRolloutResponse> SkipRolloutHost(
      const v1::SkipRolloutHostRequest& request, const std::string& caller);

  // Appends the audit record of a call by admin `caller` that ended with
  // `result`, at the clock's now. A record that cannot be written is logged
  // at error level with its content (the action has already happened) and
  // its error returned.
  absl::Status RecordAudit(const std::string& caller, const AuditAction& action,
                           const absl::Status& result);

 private:
  const config::CertificateConfig* FindConfigured(
      const std::string& name) const;
  absl::StatusOr<v1::CertificateSummary> Summarize(
      const std::string& name, const config::CertificateConfig* configured);
  absl::StatusOr<v1::AgentInfo> DescribeAgent(const store::AgentRecord& agent);
  // The agents connected now and since when (none without an agent
  // service).
  std::map<std::string, absl::Time> ConnectedNow() const;
  // `agent`'s connected, connected_since and state.
  void SetConnection(const store::AgentRecord& agent,
                     const std::map<std::string, absl::Time>& connected,
                     const std::set<std::string>& present,
                     v1::AgentInfo* info) const;
  // options.present_agents, else the keys of `connected`.
  std::set<std::string> PresentNow(
      const std::map<std::string, absl::Time>& connected) const;
  // Applies `change` to agent `id` for `caller` and answers with the agent
  // before and after (admin_agents.cc).
  absl::StatusOr<v1::AgentActionResponse> ChangeAgent(
      const std::string& id, const char* what, const std::string& caller,
      const std::function<absl::Status(store::AgentRecord&)>& change);
  absl::StatusOr<v1::GetRolloutResponse> RolloutToProto(
      const store::RolloutRecord& record);

  store::Store& store_;
  identity::BootstrapTokens& tokens_;
  Clock& clock_;
  const AdminBackendOptions options_;
  const delivery::Assignments assignments_;
};

}  // namespace certfleet::adminapi

#endif  // CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_BACKEND_H_
