// EtcdClient's Lease calls against a real 3-member etcd cluster: grant,
// keep-alive, expiry deleting the key, time-to-live, revoke.
#include "absl/time/clock.h"
#include "common/etcd/etcd_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait_for.h"

namespace certfleet::etcd::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::certfleet::testing::WaitForOk;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST_F(EtcdTest, KeepAliveHoldsALeasedKeyAndExpiryDeletesIt) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  ASSERT_OK_AND_ASSIGN(Lease lease,
                       client->LeaseGrant(absl::Seconds(2), Ctx()));
  EXPECT_NE(lease.id, 0);
  EXPECT_EQ(lease.ttl_seconds, 2);
  ASSERT_OK(client->PutWithLease(Key("held"), "x", lease.id, Ctx()));
  ASSERT_OK_AND_ASSIGN(GetResult got, client->Get(Key("held"), Ctx()));
  ASSERT_TRUE(got.kv.has_value());
  EXPECT_EQ(got.kv->lease, lease.id);

  // Renewed every 0.5 s for 3 s, longer than the TTL: the key stays.
  absl::Time last_renewal = absl::Now();
  const absl::Time renew_until = absl::Now() + absl::Seconds(3);
  while (absl::Now() < renew_until) {
    last_renewal = absl::Now();
    ASSERT_OK_AND_ASSIGN(int64_t ttl,
                         client->LeaseKeepAliveOnce(lease.id, Ctx()));
    EXPECT_EQ(ttl, 2);
    absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_OK_AND_ASSIGN(got, client->Get(Key("held"), Ctx()));
  EXPECT_TRUE(got.kv.has_value()) << "the key went away although renewed";
  ASSERT_OK_AND_ASSIGN(LeaseStatus status,
                       client->LeaseTimeToLive(lease.id, Ctx()));
  EXPECT_EQ(status.id, lease.id);
  EXPECT_EQ(status.granted_seconds, 2);
  EXPECT_GE(status.remaining_seconds, 0);
  EXPECT_LE(status.remaining_seconds, 2);

  // No more renewals: etcd's leader revokes the lease, and the key with it,
  // once the TTL has passed since the last renewal.
  ASSERT_OK(WaitForOk(
      "etcd to delete the key of the lease no longer renewed",
      [&]() -> absl::Status {
        absl::StatusOr<GetResult> now = client->Get(Key("held"), Ctx());
        if (!now.ok()) return now.status();
        return now->kv.has_value()
                   ? absl::FailedPreconditionError("the key is still there")
                   : absl::OkStatus();
      },
      absl::Seconds(20)));
  EXPECT_GE(absl::Now() - last_renewal, absl::Milliseconds(1900));
  EXPECT_THAT(client->LeaseKeepAliveOnce(lease.id, Ctx()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("expired or does not exist")));
  EXPECT_THAT(client->LeaseTimeToLive(lease.id, Ctx()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EtcdTest, RevokeDeletesTheLeasesKeysAtOnce) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  ASSERT_OK_AND_ASSIGN(Lease lease,
                       client->LeaseGrant(absl::Seconds(60), Ctx()));
  EXPECT_EQ(lease.ttl_seconds, 60);
  ASSERT_OK(client->PutWithLease(Key("a"), "1", lease.id, Ctx()));
  ASSERT_OK(client->PutWithLease(Key("b"), "2", lease.id, Ctx()));
  ASSERT_OK(client->Put(Key("unleased"), "3", Ctx()));

  ASSERT_OK(client->LeaseRevoke(lease.id, Ctx()));
  ASSERT_OK_AND_ASSIGN(RangeResult left,
                       client->Range(KeyRange::Prefix(prefix()), 0, Ctx()));
  ASSERT_EQ(left.kvs.size(), 1u);
  EXPECT_EQ(left.kvs[0].key, Key("unleased"));

  const std::string hex_id = absl::StrCat(absl::Hex(lease.id));
  EXPECT_THAT(
      client->LeaseRevoke(lease.id, Ctx()),
      StatusIs(absl::StatusCode::kNotFound,
               AllOf(HasSubstr("Lease.Revoke lease " + hex_id),
                     HasSubstr("etcdserver: requested lease not found"))));
  EXPECT_THAT(client->LeaseKeepAliveOnce(lease.id, Ctx()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client->PutWithLease(Key("c"), "4", lease.id, Ctx()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("requested lease not found")));
}

TEST_F(EtcdTest, LeaseTtlsAreWholeSecondsAndEtcdRaisesTinyOnes) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  // Rounded up to whole seconds.
  ASSERT_OK_AND_ASSIGN(Lease rounded,
                       client->LeaseGrant(absl::Milliseconds(4500), Ctx()));
  EXPECT_EQ(rounded.ttl_seconds, 5);
  // etcd's minimum TTL is 1.5 election timeouts (1 s here), rounded up.
  ASSERT_OK_AND_ASSIGN(Lease raised,
                       client->LeaseGrant(absl::Seconds(1), Ctx()));
  EXPECT_EQ(raised.ttl_seconds, 2);
  EXPECT_THAT(client->LeaseGrant(absl::Milliseconds(500), Ctx()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("below etcd's unit of one second")));
  EXPECT_OK(client->LeaseRevoke(rounded.id, Ctx()));
  EXPECT_OK(client->LeaseRevoke(raised.id, Ctx()));
}

}  // namespace
}  // namespace certfleet::etcd::testing
