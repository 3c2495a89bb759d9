// EtcdClient over TLS with a client certificate, against a one-member etcd
// that requires one (its own cluster: the shared one is plain HTTP).
#include "common/etcd/etcd_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/harness/etcd_server.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::etcd::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::HasSubstr;

TEST(EtcdTlsTest, ClientCertificateIsRequiredAndAccepted) {
  ASSERT_OK_AND_ASSIGN(
      auto cluster, harness::EtcdCluster::Start({.members = 1, .tls = true}));
  const std::string endpoint = cluster->endpoint(0);

  ASSERT_OK_AND_ASSIGN(
      auto client,
      EtcdClient::Create({.endpoints = {"https://" + endpoint},
                          .ca_file = cluster->ca_path(),
                          .cert_file = cluster->client_cert_path(),
                          .key_file = cluster->client_key_path()}));
  ASSERT_OK(client->Put("/tls/a", "secret", Ctx()));
  ASSERT_OK_AND_ASSIGN(GetResult got, client->Get("/tls/a", Ctx()));
  ASSERT_TRUE(got.kv.has_value());
  EXPECT_EQ(got.kv->value, "secret");

  // The handshake fails without a client certificate, with a CA that did
  // not sign the server's certificate, and in plain text.
  const absl::Duration short_timeout = absl::Seconds(1);
  ASSERT_OK_AND_ASSIGN(auto no_cert,
                       EtcdClient::Create({.endpoints = {endpoint},
                                           .ca_file = cluster->ca_path(),
                                           .call_timeout = short_timeout}));
  EXPECT_THAT(no_cert->Get("/tls/a", Ctx()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(endpoint)));
  ASSERT_OK_AND_ASSIGN(
      auto wrong_ca,
      EtcdClient::Create({.endpoints = {endpoint},
                          .ca_file = cluster->client_cert_path(),
                          .cert_file = cluster->client_cert_path(),
                          .key_file = cluster->client_key_path(),
                          .call_timeout = short_timeout}));
  EXPECT_THAT(wrong_ca->Get("/tls/a", Ctx()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(endpoint)));
  ASSERT_OK_AND_ASSIGN(auto plain,
                       EtcdClient::Create({.endpoints = {endpoint},
                                           .call_timeout = short_timeout}));
  EXPECT_THAT(plain->Get("/tls/a", Ctx()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(endpoint)));
}

}  // namespace
}  // namespace certfleet::etcd::testing
