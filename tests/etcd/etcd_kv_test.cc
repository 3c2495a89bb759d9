// EtcdClient's KV calls against a real 3-member etcd cluster: put, get,
// range, delete, and transactions with every compare kind.
#include <string>
#include <vector>

#include "common/etcd/etcd_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/etcd/etcd_test_env.h"
#include "tests/testing/status_matchers.h"

namespace certfleet::etcd::testing {
namespace {

using ::certfleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Keys(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> out;
  for (const KeyValue& kv : kvs) out.push_back(kv.key);
  return out;
}

TEST_F(EtcdTest, PutGetRangeDelete) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);

  ASSERT_OK_AND_ASSIGN(WriteResult put_a, client->Put(Key("a"), "1", Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult put_b, client->Put(Key("b"), "2", Ctx()));
  ASSERT_OK_AND_ASSIGN(WriteResult put_c, client->Put(Key("c"), "3", Ctx()));
  EXPECT_LT(put_a.revision, put_b.revision);
  EXPECT_LT(put_b.revision, put_c.revision);

  ASSERT_OK_AND_ASSIGN(GetResult got, client->Get(Key("a"), Ctx()));
  ASSERT_TRUE(got.kv.has_value());
  EXPECT_EQ(got.kv->key, Key("a"));
  EXPECT_EQ(got.kv->value, "1");
  EXPECT_EQ(got.kv->create_revision, put_a.revision);
  EXPECT_EQ(got.kv->mod_revision, put_a.revision);
  EXPECT_EQ(got.kv->version, 1);
  EXPECT_EQ(got.kv->lease, 0);
  EXPECT_GE(got.revision, put_c.revision);

  // A second put keeps the creation, bumps version and mod revision.
  ASSERT_OK_AND_ASSIGN(WriteResult put_a2, client->Put(Key("a"), "1b", Ctx()));
  ASSERT_OK_AND_ASSIGN(got, client->Get(Key("a"), Ctx()));
  EXPECT_EQ(got.kv->value, "1b");
  EXPECT_EQ(got.kv->create_revision, put_a.revision);
  EXPECT_EQ(got.kv->mod_revision, put_a2.revision);
  EXPECT_EQ(got.kv->version, 2);

  ASSERT_OK_AND_ASSIGN(GetResult missing, client->Get(Key("zz"), Ctx()));
  EXPECT_FALSE(missing.kv.has_value());

  ASSERT_OK_AND_ASSIGN(RangeResult all,
                       client->Range(KeyRange::Prefix(prefix()), 0, Ctx()));
  EXPECT_THAT(Keys(all.kvs), ElementsAre(Key("a"), Key("b"), Key("c")));
  EXPECT_FALSE(all.more);
  EXPECT_EQ(all.count, 3);

  ASSERT_OK_AND_ASSIGN(RangeResult limited,
                       client->Range(KeyRange::Prefix(prefix()), 2, Ctx()));
  EXPECT_THAT(Keys(limited.kvs), ElementsAre(Key("a"), Key("b")));
  EXPECT_TRUE(limited.more);
  EXPECT_EQ(limited.count, 3);

  ASSERT_OK_AND_ASSIGN(
      RangeResult between,
      client->Range(KeyRange::Between(Key("b"), Key("c")), 0, Ctx()));
  EXPECT_THAT(Keys(between.kvs), ElementsAre(Key("b")));

  ASSERT_OK_AND_ASSIGN(WriteResult del, client->Delete(Key("b"), Ctx()));
  EXPECT_EQ(del.deleted, 1);
  EXPECT_GT(del.revision, put_a2.revision);
  ASSERT_OK_AND_ASSIGN(WriteResult del_again, client->Delete(Key("b"), Ctx()));
  EXPECT_EQ(del_again.deleted, 0);

  ASSERT_OK_AND_ASSIGN(WriteResult del_prefix,
                       client->DeletePrefix(prefix(), Ctx()));
  EXPECT_EQ(del_prefix.deleted, 2);
  ASSERT_OK_AND_ASSIGN(all,
                       client->Range(KeyRange::Prefix(prefix()), 0, Ctx()));
  EXPECT_THAT(all.kvs, IsEmpty());
}

TEST_F(EtcdTest, BinaryKeysAndValuesRoundTrip) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  const std::string key = Key(std::string("bin\0\xff\x01", 6));
  const std::string value("\0\x80\xfe zero", 8);
  ASSERT_OK(client->Put(key, value, Ctx()));
  ASSERT_OK_AND_ASSIGN(GetResult got, client->Get(key, Ctx()));
  ASSERT_TRUE(got.kv.has_value());
  EXPECT_EQ(got.kv->key, key);
  EXPECT_EQ(got.kv->value, value);
}

