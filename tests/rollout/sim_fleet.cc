#include "tests/rollout/sim_fleet.h"

#include <cstdlib>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace certfleet::rollout {

void PrintTo(const RolloutEvent& e, std::ostream* os) {
  *os << "{" << EventKindName(e.kind) << " at "
      << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", e.at, absl::UTCTimeZone())
      << " wave " << e.wave << ": " << e.message << "}";
}

void PrintTo(const DeliverAction& d, std::ostream* os) {
  *os << "{" << d.agent_id << "/" << d.target << " → " << d.version_id
      << (d.revert ? " (revert)" : "") << "}";
}

void PrintTo(const RolloutState& s, std::ostream* os) {
  *os << RolloutStateToJson(s);
}

namespace testing {

SimFleet::SimFleet(absl::Time now, const std::string& served) {
  for (const char* pool : {"a", "b", "c"}) {
    for (int i = 0; i < 4; ++i) {
      AddHost(absl::StrCat("agt-", pool, i), pool, served, now);
    }
  }
}

SimFleet::Host& SimFleet::host(const std::string& agent_id) {
  return hosts_.at(agent_id);
}

void SimFleet::AddHost(const std::string& agent_id, const std::string& pool,
                       const std::string& served, absl::Time now) {
  Host h;
  h.snap.agent_id = agent_id;
  h.snap.target = "web";
  h.snap.pool = pool;
  h.snap.online = true;
  h.snap.installed_version_id = served;
  h.snap.healthy = true;
  h.snap.last_report_at = now;
  hosts_[agent_id] = h;
}

void SimFleet::SetOnline(const std::string& agent_id, bool online,
                         absl::Time now) {
  Host& h = hosts_.at(agent_id);
  h.snap.online = online;
  if (online) h.snap.last_report_at = now;
}

void SimFleet::Deliver(const std::vector<DeliverAction>& actions,
                       absl::Time now) {
  for (const DeliverAction& a : actions) {
    log_.push_back({now, a.agent_id, a.version_id, a.revert});
    Host& h = hosts_.at(a.agent_id);
    h.desired = a.version_id;
    h.desired_is_revert = a.revert;
    h.applies_at = now + h.install_delay;
  }
}

void SimFleet::Tick(absl::Time now) {
  for (auto& [id, h] : hosts_) {
    if (!h.snap.online || h.applies_at > now) continue;
    h.applies_at = absl::InfiniteFuture();
    const Behaviour b = h.desired_is_revert ? Behaviour::kHealthy : h.behaviour;
    switch (b) {
      case Behaviour::kHealthy:
        h.snap.installed_version_id = h.desired;
        h.snap.healthy = true;
        h.snap.last_error.clear();
        h.snap.last_error_version_id.clear();
        h.snap.last_report_at = now;
        break;
      case Behaviour::kRejects:
        h.snap.last_error = kRejection;
        h.snap.last_error_version_id = h.desired;
        h.snap.last_report_at = now;
        break;
      case Behaviour::kUnhealthy:
        h.snap.installed_version_id = h.desired;
        h.snap.healthy = false;
        h.snap.last_report_at = now;
        break;
      case Behaviour::kSilent:
        break;
    }
  }
}

FleetSnapshot SimFleet::Snapshot() const {
  FleetSnapshot s;
  for (const auto& [id, h] : hosts_) s.hosts.push_back(h.snap);
  s.earliest_served_not_after = earliest_served_not_after;
  return s;
}

std::map<std::string, int> SimFleet::ChangingPerPool(
    const std::string& version) const {
  std::map<std::string, int> changing;
  for (const auto& [id, h] : hosts_) {
    if (h.desired == version &&
        !(h.snap.installed_version_id == version && h.snap.healthy)) {
      ++changing[h.snap.pool];
    }
  }
  return changing;
}

std::map<std::string, std::string> SimFleet::Installed() const {
  std::map<std::string, std::string> out;
  for (const auto& [id, h] : hosts_) out[id] = h.snap.installed_version_id;
  return out;
}

absl::Time Drive(RolloutController& controller, const RolloutPolicy& policy,
                 SimFleet& fleet, absl::Time from, absl::Time until,
                 absl::Duration tick, std::vector<RolloutEvent>& events,
                 const std::function<void(absl::Time)>& check) {
  absl::Time now = from;
  absl::Time last = from;
  for (; now < until && !IsFinished(controller.state().phase); now += tick) {
    fleet.Tick(now);
    StepResult r = controller.Step(policy, fleet.Snapshot(), now);
    fleet.Deliver(r.deliveries, now);
    events.insert(events.end(), r.events.begin(), r.events.end());
    if (check) check(now);
    last = now;
  }
  return last;
}

RolloutPolicy TestPolicy() {
  RolloutPolicy p;
  p.waves = {Quantity::Count(1), Quantity::Percent(25), Quantity::Percent(50),
             Quantity::Percent(100)};
  p.max_unavailable = Quantity::Percent(25);
  p.bake_time = absl::Minutes(5);
  p.health_timeout = absl::Minutes(10);
  p.failure_threshold = Quantity::Count(1);
  return p;
}

std::set<std::string> AgentsDelivered(
    const std::vector<SimFleet::Delivery>& log, const std::string& version) {
  std::set<std::string> out;
  for (const SimFleet::Delivery& d : log) {
    if (d.version == version) out.insert(d.agent_id);
  }
  return out;
}

absl::Time T0() {
  return absl::FromCivil(absl::CivilSecond(2030, 1, 7, 10, 0, 0),
                         absl::UTCTimeZone());
}

RolloutController StartRollout(absl::Time now) {
  RolloutRequest request;
  request.certificate = "web";
  request.from_version = "web/2";
  request.to.id = "web/3";
  request.to.not_before = now - absl::Hours(1);
  request.to.not_after = now + absl::Hours(24 * 90);
  request.requested_by = "scheduler";
  absl::StatusOr<RolloutController> c = RolloutController::Start(request, now);
  if (!c.ok()) {
    ADD_FAILURE() << c.status();
    std::abort();
  }
  return *std::move(c);
}

std::vector<RolloutEvent> OfKind(const std::vector<RolloutEvent>& events,
                                 RolloutEvent::Kind kind) {
  std::vector<RolloutEvent> out;
  for (const RolloutEvent& e : events) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

}  // namespace testing
}  // namespace certfleet::rollout
