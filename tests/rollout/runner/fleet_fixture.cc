#include "tests/rollout/runner/fleet_fixture.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace certfleet::rollout::testing {
namespace {

config::CertificateConfig WebWithPolicy() {
  config::CertificateConfig c = delivery::testing::WebCertificate();
  c.rollout = TestPolicy();
  return c;
}

}  // namespace

void FakeChannel::Send(const v1::CoordinatorMessage& message) {
  absl::MutexLock lock(&mu_);
  if (message.has_bundle()) bundles_.push_back(message.bundle());
}

void FakeChannel::Close(const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  closed_ = why;
}

std::optional<absl::Status> FakeChannel::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

std::vector<v1::DesiredBundle> FakeChannel::bundles() const {
  absl::MutexLock lock(&mu_);
  return bundles_;
}

rollout::RolloutPolicy TestPolicy() {
  rollout::RolloutPolicy p;
  p.waves = {rollout::Quantity::Count(1), rollout::Quantity::Percent(50),
             rollout::Quantity::Percent(100)};
  p.pool_label = "pool";
  p.max_unavailable = rollout::Quantity::Percent(100);
  p.bake_time = absl::Minutes(5);
  p.health_timeout = absl::Minutes(10);
  p.failure_threshold = rollout::Quantity::Count(1);
  return p;
}

RolloutFleet::RolloutFleet(absl::Duration stale_after, absl::Time start)
    : stale_after(stale_after),
      clock(start, ::certfleet::testing::FakeClock::Mode::kManual),
      parts(clock, {WebWithPolicy()}),
      channels(kAgents) {
  for (int i = 0; i < kAgents; ++i) {
    parts.PutAgent(AgentId(i),
                   {{"role", "web"}, {"pool", absl::StrCat("p", i % 3)}});
  }
  runner = std::make_unique<RolloutRunner>(
      parts.store, *parts.hub, parts.certificates, parts.assignments, clock,
      RolloutRunnerOptions{.stale_after = stale_after});
  if (!runner->Resume().ok()) abort();
  for (int i = 0; i < kAgents; ++i) Connect(i, "");
}

RolloutFleet::~RolloutFleet() {
  runner.reset();
  parts.hub.reset();
}

std::string RolloutFleet::AgentId(int i) {
  return absl::StrFormat("agt-0000000000%02d", i);
}

void RolloutFleet::AddVersion() {
  parts.AddVersion("web", absl::StrFormat("1a%02x", next_serial++),
                   clock.Now());
}

void RolloutFleet::Connect(int i, const std::string& serving,
                           const std::string& rolled_back) {
  if (static_cast<int>(channels.size()) <= i) channels.resize(i + 1);
  channels[i] = std::make_shared<FakeChannel>();
  parts.hub->Attach(AgentId(i), delivery::testing::kTestIdentitySerial,
                    channels[i]);
  v1::AgentMessage m;
  v1::TargetState* t = m.mutable_inventory()->add_targets();
  t->set_name("www");
  t->set_version_id(serving);
  t->set_healthy(!serving.empty());
  if (!rolled_back.empty()) {
    v1::LocalFailure* f = t->mutable_last_failure();
    f->set_version_id(rolled_back);
    f->set_failed_step("reload");
    f->set_error("interrupted: agent killed");
    f->set_rolled_back(true);
  }
  parts.hub->OnMessage(AgentId(i), std::move(m));
  parts.hub->Flush();
}

void RolloutFleet::Disconnect(int i) {
  parts.hub->Detach(AgentId(i), channels[i].get());
  parts.hub->Flush();
}

void RolloutFleet::Ack(int i) {
  const v1::DesiredBundle b = channels[i]->bundles().back();
  v1::AgentMessage m;
  v1::DeliveryResult* r = m.mutable_result();
  r->set_target(b.target());
  r->set_version_id(b.version_id());
  r->set_nonce(b.nonce());
  r->set_ok(true);
  parts.hub->OnMessage(AgentId(i), std::move(m));
  parts.hub->Flush();
}

void RolloutFleet::Reject(int i, const std::string& error) {
  const v1::DesiredBundle b = channels[i]->bundles().back();
  v1::AgentMessage m;
  v1::DeliveryResult* r = m.mutable_result();
  r->set_target(b.target());
  r->set_version_id(b.version_id());
  r->set_nonce(b.nonce());
  r->set_ok(false);
  r->set_failed_step("reload");
  r->set_error(error);
  r->set_rolled_back(true);
  parts.hub->OnMessage(AgentId(i), std::move(m));
  parts.hub->Flush();
}

void RolloutFleet::AckAll(const std::string& version_id) {
  for (int i = 0; i < static_cast<int>(channels.size()); ++i) {
    if (channels[i] && LastBundle(i) == version_id) Ack(i);
  }
}

std::vector<int> RolloutFleet::Received(const std::string& version_id) const {
  std::vector<int> out;
  for (int i = 0; i < static_cast<int>(channels.size()); ++i) {
    if (!channels[i]) continue;
    const std::vector<v1::DesiredBundle> b = channels[i]->bundles();
    if (std::any_of(b.begin(), b.end(), [&](const v1::DesiredBundle& x) {
          return x.version_id() == version_id;
        })) {
      out.push_back(i);
    }
  }
  return out;
}

int RolloutFleet::BundleCount(int i) const {
  return static_cast<int>(channels[i]->bundles().size());
}

std::string RolloutFleet::LastBundle(int i) const {
  const std::vector<v1::DesiredBundle> b = channels[i]->bundles();
  return b.empty() ? "" : b.back().version_id();
}

void RolloutFleet::Step() {
  EXPECT_TRUE(runner->StepAll().ok());
  parts.hub->Flush();
}

void RolloutFleet::Restart() {
  runner.reset();
  parts.RestartHub();
  for (auto& c : channels) c.reset();
  runner = std::make_unique<RolloutRunner>(
      parts.store, *parts.hub, parts.certificates, parts.assignments, clock,
      RolloutRunnerOptions{.stale_after = stale_after});
  EXPECT_TRUE(runner->Resume().ok());
  parts.hub->Flush();
}

std::vector<std::string> RolloutFleet::AuditActions() {
  absl::StatusOr<std::vector<store::AuditRecord>> records =
      parts.store.ListAudit({});
  EXPECT_TRUE(records.ok());
  std::vector<std::string> out;
  if (!records.ok()) return out;
  for (auto it = records->rbegin(); it != records->rend(); ++it) {
    out.push_back(it->action);
  }
  return out;
}

store::RolloutRecord RolloutFleet::Active() {
  absl::StatusOr<std::optional<store::RolloutRecord>> r =
      parts.store.ActiveRollout("web");
  EXPECT_TRUE(r.ok() && r->has_value()) << "no active rollout of web";
  return r.ok() && r->has_value() ? **r : store::RolloutRecord{};
}

}  // namespace certfleet::rollout::testing
