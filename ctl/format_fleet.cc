// certfleetctl's formatting of the coordinator's status, agents and tokens.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/short_digest.h"
#include "ctl/ctl_format.h"
#include "ctl/format_util.h"

namespace certfleet::ctl {
namespace {

using internal::LabelsJson;
using internal::LabelsText;
using internal::OrDash;
using internal::TimeJson;
using internal::TimeText;

nlohmann::json TargetJson(const v1::AgentTarget& t) {
  return {{"target", t.target()},
          {"certificate", t.certificate()},
          {"desired_version", t.desired_version()},
          {"installed_version", t.installed_version()},
          {"serial", t.serial()},
          {"not_after", TimeJson(t.not_after())},
          {"healthy", t.healthy()},
          {"health_detail", t.health_detail()},
          {"last_error", t.last_error()},
          {"updated_at", TimeJson(t.updated_at())}};
}

// "yes", "no", or "-" when the coordinator did not say.
std::string ConnectedText(const v1::AgentInfo& a) {
  if (!a.has_connected()) return "-";
  return a.connected() ? "yes" : "no";
}

// The STATE column: "connected", "disconnected", "stale", "disabled",
// "removed"; from an older coordinator that does not say, what
// `connected` says.
std::string StateText(const v1::AgentInfo& a) {
  if (!a.state().empty()) return a.state();
  if (!a.has_connected()) return "-";
  return a.connected() ? "connected" : "disconnected";
}

nlohmann::json AgentJson(const v1::AgentInfo& a) {
  nlohmann::json targets = nlohmann::json::array();
  for (const v1::AgentTarget& t : a.targets()) targets.push_back(TargetJson(t));
  return {{"id", a.id()},
          {"hostname", a.hostname()},
          {"connected",
           a.has_connected() ? nlohmann::json(a.connected()) : nullptr},
          {"connected_since", TimeJson(a.connected_since())},
          {"state", StateText(a)},
          {"status", a.status()},
          {"status_changed_at", TimeJson(a.status_changed_at())},
          {"status_changed_by", a.status_changed_by()},
          {"labels", LabelsJson(a.labels())},
          {"enrolled_at", TimeJson(a.enrolled_at())},
          {"last_seen", TimeJson(a.last_seen())},
          {"identity_serial", a.identity_serial()},
          {"identity_not_after", TimeJson(a.identity_not_after())},
          {"targets", targets}};
}

// The state, and who disabled or removed the agent when: "disabled (by
// admin:alice at 2030-01-01T00:00:00Z)".
std::string StatusText(const v1::AgentInfo& a) {
  std::string out = StateText(a);
  if (a.status() == "disabled" || a.status() == "removed") {
    absl::StrAppend(&out, " (",
                    a.status_changed_by().empty()
                        ? std::string()
                        : absl::StrCat("by ", a.status_changed_by(), " "),
                    "at ", TimeText(a.status_changed_at()), ")");
  }
  return out;
}

// "installed web/2, healthy", "installing web/3 (has web/2), unhealthy".
std::string TargetState(const v1::AgentTarget& t) {
  std::string out;
  if (t.installed_version().empty()) {
    out = t.desired_version().empty()
              ? "nothing to install"
              : absl::StrCat("installing ", t.desired_version());
  } else if (!t.desired_version().empty() &&
             t.desired_version() != t.installed_version()) {
    out = absl::StrCat("installing ", t.desired_version(), " (has ",
                       t.installed_version(), ")");
  } else {
    out = absl::StrCat("installed ", t.installed_version());
  }
  if (!t.installed_version().empty()) {
    absl::StrAppend(&out, t.healthy() ? ", healthy" : ", UNHEALTHY");
  }
  return out;
}

}  // namespace

namespace {

// The configuration's digest, and whether every replica runs the leader's
// (what a leader does not configure, it does not renew).
std::string ConfigurationText(const v1::GetStatusResponse& s) {
  std::string reference = s.config_digest();
  std::string whose = "this coordinator";
  for (const v1::ReplicaStatus& r : s.replicas()) {
    if (r.name() == s.leader()) {
      reference = r.config_digest();
      whose = absl::StrCat("the leader ", r.name());
    }
  }
  std::vector<std::string> differ;
  for (const v1::ReplicaStatus& r : s.replicas()) {
    if (r.config_digest() != reference) {
      differ.push_back(
          absl::StrCat(r.name(), " runs ", ShortDigest(r.config_digest())));
    }
  }
  if (differ.empty()) {
    return absl::StrCat(ShortDigest(reference),
                        s.replicas_size() > 1 ? " on every replica" : "");
  }
  return absl::StrCat("DIFFERS: ", whose, " runs ", ShortDigest(reference),
                      "; ", absl::StrJoin(differ, "; "),
                      " (make coordinator.yaml the same on every replica)");
}

}  // namespace

std::string FormatStatus(const v1::GetStatusResponse& s,
                         const std::string& coordinator, bool json) {
  if (json) {
    nlohmann::json out = {{"coordinator", coordinator},
                          {"version", s.version()},
                          {"caller", s.caller()},
                          {"now", TimeJson(s.now())},
                          {"certificates",
                           {{"configured", s.certificates()},
                            {"issued", s.certificates_issued()},
                            {"failing", s.certificates_failing()},
                            {"expired", s.certificates_expired()}}},
                          {"agents",
                           {{"enrolled", s.agents()},
                            {"agent_service", s.agent_service()},
                            {"connected", s.agents_connected()}}}};
    if (!s.replica().empty()) {
      out["replica"] = s.replica();
      out["leader"] = s.leader();
    }
    out["config_digest"] = s.config_digest();
    if (s.replicas_size() > 0) {
      nlohmann::json replicas = nlohmann::json::array();
      for (const v1::ReplicaStatus& r : s.replicas()) {
        replicas.push_back({{"name", r.name()},
                            {"version", r.version()},
                            {"config_digest", r.config_digest()},
                            {"leader", r.name() == s.leader()}});
      }
      out["replicas"] = replicas;
    }
    return out.dump(2) + "\n";
  }
  const std::string connected =
      s.agent_service() ? absl::StrCat(s.agents_connected(), " connected")
                        : "no agent service on this coordinator";
  std::string replica;
  if (!s.replica().empty()) {
    replica = absl::StrCat(" — replica ", s.replica(),
                           s.leader() == s.replica() ? ", the leader"
                           : s.leader().empty()
                               ? ", no leader elected right now"
                               : absl::StrCat(", leader: ", s.leader()));
  }
  std::vector<std::vector<std::string>> rows = {
      {"coordinator",
       absl::StrCat(coordinator, " (certfleet ", s.version(), ")", replica)},
      {"you are", absl::StrCat("admin ", s.caller())},
      {"time", TimeText(s.now())},
      {"certificates",
       absl::StrCat(s.certificates(), " configured, ", s.certificates_issued(),
                    " issued, ", s.certificates_failing(), " failing, ",
                    s.certificates_expired(), " expired")},
      {"agents", absl::StrCat(s.agents(), " enrolled, ", connected)},
  };
  if (!s.config_digest().empty()) {
    rows.push_back({"configuration", ConfigurationText(s)});
  }
  if (s.replicas_size() > 0) {
    std::vector<std::string> replicas;
    for (const v1::ReplicaStatus& r : s.replicas()) {
      replicas.push_back(
          absl::StrCat(r.name(), " ", ShortDigest(r.config_digest()),
                       r.name() == s.leader() ? " (leader)" : ""));
    }
    rows.push_back({"replicas", absl::StrJoin(replicas, ", ")});
  }
  return AlignColumns(rows);
}

std::string FormatAgents(const v1::ListAgentsResponse& agents, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const v1::AgentInfo& a : agents.agents()) out.push_back(AgentJson(a));
    return nlohmann::json{{"agents", out}}.dump(2) + "\n";
  }
  if (agents.agents().empty()) {
    return "no agents enrolled (certfleetctl token create makes a token for "
           "one)\n";
  }
  std::vector<std::vector<std::string>> cells = {
      {"AGENT", "HOSTNAME", "STATE", "LABELS", "LAST SEEN", "IDENTITY EXPIRES",
       "TARGETS"}};
  for (const v1::AgentInfo& a : agents.agents()) {
    std::vector<std::string> targets;
    for (const v1::AgentTarget& t : a.targets()) {
      targets.push_back(absl::StrCat(
          t.target(), ":", OrDash(t.installed_version()),
          t.installed_version().empty() ? "" : (t.healthy() ? ":ok" : ":BAD")));
    }
    cells.push_back({a.id(), OrDash(a.hostname()), StateText(a),
                     LabelsText(a.labels()), TimeText(a.last_seen()),
                     TimeText(a.identity_not_after()),
                     targets.empty() ? "-" : absl::StrJoin(targets, " ")});
  }
  return AlignColumns(cells);
}

