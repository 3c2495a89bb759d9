// EtcdClient when members die: calls move to the members that are up,
// watches resume without losing or repeating a change, and a client with no
// member reachable says kUnavailable and names the endpoints.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/etcd/etcd_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/harness/free_port.h"
#include "tests/harness/server_process.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::etcd::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// Every kind of call, once; all must succeed.
void ExerciseEveryCall(EtcdClient& client, const std::string& key,
                       const std::string& value) {
  ASSERT_OK(client.Put(key, value, Ctx()));
  ASSERT_OK_AND_ASSIGN(GetResult got, client.Get(key, Ctx()));
  ASSERT_TRUE(got.kv.has_value());
  EXPECT_EQ(got.kv->value, value);
  ASSERT_OK_AND_ASSIGN(
      TxnResult txn,
      client.Txn({.compares = {Compare::Value(key, CompareOp::kEqual, value)},
                  .success = {TxnOp::Put(key + "-txn", value)}},
                 Ctx()));
  EXPECT_TRUE(txn.succeeded);
  ASSERT_OK_AND_ASSIGN(Lease lease,
                       client.LeaseGrant(absl::Seconds(30), Ctx()));
  ASSERT_OK(client.LeaseKeepAliveOnce(lease.id, Ctx()));
  ASSERT_OK(client.LeaseRevoke(lease.id, Ctx()));
}

// The expected watch log of Put(key_i, "v") for i in [first, last).
std::vector<std::string> ExpectedPuts(const std::vector<std::string>& keys,
                                      const std::vector<int64_t>& revisions) {
  std::vector<std::string> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    out.push_back(absl::StrCat("PUT ", keys[i], "=v@", revisions[i]));
  }
  return out;
}

TEST_F(EtcdTest, CallsKeepSucceedingRightAfterAFollowerIsKilled) {
  ASSERT_OK_AND_ASSIGN(int leader, cluster().LeaderIndex());
  const int victim = (leader + 1) % cluster().size();
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  WatchRecorder recorder;
  ASSERT_OK_AND_ASSIGN(auto watch,
                       client->Watch({.range = KeyRange::Prefix(Key("w/"))},
                                     recorder.Callback(), Ctx()));
  // Calls go round robin: a few of them have used every member.
  for (int i = 0; i < 6; ++i) ASSERT_OK(client->Get(Key("warm"), Ctx()));

  cluster().Kill(victim);
  // A write that goes out on the dead member's connection before gRPC has
  // read its end fails kUnavailable: etcd may or may not have applied it,
  // so the client cannot repeat it (see etcd_client.h). A read is repeated
  // safely and, once answered, the dead connection has been seen (rarely
  // needed: the client's poller usually sees it first).
  ASSERT_OK(client->Get(Key("warm"), Ctx()));
  std::vector<std::string> keys;
  std::vector<int64_t> revisions;
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    ExerciseEveryCall(*client, Key(absl::StrCat("k", i)), "v");
    keys.push_back(Key(absl::StrCat("w/", i)));
    ASSERT_OK_AND_ASSIGN(WriteResult put, client->Put(keys.back(), "v", Ctx()));
    revisions.push_back(put.revision);
  }
  EXPECT_THAT(Describe(recorder.WaitForEvents(keys.size())),
              ElementsAreArray(ExpectedPuts(keys, revisions)));
  EXPECT_EQ(recorder.final_calls(), 0);
  ASSERT_OK(cluster().Restart(victim));
}

