// Conversions from the store's records to the certfleet.v1 admin messages.
// Times that mean "never" or "not decided" (absl::InfinitePast/Future, the
// Unix epoch of a field never written) are left unset.
//
//   v1::CertificateVersion v = VersionToProto(record);
#ifndef CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_VIEWS_H_
#define CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_VIEWS_H_

#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "certfleet/v1/admin.pb.h"
#include "common/proto_time.h"
#include "coordinator/store/store.h"

namespace certfleet::adminapi {

v1::CertificateVersion VersionToProto(const store::VersionRecord& v);

// The newest version's fields over `summary` (names replace the configured
// ones), and the scheduling state's and in-flight order's.
void FillSummary(const std::optional<store::VersionRecord>& latest,
                 const std::optional<store::CertificateState>& state,
                 bool order_in_flight, v1::CertificateSummary* summary);

// Everything of `agent` but its connection (connected, connected_since,
// state: the backend knows those).
v1::AgentInfo AgentToProto(
    const store::AgentRecord& agent,
    const std::vector<store::TargetStateRecord>& targets);

// AgentInfo.state: "removed", "disabled", "connected", "stale" or
// "disconnected", the first that applies.
std::string AgentStateName(store::AgentStatus status, bool connected,
                           bool stale);

}  // namespace certfleet::adminapi

#endif  // CERTFLEET_COORDINATOR_ADMINAPI_ADMIN_VIEWS_H_
