#include "tests/delivery/coordinator_parts.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "common/status_macros.h"
#include "coordinator/store/version_id.h"
#include "tests/delivery/test_versions.h"

namespace certfleet::delivery::testing {
namespace {

template <typename T>
T OrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    fprintf(stderr, "%s: %s\n", what, v.status().ToString().c_str());
    abort();
  }
  return *std::move(v);
}

std::unique_ptr<identity::InternalCa> NewCa(store::Store& store,
                                            const crypto::Kek& kek,
                                            Clock& clock) {
  return OrDie(identity::InternalCa::LoadOrCreate(store, kek, clock),
               "internal CA");
}

}  // namespace

void RecordingStore::SlowWrites(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  write_delay_ = delay;
}

void RecordingStore::SlowDown() const {
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    delay = write_delay_;
  }
  if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
}

absl::StatusOr<store::AgentRecord> RecordingStore::UpdateAgent(
    const std::string& id,
    const std::function<absl::Status(store::AgentRecord&)>& mutate) {
  SlowDown();
  return InMemoryStore::UpdateAgent(id, mutate);
}

absl::Status RecordingStore::PutTargetState(
    const store::TargetStateRecord& state) {
  SlowDown();
  WaitIfHeld(Held::kTargetStateWrites);
  {
    absl::MutexLock lock(&mu_);
    writes_.push_back(state);
  }
  return InMemoryStore::PutTargetState(state);
}

std::vector<absl::Status> RecordingStore::PutTargetStates(
    const std::vector<store::TargetStateRecord>& states) {
  SlowDown();
  WaitIfHeld(Held::kTargetStateWrites);
  {
    absl::MutexLock lock(&mu_);
    writes_.insert(writes_.end(), states.begin(), states.end());
  }
  std::vector<absl::Status> out;
  for (const store::TargetStateRecord& s : states) {
    out.push_back(InMemoryStore::PutTargetState(s));
  }
  return out;
}

absl::StatusOr<int64_t> RecordingStore::SaveRollout(
    const store::RolloutRecord& rollout) {
  {
    absl::MutexLock lock(&mu_);
    if (refuse_saves_) {
      return absl::FailedPreconditionError(
          "store: save rollout: this coordinator is no longer the leader");
    }
  }
  return InMemoryStore::SaveRollout(rollout);
}

absl::Status RecordingStore::RefusedDesired(
    const std::string& version_id) const {
  absl::MutexLock lock(&mu_);
  if (refuse_desired_ && !version_id.empty()) {
    return absl::FailedPreconditionError(
        "store: put desired version: this coordinator is no longer the "
        "leader");
  }
  return absl::OkStatus();
}

absl::Status RecordingStore::PutDesiredVersion(const std::string& agent_id,
                                               const std::string& target,
                                               const std::string& certificate,
                                               const std::string& version_id) {
  SlowDown();
  WaitIfHeld(Held::kDesiredVersionWrites);
  RETURN_IF_ERROR(RefusedDesired(version_id));
  return InMemoryStore::PutDesiredVersion(agent_id, target, certificate,
                                          version_id);
}

std::vector<absl::Status> RecordingStore::PutDesiredVersions(
    const std::vector<store::TargetStateRecord>& desired) {
  SlowDown();
  WaitIfHeld(Held::kDesiredVersionWrites);
  std::vector<absl::Status> out;
  for (const store::TargetStateRecord& d : desired) {
    absl::Status refused = RefusedDesired(d.desired_version_id);
    out.push_back(!refused.ok() ? refused
                                : InMemoryStore::PutDesiredVersion(
                                      d.agent_id, d.target, d.certificate,
                                      d.desired_version_id));
  }
  return out;
}

std::vector<absl::Status> RecordingStore::RecordLastSeen(
    const std::vector<store::LastSeen>& seen) {
  SlowDown();
  std::vector<absl::Status> out;
  for (const store::LastSeen& s : seen) {
    out.push_back(
        InMemoryStore::UpdateAgent(s.agent_id, [at = s.at](
                                                   store::AgentRecord& a) {
          if (a.last_seen_at < at) {
            a.last_seen_at = at;
          }
          return absl::OkStatus();
        }).status());
  }
  return out;
}

absl::StatusOr<std::optional<store::AgentRecord>> RecordingStore::GetAgent(
    const std::string& id) {
  WaitIfHeld(Held::kAgentReads);
  return InMemoryStore::GetAgent(id);
}