TEST_F(EtcdTest, EmptyKeyIsRejectedBeforeAnyCall) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Put("", "x", Ctx()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("KV.Put: empty key")));
  EXPECT_THAT(client->Get("", Ctx()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// One row of the table below: a compare and whether it holds.
struct CompareCase {
  std::string name;
  Compare compare;
  bool holds;
};

TEST_F(EtcdTest, TxnTakesTheBranchEachCompareKindSelects) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  const std::string k = Key("k");
  ASSERT_OK(client->Put(k, "m", Ctx()));
  ASSERT_OK_AND_ASSIGN(GetResult current, client->Get(k, Ctx()));
  ASSERT_TRUE(current.kv.has_value());
  const KeyValue kv = *current.kv;  // value "m", version 1, no lease

  using Op = CompareOp;
  const int64_t created = kv.create_revision;
  const int64_t modified = kv.mod_revision;
  const std::vector<CompareCase> cases = {
      {"value ==", Compare::Value(k, Op::kEqual, "m"), true},
      {"value == other", Compare::Value(k, Op::kEqual, "x"), false},
      {"value !=", Compare::Value(k, Op::kNotEqual, "x"), true},
      {"value <", Compare::Value(k, Op::kLess, "n"), true},
      {"value < smaller", Compare::Value(k, Op::kLess, "a"), false},
      {"value >", Compare::Value(k, Op::kGreater, "a"), true},
      {"version ==", Compare::Version(k, Op::kEqual, 1), true},
      {"version >", Compare::Version(k, Op::kGreater, 1), false},
      {"version <", Compare::Version(k, Op::kLess, 2), true},
      {"absent", Compare::Absent(k), false},
      {"absent other key", Compare::Absent(k + "-none"), true},
      {"create ==", Compare::CreateRevision(k, Op::kEqual, created), true},
      {"create !=", Compare::CreateRevision(k, Op::kNotEqual, created), false},
      {"create <", Compare::CreateRevision(k, Op::kLess, created), false},
      {"mod ==", Compare::ModRevision(k, Op::kEqual, modified), true},
      {"mod > older", Compare::ModRevision(k, Op::kGreater, modified - 1),
       true},
      {"mod < same", Compare::ModRevision(k, Op::kLess, modified), false},
      {"lease == 0", Compare::Lease(k, Op::kEqual, 0), true},
      {"lease == 42", Compare::Lease(k, Op::kEqual, 42), false},
      {"lease != 42", Compare::Lease(k, Op::kNotEqual, 42), true},
  };
  for (const CompareCase& c : cases) {
    SCOPED_TRACE(c.name);
    const TxnRequest txn{
        .compares = {c.compare},
        .success = {TxnOp::Put(Key("branch"), "success"), TxnOp::Get(k)},
        .failure = {TxnOp::Put(Key("branch"), "failure")}};
    ASSERT_OK_AND_ASSIGN(TxnResult result, client->Txn(txn, Ctx()));
    EXPECT_EQ(result.succeeded, c.holds);
    ASSERT_OK_AND_ASSIGN(GetResult branch, client->Get(Key("branch"), Ctx()));
    ASSERT_TRUE(branch.kv.has_value());
    EXPECT_EQ(branch.kv->value, c.holds ? "success" : "failure");
    EXPECT_EQ(branch.kv->mod_revision, result.revision);
    if (c.holds) {
      ASSERT_EQ(result.responses.size(), 2u);
      EXPECT_EQ(result.responses[0].kind, TxnOp::Kind::kPut);
      EXPECT_EQ(result.responses[1].kind, TxnOp::Kind::kRange);
      ASSERT_EQ(result.responses[1].kvs.size(), 1u);
      EXPECT_EQ(result.responses[1].kvs[0], kv);  // the compared key, as is
    } else {
      ASSERT_EQ(result.responses.size(), 1u);
    }
  }
}

// The pattern leader election builds on: a write fenced on the create
// revision of a leadership key fails once that key was re-created by a new
// holder, and the failure branch reads who holds it now.
TEST_F(EtcdTest, TxnFencedOnLeadershipKeyFailsAfterTheKeyIsRecreated) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  const std::string leader = Key("leader");
  const TxnRequest campaign{.compares = {Compare::Absent(leader)},
                            .success = {TxnOp::Put(leader, "replica-1")},
                            .failure = {TxnOp::Get(leader)}};
  ASSERT_OK_AND_ASSIGN(TxnResult won, client->Txn(campaign, Ctx()));
  ASSERT_TRUE(won.succeeded);
  const int64_t my_term = won.revision;  // create_revision of the key

  auto fenced_write = [&](const std::string& value) {
    return client->Txn({.compares = {Compare::CreateRevision(
                            leader, CompareOp::kEqual, my_term)},
                        .success = {TxnOp::Put(Key("orders/1"), value)},
                        .failure = {TxnOp::Get(leader)}},
                       Ctx());
  };
  ASSERT_OK_AND_ASSIGN(TxnResult first, fenced_write("placed"));
  EXPECT_TRUE(first.succeeded);

  // Deposed: the key goes away (its lease expired) and another replica
  // wins the next campaign.
  ASSERT_OK(client->Delete(leader, Ctx()));
  const TxnRequest other_campaign{.compares = {Compare::Absent(leader)},
                                  .success = {TxnOp::Put(leader, "replica-2")}};
  ASSERT_OK_AND_ASSIGN(TxnResult other_won, client->Txn(other_campaign, Ctx()));
  ASSERT_TRUE(other_won.succeeded);
  ASSERT_OK_AND_ASSIGN(TxnResult lost, client->Txn(campaign, Ctx()));
  EXPECT_FALSE(lost.succeeded);

  ASSERT_OK_AND_ASSIGN(TxnResult second, fenced_write("duplicate"));
  EXPECT_FALSE(second.succeeded);
  ASSERT_EQ(second.responses.size(), 1u);
  ASSERT_EQ(second.responses[0].kvs.size(), 1u);
  EXPECT_EQ(second.responses[0].kvs[0].value, "replica-2");
  ASSERT_OK_AND_ASSIGN(GetResult order, client->Get(Key("orders/1"), Ctx()));
  EXPECT_EQ(order.kv->value, "placed");
}

