// certfleetctl's output: aligned tables and key/value blocks for people,
// one JSON document for scripts (-o json). Times are UTC, RFC 3339
// ("2025-03-01T12:00:00Z"); an unset time is "-" in tables and null in JSON.
// Every function returns the whole text, ending with a newline.
//
//   std::string out = FormatCertificates(response, absl::Now(), args.json);
#ifndef CERTFLEET_COORDINATOR_CTL_CTL_FORMAT_H_
#define CERTFLEET_COORDINATOR_CTL_CTL_FORMAT_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "certfleet/v1/admin.pb.h"
#include "coordinator/ctl/ctl_args.h"

namespace certfleet::ctl {

// Rows of cells, each column padded to its widest cell plus two spaces
// (the first row is the header).
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows);

// A certificate's state in a few words: "ok, renews <time>", "not issued
// yet", "EXPIRED", "failing (3x), next try <time>", "order in flight",
// "renewal requested", "not configured".
std::string CertificateState(const v1::CertificateSummary& c, absl::Time now);

// `status`; `coordinator` is the address dialled.
std::string FormatStatus(const v1::GetStatusResponse& status,
                         const std::string& coordinator, bool json);
// `certs list`.
std::string FormatCertificates(const v1::ListCertificatesResponse& certs,
                               absl::Time now, bool json);
// `certs show CERT`: the certificate, then its versions.
std::string FormatCertificate(const v1::GetCertificateResponse& cert,
                              absl::Time now, bool json);
// `versions CERT`: the versions only.
std::string FormatVersions(const v1::GetCertificateResponse& cert,
                           absl::Time now, bool json);
// `agents list`: AGENT HOSTNAME STATE (connected, disconnected, stale,
// disabled, removed; "-" when the coordinator does not say) LABELS LAST
// SEEN IDENTITY EXPIRES TARGETS. JSON: also "connected" true/false/null
// (to this coordinator), "connected_since", "status" and who changed it
// when.
std::string FormatAgents(const v1::ListAgentsResponse& agents, bool json);
// `agents show ID`: the agent (connected: "yes, since <time>"), then its
// targets.
std::string FormatAgent(const v1::GetAgentResponse& agent, bool json);
// `token create`: the token alone on the first line (scripts read it).
std::string FormatToken(const v1::CreateTokenResponse& token, bool json);
// `agents disable|enable|remove|relabel ID`: one line saying what changed
// (`command` picks the words). JSON: {"agent", "previous_status",
// "previous_labels"}.
std::string FormatAgentAction(const v1::AgentActionResponse& response,
                              Command command, bool json);
// `renew CERT`: what was requested and what it will replace.
std::string FormatRenew(const v1::RenewCertificateResponse& renew, bool json);
// `audit`: TIME ACTOR ACTION CERTIFICATE RESULT DETAIL, newest first, and a
// note when older records were left out.
std::string FormatAudit(const v1::ListAuditResponse& audit, bool json);
// `rollout status CERT` and the answer of pause/resume/abort: the rollout
// (phase, wave k of n, versions, halt reason, window wait, offline hosts),
// hosts counted by state, then one table per wave (AGENT TARGET POOL STATE
// ONLINE FAILURE; STATE "skipped (stale)" / "skipped (by admin:bob)",
// ONLINE yes / OFFLINE / STALE; queued and unchanged hosts last). JSON:
// the RolloutInfo fields.
std::string FormatRollout(const v1::GetRolloutResponse& rollout, bool json);

}  // namespace certfleet::ctl

#endif  // CERTFLEET_COORDINATOR_CTL_CTL_FORMAT_H_