absl::StatusOr<std::optional<store::VersionRecord>> RecordingStore::GetVersion(
    const std::string& cert_name, int64_t version) {
  {
    absl::MutexLock lock(&mu_);
    if (failing_version_reads_ > 0) {
      --failing_version_reads_;
      return absl::UnavailableError("store: get version: etcd unreachable");
    }
  }
  return InMemoryStore::GetVersion(cert_name, version);
}

void RecordingStore::FailVersionReads(int n) {
  absl::MutexLock lock(&mu_);
  failing_version_reads_ = n;
}

void RecordingStore::RefuseRolloutSaves(bool refuse) {
  absl::MutexLock lock(&mu_);
  refuse_saves_ = refuse;
}

void RecordingStore::RefuseDesiredVersions(bool refuse) {
  absl::MutexLock lock(&mu_);
  refuse_desired_ = refuse;
}

void RecordingStore::Hold(Held what) {
  absl::MutexLock lock(&mu_);
  held_[static_cast<int>(what)] = true;
}

void RecordingStore::Release(Held what) {
  absl::MutexLock lock(&mu_);
  held_[static_cast<int>(what)] = false;
}

int RecordingStore::waiting(Held what) const {
  absl::MutexLock lock(&mu_);
  return waiting_[static_cast<int>(what)];
}

void RecordingStore::WaitIfHeld(Held what) {
  const int i = static_cast<int>(what);
  absl::MutexLock lock(&mu_);
  ++waiting_[i];
  mu_.Await(absl::Condition(
      +[](bool* held) { return !*held; }, &held_[i]));
  --waiting_[i];
}

std::vector<store::TargetStateRecord> RecordingStore::target_state_writes()
    const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

std::optional<store::TargetStateRecord> RecordingStore::TargetState(
    const std::string& agent_id, const std::string& target) {
  absl::StatusOr<std::vector<store::TargetStateRecord>> all =
      ListTargetStates(agent_id);
  if (!all.ok()) return std::nullopt;
  for (const store::TargetStateRecord& s : *all) {
    if (s.target == target) return s;
  }
  return std::nullopt;
}

void RecordingHubObserver::OnConnectedAgents(size_t) {}

void RecordingHubObserver::OnBundleSent(const std::string&) {
  absl::MutexLock lock(&mu_);
  ++bundles_sent_;
}

void RecordingHubObserver::OnDeliveryResult(const v1::DeliveryResult& result) {
  absl::MutexLock lock(&mu_);
  results_.push_back(result);
}

void RecordingHubObserver::OnIdentityRefused(absl::string_view call,
                                             absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  refusals_.push_back(absl::StrCat(call, "/", reason));
}

std::vector<std::string> RecordingHubObserver::refusals() const {
  absl::MutexLock lock(&mu_);
  return refusals_;
}

void RecordingHubObserver::OnReportDropped(absl::string_view reason) {
  absl::MutexLock lock(&mu_);
  ++dropped_[std::string(reason)];
}

void RecordingHubObserver::OnRefused(absl::string_view limit) {
  absl::MutexLock lock(&mu_);
  ++refused_[std::string(limit)];
}

void RecordingHubObserver::OnAgentProblem(absl::string_view kind) {
  absl::MutexLock lock(&mu_);
  ++problems_[std::string(kind)];
}

std::map<std::string, int> RecordingHubObserver::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

std::map<std::string, int> RecordingHubObserver::refused() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

std::map<std::string, int> RecordingHubObserver::problems() const {
  absl::MutexLock lock(&mu_);
  return problems_;
}

void RecordingHubObserver::OnMessageHeldBack() {
  absl::MutexLock lock(&mu_);
  ++held_back_;
}

int RecordingHubObserver::held_back() const {
  absl::MutexLock lock(&mu_);
  return held_back_;
}

void RecordingHubObserver::OnStreamAbandoned() {
  absl::MutexLock lock(&mu_);
  ++abandoned_;
}

int RecordingHubObserver::streams_abandoned() const {
  absl::MutexLock lock(&mu_);
  return abandoned_;
}

int RecordingHubObserver::bundles_sent() const {
  absl::MutexLock lock(&mu_);
  return bundles_sent_;
}

std::vector<v1::DeliveryResult> RecordingHubObserver::results() const {
  absl::MutexLock lock(&mu_);
  return results_;
}

