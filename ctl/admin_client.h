// certfleetctl's side of the admin API: the identity file, the mTLS
// channel, and one method per AdminService call. Errors name the
// coordinator and what it said, keeping gRPC's code (absl and gRPC share
// the canonical codes): kPermissionDenied / kUnauthenticated when it
// refused the identity, kUnavailable when it could not be reached (or the
// TLS handshake failed), kDeadlineExceeded after the timeout.
//
//   ASSIGN_OR_RETURN(AdminIdentity id, ParseAdminIdentity(file_text));
//   ASSIGN_OR_RETURN(auto client, AdminClient::Connect("127.0.0.1:7444", id,
//                                                      absl::Seconds(10)));
//   ASSIGN_OR_RETURN(v1::GetStatusResponse status, client->GetStatus());
#ifndef CERTFLEET_CTL_ADMIN_CLIENT_H_
#define CERTFLEET_CTL_ADMIN_CLIENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certfleet/v1/admin.grpc.pb.h"

namespace certfleet::ctl {

// The parts of an identity file (`certfleet-coordinator admin-identity
// create`): the private key, the admin certificate (the first CERTIFICATE
// block), and the CA certificates that follow it (trusted for the
// coordinator's serving certificate).
struct AdminIdentity {
  std::string key_pem;
  std::string cert_pem;
  std::string ca_pem;
};

// kInvalidArgument naming what is missing: no PRIVATE KEY block, no
// certificate, or no CA certificate after the admin certificate.
absl::StatusOr<AdminIdentity> ParseAdminIdentity(absl::string_view pem_text);

class AdminClient {
 public:
  // Does not connect yet: the first call does.
  static std::unique_ptr<AdminClient> Connect(const std::string& coordinator,
                                              const AdminIdentity& identity,
                                              absl::Duration timeout);
  // A client over a given stub (tests).
  AdminClient(std::string coordinator,
              std::unique_ptr<v1::AdminService::StubInterface> stub,
              absl::Duration timeout);

  absl::StatusOr<v1::GetStatusResponse> GetStatus();
  absl::StatusOr<v1::ListCertificatesResponse> ListCertificates();
  absl::StatusOr<v1::GetCertificateResponse> GetCertificate(
      const std::string& name);
  absl::StatusOr<v1::ListAgentsResponse> ListAgents();
  absl::StatusOr<v1::GetAgentResponse> GetAgent(const std::string& id);
  // `for_agent` "": a token for a new agent with `labels`; else one that
  // re-enrolls that agent (no labels).
  absl::StatusOr<v1::CreateTokenResponse> CreateToken(
      const std::map<std::string, std::string>& labels,
      std::optional<absl::Duration> ttl, const std::string& description,
      const std::string& for_agent = "");
  absl::StatusOr<v1::AgentActionResponse> DisableAgent(
      const std::string& id, const std::string& reason);
  absl::StatusOr<v1::AgentActionResponse> EnableAgent(const std::string& id);
  absl::StatusOr<v1::AgentActionResponse> RemoveAgent(
      const std::string& id, const std::string& reason);
  absl::StatusOr<v1::AgentActionResponse> RelabelAgent(
      const std::string& id, const std::map<std::string, std::string>& labels);
  absl::StatusOr<v1::RenewCertificateResponse> RenewCertificate(
      const std::string& name);
  // `since` InfinitePast: from the beginning; `certificate` "": all;
  // `limit` 0: the coordinator's default.
  // GetRollout, PauseRollout, ResumeRollout, AbortRollout of `certificate`.
  absl::StatusOr<v1::GetRolloutResponse> GetRollout(
      const std::string& certificate);
  absl::StatusOr<v1::GetRolloutResponse> PauseRollout(
      const std::string& certificate);
  absl::StatusOr<v1::GetRolloutResponse> ResumeRollout(
      const std::string& certificate);
  absl::StatusOr<v1::GetRolloutResponse> AbortRollout(
      const std::string& certificate);
  // SkipRolloutHost: the active rollout of `certificate` stops waiting for
  // agent `agent_id`.
  absl::StatusOr<v1::GetRolloutResponse> SkipRolloutHost(
      const std::string& certificate, const std::string& agent_id);
  // Rollback of `certificate` to `to_version` (0: the previous one).
  absl::StatusOr<v1::GetRolloutResponse> Rollback(
      const std::string& certificate, int64_t to_version, bool expedite);
  absl::StatusOr<v1::ListAuditResponse> ListAudit(
      absl::Time since, const std::string& certificate, int limit);

 private:
  const std::string coordinator_;
  std::unique_ptr<v1::AdminService::StubInterface> stub_;
  const absl::Duration timeout_;
};

}  // namespace certfleet::ctl

#endif  // CERTFLEET_CTL_ADMIN_CLIENT_H_
