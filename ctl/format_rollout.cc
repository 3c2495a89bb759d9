// certfleetctl's formatting of a certificate's rollout: a summary, hosts
// counted by state, then a table per wave.
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ctl/ctl_format.h"
#include "ctl/format_util.h"

namespace certfleet::ctl {
namespace internal {

nlohmann::json RolloutJson(const v1::RolloutInfo& r) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const v1::RolloutHost& h : r.hosts()) {
    hosts.push_back({{"agent_id", h.agent_id()},
                     {"target", h.target()},
                     {"pool", h.pool()},
                     {"state", h.state()},
                     {"wave", h.wave()},
                     {"online", h.online()},
                     {"stale", h.stale()},
                     {"failure", h.failure()},
                     {"skip_reason", h.skip_reason()},
                     {"skipped_by", h.skipped_by()}});
  }
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [state, n] : r.host_counts()) counts[state] = n;
  nlohmann::json offline = nlohmann::json::array();
  for (const std::string& h : r.offline_waiting()) offline.push_back(h);
  return {{"id", r.id()},
          {"revision", r.revision()},
          {"certificate", r.certificate()},
          {"kind", r.kind()},
          {"from_version", r.from_version()},
          {"to_version", r.to_version()},
          {"phase", r.phase()},
          {"paused_from", r.paused_from()},
          {"wave", r.wave()},
          {"wave_count", r.wave_count()},
          {"expedite", r.expedite()},
          {"urgent", r.urgent()},
          {"requested_by", r.requested_by()},
          {"created_at", TimeJson(r.created_at())},
          {"updated_at", TimeJson(r.updated_at())},
          {"finished_at", TimeJson(r.finished_at())},
          {"halt_reason", r.halt_reason()},
          {"waiting_for_window", r.waiting_for_window()},
          {"window_opens_at", TimeJson(r.window_opens_at())},
          {"offline_waiting", offline},
          {"host_counts", counts},
          {"hosts", hosts}};
}

}  // namespace internal

namespace {

using internal::OrDash;
using internal::RolloutJson;
using internal::TimeText;

// "delivering (wave 2 of 3)", "paused (was baking, wave 1 of 3)".
std::string PhaseText(const v1::RolloutInfo& r) {
  const std::string wave =
      r.wave() > 0 ? absl::StrCat("wave ", r.wave(), " of ", r.wave_count())
                   : absl::StrCat(r.wave_count(), " waves, none started");
  if (r.phase() == "paused") {
    return absl::StrCat("paused (was ", r.paused_from(), ", ", wave, ")");
  }
  return absl::StrCat(r.phase(), " (", wave, ")");
}

// "healthy", "skipped (stale)", "skipped (by admin:bob)".
std::string HostStateText(const v1::RolloutHost& h) {
  if (h.state() != "skipped") return h.state();
  if (!h.skipped_by().empty()) {
    return absl::StrCat("skipped (by ", h.skipped_by(), ")");
  }
  return h.skip_reason().empty()
             ? h.state()
             : absl::StrCat("skipped (", h.skip_reason(), ")");
}

// "yes", "OFFLINE", or "STALE" (offline for longer than stale_after).
std::string OnlineText(const v1::RolloutHost& h) {
  if (h.online()) return "yes";
  return h.stale() ? "STALE" : "OFFLINE";
}

}  // namespace

std::string FormatRollout(const v1::GetRolloutResponse& response, bool json) {
  const v1::RolloutInfo& r = response.rollout();
  if (json) return RolloutJson(r).dump(2) + "\n";

  std::vector<std::vector<std::string>> summary = {
      {"rollout",
       absl::StrCat(r.id(), " (", r.kind(), r.expedite() ? ", expedited" : "",
                    r.urgent() ? ", urgent" : "", ")")},
      {"certificate", r.certificate()},
      {"versions",
       absl::StrCat(OrDash(r.from_version()), " -> ", r.to_version())},
      {"phase", PhaseText(r)},
      {"requested by", OrDash(r.requested_by())},
      {"created", TimeText(r.created_at())},
      {"updated", TimeText(r.updated_at())}};
  if (r.has_finished_at()) {
    summary.push_back({"finished", TimeText(r.finished_at())});
  }
  if (!r.halt_reason().empty()) summary.push_back({"halted", r.halt_reason()});
  if (r.waiting_for_window()) {
    summary.push_back(
        {"window",
         r.has_window_opens_at()
             ? absl::StrCat("waiting until ", TimeText(r.window_opens_at()))
             : "waiting; no maintenance window ever opens"});
  }
  if (!r.offline_waiting().empty()) {
    summary.push_back(
        {"offline", absl::StrCat("waiting for ",
                                 absl::StrJoin(r.offline_waiting(), ", "))});
  }
  std::vector<std::string> counts;
  for (const auto& [state, n] : std::map<std::string, int>(
           r.host_counts().begin(), r.host_counts().end())) {
    counts.push_back(absl::StrCat(state, " ", n));
  }
  summary.push_back(
      {"hosts", counts.empty() ? "none" : absl::StrJoin(counts, ", ")});
  for (auto& row : summary) row[0] += ":";
  std::string out = AlignColumns(summary);

  // One table per wave in order; hosts no wave chose yet (wave 0) last.
  std::map<int, std::vector<const v1::RolloutHost*>> waves;
  for (const v1::RolloutHost& h : r.hosts()) {
    waves[h.wave() > 0 ? h.wave() : r.wave_count() + 1].push_back(&h);
  }
  for (const auto& [wave, hosts] : waves) {
    absl::StrAppend(&out, "\n",
                    wave <= r.wave_count()
                        ? absl::StrCat("wave ", wave, " of ", r.wave_count())
                        : std::string("not in a wave"),
                    " (", hosts.size(), " hosts)\n");
    std::vector<std::vector<std::string>> cells = {
        {"AGENT", "TARGET", "POOL", "STATE", "ONLINE", "FAILURE"}};
    for (const v1::RolloutHost* h : hosts) {
      cells.push_back({h->agent_id(), OrDash(h->target()), OrDash(h->pool()),
                       HostStateText(*h), OnlineText(*h),
                       OrDash(h->failure())});
    }
    absl::StrAppend(&out, AlignColumns(cells));
  }
  return out;
}

}  // namespace certfleet::ctl