config::CertificateConfig WebCertificate() {
  config::CertificateConfig c;
  c.name = "web";
  c.names = {"www.example.test"};
  c.issuer = "test";
  c.targets = {{.agent_labels = {{"role", "web"}}, .target = "www"}};
  return c;
}

const crypto::testing::TestCa& VersionIssuer() {
  static const auto* ca = new crypto::testing::TestCa(
      crypto::testing::TestCa::Create("Agentapi Test"));
  return *ca;
}

CoordinatorParts::CoordinatorParts(Clock& clock_in,
                                   std::vector<config::CertificateConfig> certs,
                                   absl::Duration identity_lifetime,
                                   const AgentLimits& hub_limits)
    : clock(clock_in),
      kek(crypto::Kek::FromBytes(std::string(crypto::Kek::kKeySize, 'k'))),
      ca(NewCa(store, kek, clock)),
      tokens(store, clock),
      enrollment(std::make_unique<identity::EnrollmentService>(
          store, *ca, tokens, clock,
          identity::EnrollmentOptions{.identity_lifetime = identity_lifetime})),
      certificates(std::move(certs)),
      assignments(certificates),
      limits(hub_limits) {
  RestartHub();
}

CoordinatorParts::~CoordinatorParts() { hub.reset(); }

void CoordinatorParts::RestartHub() { RestartHub(limits); }

void CoordinatorParts::RestartHub(const AgentLimits& hub_limits) {
  hub.reset();
  limits = hub_limits;
  hub = std::make_unique<AgentHub>(store, kek, assignments, *enrollment,
                                   ca->ca_pem(), clock, &observer, limits);
}

CoordinatorParts::AgentIdentity CoordinatorParts::IdentityFor(
    const std::string& agent_id) {
  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  const std::string csr =
      OrDie(crypto::BuildCsrDer(key, {agent_id}), "agent CSR");
  AgentIdentity identity{
      .key_pem = OrDie(key.ToPem(), "agent key"),
      .cert_pem = OrDie(ca->SignAgentCsr(csr, agent_id, absl::Hours(1)),
                        "agent certificate")};
  // An enrolled agent's current identity is the one the hub admits.
  const std::string serial =
      OrDie(crypto::Certificate::FromPem(identity.cert_pem), "agent cert")
          .SerialHex();
  absl::StatusOr<store::AgentRecord> updated =
      store.UpdateAgent(agent_id, [&](store::AgentRecord& a) {
        a.identity_serial = serial;
        return absl::OkStatus();
      });
  if (!updated.ok() && !absl::IsNotFound(updated.status())) {
    fprintf(stderr, "IdentityFor: %s\n", updated.status().ToString().c_str());
    abort();
  }
  return identity;
}

StoredVersion CoordinatorParts::AddVersion(const std::string& certificate,
                                           const std::string& serial_hex,
                                           absl::Time now) {
  const TestVersion v =
      OrDie(MakeTestVersion(VersionIssuer(), kek,
                            {.certificate = certificate,
                             .names = {"www.example.test"},
                             .not_before = now - absl::Hours(1),
                             .not_after = now + absl::Hours(24 * 30),
                             .serial_hex = serial_hex,
                             .created_at = now}),
            "test version");
  StoredVersion out;
  out.serial = v.record.serial_hex;
  out.leaf_pem = v.record.leaf_pem;
  out.chain_pem = v.record.chain_pem;
  out.key_pem = v.key_pem;
  out.not_after = v.record.not_after;
  out.version = OrDie(store.AddVersion(v.record), "AddVersion");
  out.version_id = store::VersionId(certificate, out.version);
  return out;
}

std::string CoordinatorParts::NewToken(
    const std::map<std::string, std::string>& labels) {
  return OrDie(tokens.Create(labels, absl::Hours(1), "agentapi test"), "token");
}

void CoordinatorParts::PutAgent(
    const std::string& id, const std::map<std::string, std::string>& labels) {
  const absl::Status s =
      store.PutAgent({.id = id,
                      .hostname = id + ".example.test",
                      .labels = labels,
                      .enrolled_at = clock.Now(),
                      .last_seen_at = clock.Now(),
                      .identity_serial = kTestIdentitySerial});
  if (!s.ok()) {
    fprintf(stderr, "PutAgent: %s\n", s.ToString().c_str());
    abort();
  }
}

}  // namespace certfleet::delivery::testing
