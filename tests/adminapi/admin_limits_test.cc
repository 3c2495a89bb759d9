// The admin listener's limits (any certificate of the internal CA reaches
// it, a compromised agent's too): an oversized request and a ping flood are
// refused, while another admin's calls go on.
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
