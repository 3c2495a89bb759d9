// What the coordinator accepts from an agent, checked before any of it is
// logged or stored: names against the grammars they are written in (target
// names as the agent's configuration allows them, host names as DNS-like
// names, version ids as the coordinator makes them), the number of targets,
// and free text cut to a bound with control characters removed. A message
// that fails a check ends the agent's stream: a real agent never sends one.
//
//   if (absl::Status s = CheckAgentMessage(message, limits); !s.ok()) {
//     CF_LOG_WARN("agent %s: stream ended: %s", agent_id, s.message());
//     return Close(s);  // INVALID_ARGUMENT, or RESOURCE_EXHAUSTED
//   }
//   record.detail = AgentText(health.detail(), limits.max_text_bytes);
#ifndef CERTFLEET_COORDINATOR_DELIVERY_AGENT_INPUT_H_
#define CERTFLEET_COORDINATOR_DELIVERY_AGENT_INPUT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "certfleet/v1/agent.pb.h"
#include "coordinator/delivery/agent_limits.h"

namespace certfleet::delivery {

// A DNS-like host name: at most 253 characters, labels of 1-63 letters,
// digits, "-" and "_" separated by single dots.
bool IsHostname(absl::string_view name);

// `text` safe to store and log: ASCII control characters and DEL become
// spaces, bytes that are not UTF-8 become "?", and it is cut on a character
// boundary to at most `max_bytes` (an ellipsis "…" marks the cut and counts
// within the bound).
std::string AgentText(absl::string_view text, size_t max_bytes);
// The step an agent reports failed (DeliveryResult and LocalFailure
// failed_step), for the store and the logs: the DeliveryStep's stable name
// when it is one; any other text (an agent of a later release, with a step
// this coordinator does not know) as AgentText of at most 64 bytes, so the
// report is still recorded.
std::string ReportedStep(absl::string_view failed_step);
// A value that failed its check, for an error or a log line: quoted, C
// escaped, its first 64 bytes only.
std::string Quoted(absl::string_view untrusted);

// OK, or why `message` is refused: kResourceExhausted for an inventory of
// more than limits.max_targets_per_agent targets, kInvalidArgument naming
// the field for a name or id outside its grammar (Hello.hostname,
// Inventory/DeliveryResult/HealthReport target names, version ids, the
// serial, the nonce).
absl::Status CheckAgentMessage(const v1::AgentMessage& message,
                               const AgentLimits& limits);

}  // namespace certfleet::delivery

#endif  // CERTFLEET_COORDINATOR_DELIVERY_AGENT_INPUT_H_