TEST_F(EtcdTest, CallsSucceedOnceTheSurvivorsElectANewLeader) {
  ASSERT_OK_AND_ASSIGN(int leader, cluster().LeaderIndex());
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  WatchRecorder recorder;
  ASSERT_OK_AND_ASSIGN(auto watch,
                       client->Watch({.range = KeyRange::Prefix(Key("w/"))},
                                     recorder.Callback(), Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult before, client->Put(Key("w/0"), "v", Ctx()));

  cluster().Kill(leader);
  // /health turns true again once a survivor leads (≈ one election timeout).
  for (int i = 0; i < cluster().size(); ++i) {
    if (i != leader) {
      ASSERT_OK(cluster().WaitHealthy(i, absl::Seconds(15)));
    }
  }
  ExerciseEveryCall(*client, Key("after"), "v");
  ASSERT_OK_AND_ASSIGN(WriteResult after, client->Put(Key("w/1"), "v", Ctx()));
  ASSERT_OK_AND_ASSIGN(int new_leader, cluster().LeaderIndex());
  EXPECT_NE(new_leader, leader);
  EXPECT_THAT(
      Describe(recorder.WaitForEvents(2)),
      ElementsAreArray(ExpectedPuts({Key("w/0"), Key("w/1")},
                                    {before.revision, after.revision})));
  ASSERT_OK(cluster().Restart(leader));
}

// A watch whose only endpoint dies resumes when the member is back, from the
// revision after the last one it delivered: nothing lost, nothing twice.
TEST_F(EtcdTest, WatchOnOneMemberResumesAfterThatMemberRestarts) {
  ASSERT_OK_AND_ASSIGN(int leader, cluster().LeaderIndex());
  const int victim = (leader + 1) % cluster().size();
  auto writer = NewClient();
  auto watcher = NewClient({cluster().endpoint(victim)});
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(watcher, nullptr);
  WatchRecorder recorder;
  ASSERT_OK_AND_ASSIGN(auto watch,
                       watcher->Watch({.range = KeyRange::Prefix(Key("w/"))},
                                      recorder.Callback(), Ctx()));
  std::vector<std::string> keys;
  std::vector<int64_t> revisions;
  auto put = [&](int i) {
    keys.push_back(Key(absl::StrCat("w/", i)));
    absl::StatusOr<WriteResult> r = writer->Put(keys.back(), "v", Ctx());
    ASSERT_OK(r);
    revisions.push_back(r->revision);
  };
  put(0);
  ASSERT_EQ(recorder.WaitForEvents(1).size(), 1u);

  cluster().Kill(victim);
  ASSERT_OK(writer->Get(Key("w/0"), Ctx()));  // as in the test above
  for (int i = 1; i < 4; ++i) put(i);  // while the watch's member is down
  EXPECT_EQ(recorder.events().size(), 1u);
  ASSERT_OK(cluster().Restart(victim));
  put(4);
  EXPECT_THAT(Describe(recorder.WaitForEvents(keys.size(), absl::Seconds(15))),
              ElementsAreArray(ExpectedPuts(keys, revisions)));
  EXPECT_EQ(recorder.final_calls(), 0);
}

// No etcd needed: nothing listens on these ports.
TEST(EtcdUnreachableTest, EveryCallIsUnavailableAndNamesTheEndpoints) {
  ASSERT_OK_AND_ASSIGN(int port1, harness::PickFreePort());
  ASSERT_OK_AND_ASSIGN(int port2, harness::PickFreePort());
  const std::string e1 = absl::StrCat("127.0.0.1:", port1);
  const std::string e2 = absl::StrCat("127.0.0.1:", port2);
  ASSERT_OK_AND_ASSIGN(
      auto client,
      EtcdClient::Create(
          {.endpoints = {e1, e2}, .call_timeout = absl::Milliseconds(500)}));
  const auto names_both =
      AllOf(HasSubstr(absl::StrCat("[", e1, ", ", e2, "]")));

  const absl::Time start = absl::Now();
  EXPECT_THAT(
      client->Get("/a", Ctx()),
      StatusIs(absl::StatusCode::kUnavailable,
               AllOf(HasSubstr("etcd KV.Range \"/a\" via"), names_both)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_THAT(client->Put("/a", "1", Ctx()),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("etcd KV.Put \"/a\" via"), names_both)));
  EXPECT_THAT(client->Txn({.success = {TxnOp::Put("/a", "1")}}, Ctx()),
              StatusIs(absl::StatusCode::kUnavailable, names_both));
  EXPECT_THAT(client->LeaseGrant(absl::Seconds(5), Ctx()),
              StatusIs(absl::StatusCode::kUnavailable, names_both));
  EXPECT_THAT(client->LeaseKeepAliveOnce(7, Ctx()),
              StatusIs(absl::StatusCode::kUnavailable, names_both));

  bool called = false;
  EXPECT_THAT(client->Watch(
                  {.range = KeyRange::Single("/a")},
                  [&](absl::StatusOr<WatchUpdate>) { called = true; }, Ctx()),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("etcd Watch \"/a\" via"), names_both)));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace certfleet::etcd::testing
