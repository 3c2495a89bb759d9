#include "tests/agent_attack/fake_coordinator.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "common/status_macros.h"
#include "tests/testing/wait_for.h"

namespace certfleet::agent_attack {

class FakeCoordinator::Service final : public v1::AgentService::Service {
 public:
  grpc::Status Connect(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::CoordinatorMessage, v1::AgentMessage>*
          stream) override {
    {
      absl::MutexLock lock(&write_mu_);
      stream_ = stream;
    }
    v1::CoordinatorMessage welcome;
    welcome.mutable_welcome()->set_agent_id("attack-test");
    welcome.mutable_welcome()->set_coordinator("fake");
    Write(welcome);
    v1::AgentMessage in;
    while (stream->Read(&in)) {
      absl::MutexLock lock(&mu_);
      received_.push_back(in);
    }
    absl::MutexLock lock(&write_mu_);
    stream_ = nullptr;
    return grpc::Status::OK;
  }

  // False when no stream is open.
  bool Write(const v1::CoordinatorMessage& message) {
    absl::MutexLock lock(&write_mu_);
    return stream_ != nullptr && stream_->Write(message);
  }

  std::vector<v1::AgentMessage> Received() const {
    absl::MutexLock lock(&mu_);
    return received_;
  }

 private:
  absl::Mutex write_mu_;
  grpc::ServerReaderWriter<v1::CoordinatorMessage, v1::AgentMessage>* stream_
      ABSL_GUARDED_BY(write_mu_) = nullptr;
  mutable absl::Mutex mu_;
  std::vector<v1::AgentMessage> received_ ABSL_GUARDED_BY(mu_);
};

FakeCoordinator::FakeCoordinator()
    : kek_(crypto::Kek::FromBytes(std::string(crypto::Kek::kKeySize, 'k'))),
      service_(std::make_unique<Service>()) {}

FakeCoordinator::~FakeCoordinator() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now());
}

absl::StatusOr<std::unique_ptr<FakeCoordinator>> FakeCoordinator::Start() {
  std::unique_ptr<FakeCoordinator> c(new FakeCoordinator());
  ASSIGN_OR_RETURN(c->ca_, identity::InternalCa::LoadOrCreate(
                               c->store_, c->kek_, c->clock_));
  ASSIGN_OR_RETURN(identity::InternalCa::ServerIdentity identity,
                   c->ca_->IssueServerIdentity({"127.0.0.1"}, absl::Hours(1)));
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = c->ca_->ca_pem();
  ssl.pem_key_cert_pairs.push_back({identity.key_pem, identity.cert_pem});
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl),
                           &c->port_);
  builder.RegisterService(c->service_.get());
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  c->server_ = builder.BuildAndStart();
  if (!c->server_ || c->port_ == 0) {
    return absl::UnavailableError("fake coordinator: cannot listen");
  }
  return c;
}

std::string FakeCoordinator::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

absl::StatusOr<agent::Identity> FakeCoordinator::NewIdentity(
    const std::string& agent_id) {
  ASSIGN_OR_RETURN(crypto::PrivateKey key,
                   crypto::PrivateKey::Generate(crypto::KeyType::kEc256));
  ASSIGN_OR_RETURN(std::string csr, crypto::BuildCsrDer(key, {"agent"}));
  ASSIGN_OR_RETURN(std::string cert_pem,
                   ca_->SignAgentCsr(csr, agent_id, absl::Hours(1)));
  ASSIGN_OR_RETURN(std::string key_pem, key.ToPem());
  return agent::Identity{.agent_id = agent_id,
                         .key_pem = key_pem,
                         .cert_pem = cert_pem,
                         .ca_pem = ca_->ca_pem()};
}

absl::Status FakeCoordinator::SendBundle(const v1::DesiredBundle& bundle,
                                         absl::Duration timeout) {
  v1::CoordinatorMessage m;
  *m.mutable_bundle() = bundle;
  return ::certfleet::testing::WaitFor(
      "an agent connected to take the bundle",
      [&] { return service_->Write(m); }, timeout);
}

std::vector<v1::AgentMessage> FakeCoordinator::Received() const {
  return service_->Received();
}

absl::StatusOr<v1::AgentMessage> FakeCoordinator::WaitForMessage(
    const std::function<bool(const v1::AgentMessage&)>& match,
    absl::Duration timeout) const {
  std::optional<v1::AgentMessage> found;
  std::vector<v1::AgentMessage> all;
  const absl::Status waited = ::certfleet::testing::WaitFor(
      "the expected message from the agent",
      [&] {
        all = Received();
        for (const v1::AgentMessage& m : all) {
          if (match(m)) {
            found = m;
            return true;
          }
        }
        return false;
      },
      timeout);
  if (found) return *found;
  std::string seen;
  for (const v1::AgentMessage& m : all) {
    absl::StrAppend(&seen, "\n  ", m.ShortDebugString());
  }
  return absl::Status(waited.code(),
                      absl::StrCat(waited.message(), "; received:", seen));
}

absl::StatusOr<v1::DeliveryResult> FakeCoordinator::WaitForResult(
    const std::string& target, const std::string& version_id,
    absl::Duration timeout) const {
  ASSIGN_OR_RETURN(v1::AgentMessage m,
                   WaitForMessage(
                       [&](const v1::AgentMessage& m) {
                         return m.has_result() &&
                                m.result().target() == target &&
                                (version_id.empty() ||
                                 m.result().version_id() == version_id);
                       },
                       timeout));
  return m.result();
}

absl::StatusOr<v1::Inventory> FakeCoordinator::LatestInventory(
    absl::Duration timeout) const {
  RETURN_IF_ERROR(
      WaitForMessage(
          [](const v1::AgentMessage& m) { return m.has_inventory(); }, timeout)
          .status());
  v1::Inventory latest;
  for (const v1::AgentMessage& m : Received()) {
    if (m.has_inventory()) latest = m.inventory();
  }
  return latest;
}

}  // namespace certfleet::agent_attack
