#include "tests/agentapi/raw_client.h"

#include <chrono>

#include "common/crypto/csr.h"
#include "common/crypto/private_key.h"
#include "tests/crypto/test_certs.h"

namespace certfleet::agentapi::testing {
namespace {

std::shared_ptr<grpc::ChannelCredentials> Credentials(const RawCredentials& c) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = c.ca_pem;
  ssl.pem_private_key = c.key_pem;
  ssl.pem_cert_chain = c.cert_pem;
  return grpc::SslCredentials(ssl);
}

std::chrono::system_clock::time_point Guard(absl::Duration timeout) {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
}

}  // namespace

std::shared_ptr<grpc::Channel> RawChannel(const std::string& address,
                                          const RawCredentials& credentials,
                                          const grpc::ChannelArguments& args) {
  grpc::ChannelArguments own = args;
  // Channels with equal arguments may share a connection (gRPC's subchannel
  // pool): a channel of its own must have a connection of its own.
  own.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, Credentials(credentials), own);
}

RawStream::RawStream(const std::string& address,
                     const RawCredentials& credentials)
    : RawStream(RawChannel(address, credentials)) {}

RawStream::RawStream(std::shared_ptr<grpc::Channel> channel,
                     absl::Duration timeout)
    : stub_(v1::AgentService::NewStub(std::move(channel))) {
  context_.set_deadline(Guard(timeout));
  stream_ = stub_->Connect(&context_);
}

bool RawStream::Write(const v1::AgentMessage& message) {
  return stream_->Write(message);
}

std::optional<v1::CoordinatorMessage> RawStream::Read() {
  v1::CoordinatorMessage m;
  do {
    if (!stream_->Read(&m)) return std::nullopt;
  } while (m.has_heartbeat());
  return m;
}

grpc::Status RawStream::Finish() { return stream_->Finish(); }

void RawStream::Cancel() { context_.TryCancel(); }

grpc::Status RawEnroll(const std::string& address,
                       const RawCredentials& credentials,
                       const std::string& token, const std::string& hostname) {
  const crypto::PrivateKey key = crypto::testing::GenerateKeyOrDie();
  absl::StatusOr<std::string> csr = crypto::BuildCsrDer(key, {"raw"});
  if (!csr.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "CSR");
  v1::EnrollRequest request;
  request.set_token(token);
  request.set_csr_der(*csr);
  request.set_hostname(hostname);
  auto stub = v1::Enrollment::NewStub(RawChannel(address, credentials));
  grpc::ClientContext context;
  context.set_deadline(Guard(absl::Seconds(20)));
  v1::EnrollResponse response;
  return stub->Enroll(&context, request, &response);
}

v1::AgentMessage HelloMessage() {
  v1::AgentMessage m;
  m.mutable_hello()->set_hostname("raw");
  m.mutable_hello()->set_agent_version("test");
  return m;
}

v1::AgentMessage EmptyWwwInventory() {
  v1::AgentMessage m;
  m.mutable_inventory()->add_targets()->set_name("www");
  return m;
}

}  // namespace certfleet::agentapi::testing