std::string FormatAgent(const v1::GetAgentResponse& response, bool json) {
  const v1::AgentInfo& a = response.agent();
  if (json) return AgentJson(a).dump(2) + "\n";
  std::string out = AlignColumns({
      {"agent", a.id()},
      {"hostname", OrDash(a.hostname())},
      {"state", StatusText(a)},
      {"connected",
       a.has_connected() && a.connected() && a.has_connected_since()
           ? absl::StrCat("yes, since ", TimeText(a.connected_since()))
           : ConnectedText(a)},
      {"labels", LabelsText(a.labels())},
      {"enrolled", TimeText(a.enrolled_at())},
      {"last seen", TimeText(a.last_seen())},
      {"identity",
       absl::StrCat("serial ", OrDash(a.identity_serial()), ", expires ",
                    TimeText(a.identity_not_after()))},
  });
  if (a.targets().empty()) {
    absl::StrAppend(&out, "\nno targets reported yet\n");
    return out;
  }
  std::vector<std::vector<std::string>> cells = {
      {"TARGET", "CERTIFICATE", "STATE", "SERIAL", "NOT AFTER", "UPDATED"}};
  std::string errors;
  for (const v1::AgentTarget& t : a.targets()) {
    cells.push_back({t.target(), OrDash(t.certificate()), TargetState(t),
                     OrDash(t.serial()), TimeText(t.not_after()),
                     TimeText(t.updated_at())});
    // What the agent reported, verbatim but escaped.
    if (!t.last_error().empty()) {
      absl::StrAppend(&errors, TerminalSafe(t.target()),
                      ": last error: ", TerminalSafe(t.last_error()), "\n");
    }
    if (!t.healthy() && !t.health_detail().empty()) {
      absl::StrAppend(&errors, TerminalSafe(t.target()),
                      ": health: ", TerminalSafe(t.health_detail()), "\n");
    }
  }
  absl::StrAppend(&out, "\n", AlignColumns(cells));
  if (!errors.empty()) absl::StrAppend(&out, "\n", errors);
  return out;
}

