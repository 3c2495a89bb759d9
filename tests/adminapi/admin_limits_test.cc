// The admin listener's limits (any certificate of the internal CA reaches
// it, a compromised agent's too): an oversized request, calls past the
// streams one connection may hold, and a ping flood are refused, while
// another admin's calls go on.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adminapi/admin_fixture.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::adminapi::testing {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<grpc::ClientContext> Context() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return c;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address,
                                       const ctl::AdminIdentity& identity,
                                       grpc::ChannelArguments args) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = identity.ca_pem;
  ssl.pem_private_key = identity.key_pem;
  ssl.pem_cert_chain = identity.cert_pem;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

class AdminLimitsTest : public AdminApiTest {
 protected:
  // Another admin's call works.
  void ExpectOthersCarryOn() {
    ASSERT_OK_AND_ASSIGN(v1::GetStatusResponse status,
                         ClientFor(AdminIdentityFor("bob"))->GetStatus());
    EXPECT_EQ(status.caller(), "bob");
  }
};

TEST_F(AdminLimitsTest, RequestOverTheSizeLimitIsRefused) {
  const ctl::AdminIdentity alice = AdminIdentityFor("alice");
  auto stub = v1::AdminService::NewStub(
      Channel(Address(), alice, grpc::ChannelArguments()));
  v1::CreateTokenRequest request;
  (*request.mutable_labels())["role"] = "web";
  request.set_description(std::string(100 * 1024, 'd'));
  v1::CreateTokenResponse response;
  const grpc::Status status =
      stub->CreateToken(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  ASSERT_OK_AND_ASSIGN(std::vector<store::TokenRecord> tokens,
                       c_.store.ListTokens());
  EXPECT_TRUE(tokens.empty());
  // The same request within the limit is fine.
  request.set_description(std::string(1024, 'd'));
  const grpc::Status fits =
      stub->CreateToken(Context().get(), request, &response);
  EXPECT_TRUE(fits.ok()) << fits.error_message();
  ExpectOthersCarryOn();
}

// Every admin call is unary, but a client may open its stream and never
// send the request: such calls hold the connection's stream slots, and the
// next call on that connection waits for a free one (the gRPC client queues
// it: DEADLINE_EXCEEDED) while other connections are served.
TEST_F(AdminLimitsTest, CallsPastTheStreamsPerConnectionWait) {
  server_.reset();
  ASSERT_OK_AND_ASSIGN(server_,
                       AdminServer::Start({.listen = "127.0.0.1:0",
                                           .server_names = {"127.0.0.1"},
                                           .max_streams_per_connection = 2},
                                          *c_.ca, *backend_));
  std::shared_ptr<grpc::Channel> channel =
      Channel(Address(), AdminIdentityFor("alice"), grpc::ChannelArguments());
  auto stub = v1::AdminService::NewStub(channel);
  v1::GetStatusResponse response;
  ASSERT_TRUE(stub->GetStatus(Context().get(), {}, &response).ok());

  // Two calls whose request never comes.
  grpc::GenericStub generic(channel);
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<grpc::ClientContext>> held_contexts;
  std::vector<std::unique_ptr<grpc::GenericClientAsyncReaderWriter>> held;
  for (int i = 0; i < 2; ++i) {
    held_contexts.push_back(Context());
    held.push_back(generic.PrepareCall(held_contexts.back().get(),
                                       "/certfleet.v1.AdminService/GetStatus",
                                       &cq));
    held.back()->StartCall(reinterpret_cast<void*>(i + 1));
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(cq.Next(&tag, &ok));
    ASSERT_TRUE(ok) << "held call " << i << " did not start";
  }

  grpc::ClientContext waits;
  waits.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(2));
  const grpc::Status status = stub->GetStatus(&waits, {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << status.error_message();
  ExpectOthersCarryOn();

  // Once the held calls end, the connection serves calls again.
  for (auto& context : held_contexts) context->TryCancel();
  for (size_t i = 0; i < held.size(); ++i) {
    held[i]->Finish(nullptr, reinterpret_cast<void*>(100 + i));
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  EXPECT_TRUE(stub->GetStatus(Context().get(), {}, &response).ok());
}

TEST_F(AdminLimitsTest, PingFloodClosesTheConnection) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 200);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  std::shared_ptr<grpc::Channel> channel =
      Channel(Address(), AdminIdentityFor("alice"), args);
  auto stub = v1::AdminService::NewStub(channel);
  v1::GetStatusResponse response;
  ASSERT_TRUE(stub->GetStatus(Context().get(), {}, &response).ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  // Idle from here but for the pings: the server closes the connection
  // (GOAWAY "too_many_pings"), and the channel leaves READY.
  EXPECT_TRUE(channel->WaitForStateChange(
      GRPC_CHANNEL_READY,
      std::chrono::system_clock::now() + std::chrono::seconds(15)));
  ExpectOthersCarryOn();
}

}  // namespace
}  // namespace certfleet::adminapi::testing
