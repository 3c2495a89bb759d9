// Starting and stopping a gRPC listener over TLS: the port picked, the
// message when it cannot listen, shutdown at any point.
#include "common/rpc/grpc_server.h"

#include <grpcpp/grpcpp.h>

#include "certfleet/v1/admin.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/crypto/test_certs.h"
#include "tests/testing/status_matchers.h"

namespace certfleet {
namespace {

using ::certfleet::testing::StatusIs;

class GrpcServerTest : public ::testing::Test {
 protected:
  GrpcServerOptions Options(const std::string& listen) {
    return {.what = "test service",
            .listen = listen,
            .key_pem = *leaf_.key.ToPem(),
            .cert_pem = leaf_.cert.ToPem(),
            .client_ca_pem = ca_.root().ToPem(),
            .services = {&service_}};
  }

  // Any synchronous service: gRPC starts no server without one.
  v1::AdminService::Service service_;

  crypto::testing::TestCa ca_ = crypto::testing::TestCa::Create();
  crypto::testing::IssuedCert leaf_ =
      ca_.IssueLeaf({.dns_names = {"localhost"}});
};

TEST_F(GrpcServerTest, PicksAPortAndShutsDown) {
  absl::StatusOr<StartedGrpcServer> started =
      StartGrpcServer(Options("127.0.0.1:0"));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_NE(started->server, nullptr);
  EXPECT_GT(started->port, 0);
  ShutdownGrpcServer(started->server, absl::ZeroDuration());
  EXPECT_EQ(started->server, nullptr);
  ShutdownGrpcServer(started->server, absl::ZeroDuration());  // no-op
}

TEST_F(GrpcServerTest, SaysWhichListenerCannotListenWhere) {
  // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this host.
  // (A port already taken is no test: gRPC binds with SO_REUSEPORT.)
  EXPECT_THAT(StartGrpcServer(Options("192.0.2.1:0")),
              StatusIs(absl::StatusCode::kUnavailable,
                       "test service cannot listen on 192.0.2.1:0 (address "
                       "in use, or not an address of this host?)"));
}

}  // namespace
}  // namespace certfleet
