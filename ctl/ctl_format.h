// certfleetctl's output: aligned tables and key/value blocks for people,
// one JSON document for scripts (-o json). Times are UTC, RFC 3339
// ("2025-03-01T12:00:00Z"); an unset time is "-" in tables and null in JSON.
// Every function returns the whole text, ending with a newline.
//
// Text that came from agents or CAs is escaped (TerminalSafe) in tables and
// in lines alike, so it cannot drive the terminal.
//
//   std::string out = FormatCertificates(response, absl::Now(), args.json);
#ifndef CERTFLEET_CTL_CTL_FORMAT_H_
#define CERTFLEET_CTL_CTL_FORMAT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "certfleet/v1/admin.pb.h"
#include "ctl/ctl_args.h"

namespace certfleet::ctl {

// `text` with everything a terminal would act on written out as an escape,
// so a string from an agent (host and target names, labels, errors, health
// details) or a CA (problem details) cannot move the cursor, rewrite what
// was printed, retitle the window or hide characters:
//   C0 controls and DEL      → \a \b \t \n \v \f \r, else \xNN ("\x1b")
//   C1 controls U+0080–U+009F, and the bidirectional controls U+061C,
//   U+200E/F, U+202A–U+202E, U+2066–U+2069, U+2028/9 → \uNNNN
//   bytes that are not UTF-8 → \xNN
// Other text, UTF-8 included, is unchanged. AlignColumns applies it to every
// cell; text printed outside a table goes through it where it is built
// (defined in format_util.cc).
// JSON output needs none: its encoder escapes control characters.
std::string TerminalSafe(absl::string_view text);

// Rows of cells, each column padded to its widest cell plus two spaces
// (the first row is the header). Every cell goes through TerminalSafe
// first: control characters come out escaped.
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

#endif  // CERTFLEET_CTL_CTL_FORMAT_H_