TEST_F(EtcdTest, TxnDeleteAndRangeOpsReportTheirResults) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  for (const char* name : {"x/1", "x/2", "x/3"}) {
    ASSERT_OK(client->Put(Key(name), name, Ctx()));
  }
  ASSERT_OK_AND_ASSIGN(
      TxnResult result,
      client->Txn({.success = {TxnOp::Range(KeyRange::Prefix(Key("x/")), 2),
                               TxnOp::DeleteRange(KeyRange::Prefix(Key("x/"))),
                               TxnOp::Delete(Key("x/none"))}},
                  Ctx()));
  EXPECT_TRUE(result.succeeded);  // no compares: always the success branch
  ASSERT_EQ(result.responses.size(), 3u);
  EXPECT_THAT(Keys(result.responses[0].kvs),
              ElementsAre(Key("x/1"), Key("x/2")));
  EXPECT_TRUE(result.responses[0].more);
  EXPECT_EQ(result.responses[1].kind, TxnOp::Kind::kDelete);
  EXPECT_EQ(result.responses[1].deleted, 3);
  EXPECT_EQ(result.responses[2].deleted, 0);
}

TEST_F(EtcdTest, TxnWithDuplicateKeysIsInvalidArgumentFromEtcd) {
  auto client = NewClient();
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Txn({.success = {TxnOp::Put(Key("d"), "1"),
                                       TxnOp::Put(Key("d"), "2")}},
                          Ctx()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("duplicate key given in txn request")));
}

}  // namespace
}  // namespace certfleet::etcd::testing
