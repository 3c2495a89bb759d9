#include "coordinator/rollout/rollout_state.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace certfleet::rollout {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<RolloutKind, const char*>, 2> kKinds = {{
    {RolloutKind::kRollout, "rollout"},
    {RolloutKind::kRollback, "rollback"},
}};

constexpr std::array<std::pair<Phase, const char*>, 8> kPhases = {{
    {Phase::kPending, "pending"},
    {Phase::kDelivering, "delivering"},
    {Phase::kBaking, "baking"},
    {Phase::kPaused, "paused"},
    {Phase::kComplete, "complete"},
    {Phase::kHalted, "halted"},
    {Phase::kRolledBack, "rolled_back"},
    {Phase::kAborted, "aborted"},
}};

constexpr std::array<std::pair<HostState, const char*>, 9> kHostStates = {{
    {HostState::kQueued, "queued"},
    {HostState::kWaiting, "waiting"},
    {HostState::kChanging, "changing"},
    {HostState::kHealthy, "healthy"},
    {HostState::kFailed, "failed"},
    {HostState::kReverting, "reverting"},
    {HostState::kReverted, "reverted"},
    {HostState::kUnchanged, "unchanged"},
    {HostState::kSkipped, "skipped"},
}};

template <typename E, size_t N>
absl::string_view NameOf(const std::array<std::pair<E, const char*>, N>& table,
                         E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

std::string TimeText(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

// Reads the fields of one JSON object, naming the field (with the path of
// the object it sits in) in every error, as kDataLoss: a state that does not
// parse was damaged after this code wrote it.
class FieldReader {
 public:
  FieldReader(const json& object, std::string path)
      : object_(object), path_(std::move(path)) {}

  absl::Status Error(absl::string_view field, absl::string_view what) const {
    return absl::DataLossError(
        absl::StrCat("rollout state: field ", path_, field, ": ", what));
  }

  absl::StatusOr<const json*> Get(absl::string_view field) const {
    if (!object_.is_object()) return Error("", "not a JSON object");
    auto it = object_.find(std::string(field));
    if (it == object_.end()) return Error(field, "missing");
    return &*it;
  }

  absl::Status String(absl::string_view field, std::string& out) const {
    ASSIGN_OR_RETURN(const json* v, Get(field));
    if (!v->is_string()) return Error(field, "not a string");
    out = v->get<std::string>();
    return absl::OkStatus();
  }

  absl::Status Bool(absl::string_view field, bool& out) const {
    ASSIGN_OR_RETURN(const json* v, Get(field));
    if (!v->is_boolean()) return Error(field, "not a boolean");
    out = v->get<bool>();
    return absl::OkStatus();
  }

  absl::Status Int(absl::string_view field, int& out) const {
    ASSIGN_OR_RETURN(const json* v, Get(field));
    if (!v->is_number_integer()) return Error(field, "not an integer");
    out = v->get<int>();
    return absl::OkStatus();
  }

  absl::Status Time(absl::string_view field, absl::Time& out) const {
    std::string text;
    RETURN_IF_ERROR(String(field, text));
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, text, &out, &err)) {
      return Error(field,
                   absl::StrCat("not an RFC 3339 time \"", text, "\": ", err));
    }
    return absl::OkStatus();
  }

  template <typename E, size_t N>
  absl::Status Enum(absl::string_view field,
                    const std::array<std::pair<E, const char*>, N>& table,
                    E& out) const {
    std::string text;
    RETURN_IF_ERROR(String(field, text));
    for (const auto& [v, name] : table) {
      if (text == name) {
        out = v;
        return absl::OkStatus();
      }
    }
    return Error(field, absl::StrCat("unknown value \"", text, "\""));
  }

  // A field added later: `out` keeps its value when the field is absent
  // (a state written before it existed).
  bool Has(absl::string_view field) const {
    return object_.is_object() && object_.contains(std::string(field));
  }
  absl::Status OptionalString(absl::string_view field, std::string& out) const {
    return Has(field) ? String(field, out) : absl::OkStatus();
  }
  absl::Status OptionalBool(absl::string_view field, bool& out) const {
    return Has(field) ? Bool(field, out) : absl::OkStatus();
  }
  absl::Status OptionalTime(absl::string_view field, absl::Time& out) const {
    return Has(field) ? Time(field, out) : absl::OkStatus();
  }

  absl::StatusOr<const json*> Array(absl::string_view field) const {
    ASSIGN_OR_RETURN(const json* v, Get(field));
    if (!v->is_array()) return Error(field, "not an array");
    return v;
  }

 private:
  const json& object_;
  std::string path_;
};

json HostToJson(const HostRecord& h) {
  return {
      {"agent_id", h.agent_id},
      {"target", h.target},
      {"pool", h.pool},
      {"state", NameOf(kHostStates, h.state)},
      {"wave", h.wave},
      {"online", h.online},
      {"stale", h.stale},
      {"delivered_at", TimeText(h.delivered_at)},
      {"healthy_at", TimeText(h.healthy_at)},
      {"failed_at", TimeText(h.failed_at)},
      {"failure", h.failure},
      {"reverted_at", TimeText(h.reverted_at)},
      {"revert_error", h.revert_error},
      {"skip_reason", h.skip_reason},
      {"skipped_by", h.skipped_by},
      {"skipped_at", TimeText(h.skipped_at)},
  };
}

