// Helpers shared by certfleetctl's formatters (ctl_format_*.cc): times as
// text and as JSON, labels as text. Internal to certfleet_ctl.
//
//   cells.push_back({TimeText(c.not_after()), ...});
//   absl::StrAppend(&out, "last error: ", TerminalSafe(t.last_error()));
#ifndef CERTFLEET_CTL_FORMAT_UTIL_H_
#define CERTFLEET_CTL_FORMAT_UTIL_H_

#include <map>
#include <string>

#include "absl/time/time.h"
#include "certfleet/v1/admin.pb.h"
#include "google/protobuf/map.h"
#include "google/protobuf/timestamp.pb.h"
#include "nlohmann/json.hpp"

namespace certfleet::ctl::internal {

// RFC 3339 UTC, or "-" when unset.
std::string TimeText(const google::protobuf::Timestamp& ts);
// RFC 3339 UTC, or null when unset.
nlohmann::json TimeJson(const google::protobuf::Timestamp& ts);
// "k=v,k=v" sorted by key; "-" when empty.
std::string LabelsText(
    const google::protobuf::Map<std::string, std::string>& labels);
nlohmann::json LabelsJson(
    const google::protobuf::Map<std::string, std::string>& labels);
// `text`, or "-" when empty.
std::string OrDash(const std::string& text);
// The RolloutInfo fields as one object (format_rollout.cc): `rollout
// status -o json`, and each line of `rollout status --watch -o json`.
nlohmann::json RolloutJson(const v1::RolloutInfo& r);

}  // namespace certfleet::ctl::internal

#endif  // CERTFLEET_CTL_FORMAT_UTIL_H_
