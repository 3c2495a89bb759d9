// AgentHub: which of an agent's reports count — health only for its own
// assigned targets, dropped reports counted and logged once per stream —,
// the failures and state problems an agent finds on its own host, and the
// per-agent limit on identity renewals. Split from agent_hub.cc.
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "coordinator/delivery/agent_hub.h"
#include "coordinator/delivery/agent_input.h"

namespace certfleet::delivery {

void AgentHub::DropReport(const std::string& agent_id, Agent& agent,
                          absl::string_view reason, const std::string& what) {
  if (observer_) observer_->OnReportDropped(reason);
  if (agent.warned.insert(absl::StrCat("dropped:", reason)).second) {
    CF_LOG_WARN(
        "agent %s: ignored %s (%s; counted in "
        "certfleet_agent_reports_dropped_total, logged once per stream)",
        agent_id, what, reason);
  }
}

void AgentHub::HandleHealth(const std::string& agent_id, Agent& agent,
                            const v1::HealthReport& health) {
  // `targets` holds only what the inventory listed and is assigned here.
  if (agent.targets.count(health.target()) == 0) {
    DropReport(agent_id, agent, "health_not_assigned",
               absl::StrCat("a health report for target ", health.target(),
                            ", which its inventory on this stream did not "
                            "list or which is not assigned to it"));
    return;
  }
  const std::string detail = AgentText(health.detail(), limits_.max_text_bytes);
  SaveTargetState(
      agent_id, agent, health.target(), [&](store::TargetStateRecord& s) {
        s.healthy = health.healthy();
        s.detail = WithStateProblem(agent_id, health.target(), detail);
      });
}

std::string AgentHub::WithStateProblem(const std::string& agent_id,
                                       const std::string& target,
                                       const std::string& detail) const {
  auto it = state_problems_.find({agent_id, target});
  if (it == state_problems_.end()) return detail;
  return absl::StrCat(detail, detail.empty() ? "" : "; ",
                      "state problem: ", it->second);
}

void AgentHub::RecordLocalProblems(const std::string& agent_id, Agent& agent,
                                   const v1::TargetState& t,
                                   store::TargetStateRecord& s) {
  const std::pair<std::string, std::string> key{agent_id, t.name()};
  const std::string problem =
      AgentText(t.state_problem(), limits_.max_text_bytes);
  auto known = state_problems_.find(key);
  if (problem.empty()) {
    if (known != state_problems_.end()) {
      CF_LOG_INFO("agent %s: target %s: no state problem any more", agent_id,
                  t.name());
      state_problems_.erase(known);
    }
  } else if (known == state_problems_.end() || known->second != problem) {
    CF_LOG_WARN("agent %s: target %s: state problem on the host: %s", agent_id,
                t.name(), problem);
    if (observer_) observer_->OnAgentProblem("state_problem");
    state_problems_[key] = problem;
  }
  s.detail = WithStateProblem(
      agent_id, t.name(), AgentText(t.health_detail(), limits_.max_text_bytes));

  const v1::LocalFailure& f = t.last_failure();
  if (f.version_id().empty()) return;
  // Not sent again on this stream; the agent repeats the failure in every
  // inventory until an install succeeds, so on its later streams too.
  agent.rejected[t.name()].insert(f.version_id());
  // Record it as this target's failure of that version (what a rollout
  // reads), once; but never over the failure of a later delivery: when
  // another failure is recorded and the coordinator has since wanted
  // something else for the target, the repeated report is old news.
  if (s.last_error_version_id == f.version_id()) return;
  if (!s.last_error.empty() && s.desired_version_id != f.version_id()) return;
  const std::string step = ReportedStep(f.failed_step());
  const std::string error = AgentText(f.error(), limits_.max_text_bytes);
  s.last_error = absl::StrCat(step, ": ", error, " (install interrupted",
                              f.rolled_back() ? ", rolled back" : "",
                              " by the agent's recovery at its restart)");
  s.last_error_version_id = f.version_id();
  CF_LOG_WARN(
      "agent %s: target %s: install of %s was interrupted and %s at the "
      "agent's restart (%s: %s); not sent to it again unless a rollout "
      "re-sends it",
      agent_id, t.name(), f.version_id(),
      f.rolled_back() ? "rolled back" : "not rolled back", step, error);
  if (observer_) observer_->OnAgentProblem("local_failure");
}

bool AgentHub::RenewalAllowed(const std::string& agent_id, Agent& agent) {
  const KeyedRateLimiter::Decision d = renewals_.Take(agent_id);
  if (d.allowed) return true;
  if (observer_) observer_->OnRefused("renewal_rate");
  const RateLimit& limit = limits_.renewals_per_agent;
  CF_LOG_WARN(
      "agent %s: identity renewal refused: more than %g in a row (then one "
      "per %s); stream ended",
      agent_id, limit.burst, absl::FormatDuration(limit.refill_every));
  agent.channel->Close(absl::ResourceExhaustedError(absl::StrCat(
      "too many identity renewals: at most ", limit.burst,
      " in a row, then one per ", absl::FormatDuration(limit.refill_every),
      "; retry in ",
      absl::FormatDuration(absl::Ceil(d.retry_after, absl::Seconds(1))))));
  return false;
}

}  // namespace certfleet::delivery