std::string FormatToken(const v1::CreateTokenResponse& token, bool json) {
  if (json) {
    return nlohmann::json{{"token", token.token()},
                          {"id", token.id()},
                          {"expires_at", TimeJson(token.expires_at())},
                          {"labels", LabelsJson(token.labels())},
                          {"for_agent", token.for_agent()}}
               .dump(2) +
           "\n";
  }
  std::string out = absl::StrCat(
      TerminalSafe(token.token()), "\n",             //
      "id        ", TerminalSafe(token.id()), "\n",  //
      "expires   ", TimeText(token.expires_at()),    //
      " (single use)\n",                             //
      "labels    ", TerminalSafe(LabelsText(token.labels())), "\n");
  if (!token.for_agent().empty()) {
    absl::StrAppend(&out, "agent     ", TerminalSafe(token.for_agent()),
                    " (re-enrolled with its id, labels and history; its "
                    "previous identity is refused once it is used)\n");
  }
  return out;
}

std::string FormatAgentAction(const v1::AgentActionResponse& response,
                              Command command, bool json) {
  const v1::AgentInfo& a = response.agent();
  const std::string id = TerminalSafe(a.id());
  if (json) {
    return nlohmann::json{
               {"agent", AgentJson(a)},
               {"previous_status", response.previous_status()},
               {"previous_labels", LabelsJson(response.previous_labels())}}
               .dump(2) +
           "\n";
  }
  const std::string was =
      absl::StrCat(" (was ", response.previous_status(), ")");
  switch (command) {
    case Command::kAgentsDisable:
      return absl::StrCat("agent ", id, " disabled", was,
                          ": its stream is closed and it is refused until "
                          "`certfleetctl agents enable ",
                          id, "`\n");
    case Command::kAgentsEnable:
      return absl::StrCat("agent ", id, " enabled", was,
                          ": it may connect again with its current "
                          "identity\n");
    case Command::kAgentsRemove:
      return absl::StrCat("agent ", id, " removed", was,
                          ": its identity is refused for good and it has "
                          "left every rollout; the record stays for the "
                          "audit log\n");
    case Command::kAgentsRelabel:
      return absl::StrCat("agent ", id, " relabelled: ",
                          TerminalSafe(LabelsText(response.previous_labels())),
                          " -> ", TerminalSafe(LabelsText(a.labels())), "\n");
    default:
      return absl::StrCat("agent ", id, ": ", StateText(a), "\n");
  }
}

}  // namespace certfleet::ctl