absl::StatusOr<HostRecord> HostFromJson(const json& j, size_t index) {
  FieldReader r(j, absl::StrCat("hosts[", index, "]."));
  HostRecord h;
  RETURN_IF_ERROR(r.String("agent_id", h.agent_id));
  RETURN_IF_ERROR(r.String("target", h.target));
  RETURN_IF_ERROR(r.String("pool", h.pool));
  RETURN_IF_ERROR(r.Enum("state", kHostStates, h.state));
  RETURN_IF_ERROR(r.Int("wave", h.wave));
  RETURN_IF_ERROR(r.Bool("online", h.online));
  RETURN_IF_ERROR(r.Time("delivered_at", h.delivered_at));
  RETURN_IF_ERROR(r.Time("healthy_at", h.healthy_at));
  RETURN_IF_ERROR(r.Time("failed_at", h.failed_at));
  RETURN_IF_ERROR(r.String("failure", h.failure));
  RETURN_IF_ERROR(r.Time("reverted_at", h.reverted_at));
  RETURN_IF_ERROR(r.String("revert_error", h.revert_error));
  RETURN_IF_ERROR(r.OptionalBool("stale", h.stale));
  RETURN_IF_ERROR(r.OptionalString("skip_reason", h.skip_reason));
  RETURN_IF_ERROR(r.OptionalString("skipped_by", h.skipped_by));
  RETURN_IF_ERROR(r.OptionalTime("skipped_at", h.skipped_at));
  return h;
}

}  // namespace

absl::string_view RolloutKindName(RolloutKind kind) {
  return NameOf(kKinds, kind);
}
absl::string_view PhaseName(Phase phase) { return NameOf(kPhases, phase); }
absl::string_view HostStateName(HostState state) {
  return NameOf(kHostStates, state);
}

bool IsFinished(Phase phase) {
  return phase == Phase::kComplete || phase == Phase::kRolledBack ||
         phase == Phase::kAborted;
}

bool IsActive(Phase phase) {
  return phase == Phase::kPending || phase == Phase::kDelivering ||
         phase == Phase::kBaking || phase == Phase::kPaused;
}

std::string HostName(const HostRecord& host) {
  return absl::StrCat(host.agent_id, "/", host.target);
}

std::string RolloutStateToJson(const RolloutState& s) {
  json hosts = json::array();
  for (const HostRecord& h : s.hosts) hosts.push_back(HostToJson(h));
  json j = {
      {"certificate", s.certificate},
      {"kind", NameOf(kKinds, s.kind)},
      {"from_version", s.from_version},
      {"to_version", s.to_version},
      {"expedite", s.expedite},
      {"requested_by", s.requested_by},
      {"phase", NameOf(kPhases, s.phase)},
      {"paused_from", NameOf(kPhases, s.paused_from)},
      {"wave", s.wave},
      {"created_at", TimeText(s.created_at)},
      {"wave_started_at", TimeText(s.wave_started_at)},
      {"bake_started_at", TimeText(s.bake_started_at)},
      {"paused_at", TimeText(s.paused_at)},
      {"finished_at", TimeText(s.finished_at)},
      {"updated_at", TimeText(s.updated_at)},
      {"urgent", s.urgent},
      {"waiting_for_window", s.waiting_for_window},
      {"window_opens_at", TimeText(s.window_opens_at)},
      {"offline_waiting", s.offline_waiting},
      {"halt_reason", s.halt_reason},
      {"hosts", std::move(hosts)},
  };
  // Every string came from our own config and agent ids, but a target name
  // reported by an agent could carry invalid UTF-8: replace rather than
  // throw, so persisting the state never fails.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<RolloutState> RolloutStateFromJson(absl::string_view text) {
  const json j = json::parse(text.begin(), text.end(), nullptr,
                             /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::DataLossError("rollout state: not valid JSON");
  }
  FieldReader r(j, "");
  RolloutState s;
  RETURN_IF_ERROR(r.String("certificate", s.certificate));
  RETURN_IF_ERROR(r.Enum("kind", kKinds, s.kind));
  RETURN_IF_ERROR(r.String("from_version", s.from_version));
  RETURN_IF_ERROR(r.String("to_version", s.to_version));
  RETURN_IF_ERROR(r.Bool("expedite", s.expedite));
  RETURN_IF_ERROR(r.String("requested_by", s.requested_by));
  RETURN_IF_ERROR(r.Enum("phase", kPhases, s.phase));
  RETURN_IF_ERROR(r.Enum("paused_from", kPhases, s.paused_from));
  RETURN_IF_ERROR(r.Int("wave", s.wave));
  RETURN_IF_ERROR(r.Time("created_at", s.created_at));
  RETURN_IF_ERROR(r.Time("wave_started_at", s.wave_started_at));
  RETURN_IF_ERROR(r.Time("bake_started_at", s.bake_started_at));
  RETURN_IF_ERROR(r.Time("paused_at", s.paused_at));
  RETURN_IF_ERROR(r.Time("finished_at", s.finished_at));
  RETURN_IF_ERROR(r.Time("updated_at", s.updated_at));
  RETURN_IF_ERROR(r.Bool("urgent", s.urgent));
  RETURN_IF_ERROR(r.Bool("waiting_for_window", s.waiting_for_window));
  RETURN_IF_ERROR(r.Time("window_opens_at", s.window_opens_at));
  ASSIGN_OR_RETURN(const json* offline, r.Array("offline_waiting"));
  for (const json& item : *offline) {
    if (!item.is_string()) {
      return r.Error("offline_waiting", "not an array of strings");
    }
    s.offline_waiting.push_back(item.get<std::string>());
  }
  RETURN_IF_ERROR(r.String("halt_reason", s.halt_reason));
  ASSIGN_OR_RETURN(const json* hosts, r.Array("hosts"));
  for (size_t i = 0; i < hosts->size(); ++i) {
    ASSIGN_OR_RETURN(HostRecord h, HostFromJson((*hosts)[i], i));
    s.hosts.push_back(std::move(h));
  }
  return s;
}

}  // namespace certfleet::rollout
