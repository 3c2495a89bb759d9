// The fixture of the AgentHub tests: fake channels stand in for streams,
// CoordinatorParts (in-memory store, internal CA, hub) for the rest; two
// enrolled agents, kWebAgent (role=web: certificate "web" on target www)
// and kDbAgent (role=db: nothing assigned). Every helper Flushes the hub so
// its work is done before the assertions.
//
//   TEST_F(AgentHubTest, X) {
//     AddVersion("1a01");
//     std::shared_ptr<FakeChannel> ch = Attach(kWebAgent);
//     Send(kWebAgent, Inventory({{"www", "", ""}}));
//     ASSERT_THAT(ch->bundles(), SizeIs(1));
//   }
#ifndef CERTFLEET_TESTS_DELIVERY_HUB_FIXTURE_H_
#define CERTFLEET_TESTS_DELIVERY_HUB_FIXTURE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "coordinator/delivery/agent_hub.h"
#include "gtest/gtest.h"
#include "tests/delivery/coordinator_parts.h"
#include "tests/testing/fake_clock.h"

namespace certfleet::delivery::testing {

constexpr char kWebAgent[] = "agt-0000000000a1";
constexpr char kDbAgent[] = "agt-0000000000d1";

class FakeChannel : public AgentChannel {
 public:
  void Send(const v1::CoordinatorMessage& message) override {
    absl::MutexLock lock(&mu_);
    sent_.push_back(message);
  }
  void Close(const absl::Status& why) override {
    absl::MutexLock lock(&mu_);
    closed_ = why;
  }
  bool Ended() const override {
    absl::MutexLock lock(&mu_);
    return ended_;
  }
  // The agent went away (cancelled its stream) before the hub served it.
  void End() {
    absl::MutexLock lock(&mu_);
    ended_ = true;
  }
  absl::StatusCode closed_code() const {
    absl::MutexLock lock(&mu_);
    return closed_.has_value() ? closed_->code() : absl::StatusCode::kOk;
  }
  // How the hub closed the stream; nullopt while it is open.
  std::optional<absl::Status> closed_status() const {
    absl::MutexLock lock(&mu_);
    return closed_;
  }
  std::vector<v1::CoordinatorMessage> sent() const {
    absl::MutexLock lock(&mu_);
    return sent_;
  }
  std::vector<v1::DesiredBundle> bundles() const {
    std::vector<v1::DesiredBundle> out;
    for (const v1::CoordinatorMessage& m : sent()) {
      if (m.has_bundle()) out.push_back(m.bundle());
    }
    return out;
  }
  // The message the stream was closed with; nullopt while it is open.
  std::optional<std::string> closed() const {
    absl::MutexLock lock(&mu_);
    if (!closed_.has_value()) return std::nullopt;
    return std::string(closed_->message());
  }
  std::vector<std::string> versions_sent() const {
    std::vector<std::string> out;
    for (const v1::DesiredBundle& b : bundles()) out.push_back(b.version_id());
    return out;
  }
  std::vector<v1::IdentityCertificate> identities() const {
    std::vector<v1::IdentityCertificate> out;
    for (const v1::CoordinatorMessage& m : sent()) {
      if (m.has_identity()) out.push_back(m.identity());
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<v1::CoordinatorMessage> sent_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> closed_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
};

struct Served {
  std::string target;
  std::string version_id;  // "" = nothing installed
  std::string serial;
};

// A health report on `target`, as an agent's monitor sends it.
inline v1::AgentMessage Health(const std::string& target, bool healthy,
                               const std::string& detail) {
  v1::AgentMessage m;
  m.mutable_health()->set_target(target);
  m.mutable_health()->set_healthy(healthy);
  m.mutable_health()->set_detail(detail);
  return m;
}

inline v1::AgentMessage Inventory(const std::vector<Served>& targets) {
  v1::AgentMessage m;
  for (const Served& s : targets) {
    v1::TargetState* t = m.mutable_inventory()->add_targets();
    t->set_name(s.target);
    t->set_version_id(s.version_id);
    t->set_serial(s.serial);
    t->set_healthy(!s.version_id.empty());
    t->set_health_detail(s.version_id.empty() ? "nothing served" : "ok");
  }
  return m;
}

inline v1::AgentMessage Result(const v1::DesiredBundle& b, bool ok,
                               const std::string& step = "",
                               const std::string& error = "") {
  v1::AgentMessage m;
  v1::DeliveryResult* r = m.mutable_result();
  r->set_target(b.target());
  r->set_version_id(b.version_id());
  r->set_nonce(b.nonce());
  r->set_ok(ok);
  r->set_failed_step(step);
  r->set_error(error);
  r->set_rolled_back(!ok);
  return m;
}

class AgentHubTest : public ::testing::Test {
 protected:
  AgentHubTest() : c_(clock_, {WebCertificate()}) {
    c_.PutAgent(kWebAgent, {{"role", "web"}});
    c_.PutAgent(kDbAgent, {{"role", "db"}});
  }

  std::shared_ptr<FakeChannel> Attach(const std::string& agent) {
    auto channel = std::make_shared<FakeChannel>();
    c_.hub->Attach(agent, kTestIdentitySerial, channel);
    c_.hub->Flush();
    return channel;
  }
  void Send(const std::string& agent, v1::AgentMessage message) {
    c_.hub->OnMessage(agent, std::move(message));
    c_.hub->Flush();
  }
  void Notify(const std::string& certificate) {
    c_.hub->NotifyVersion(certificate);
    c_.hub->Flush();
  }
  StoredVersion AddVersion(const std::string& serial) {
    return c_.AddVersion("web", serial, clock_.Now());
  }
  std::optional<store::TargetStateRecord> State(const std::string& agent,
                                                const std::string& target) {
    return c_.store.TargetState(agent, target);
  }

  ::certfleet::testing::FakeClock clock_;
  CoordinatorParts c_;
};

}  // namespace certfleet::delivery::testing

#endif  // CERTFLEET_TESTS_DELIVERY_HUB_FIXTURE_H_
