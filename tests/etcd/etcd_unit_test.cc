// The parts of the etcd client that need no etcd: option checks, key
// ranges, the mapping of etcd's errors, and the retry policy (run on a fake
// clock with scripted gRPC outcomes).
#include <deque>

#include "absl/strings/str_cat.h"
#include "common/etcd/etcd_client.h"
#include "common/etcd/etcd_connection.h"
#include "common/etcd/etcd_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::etcd {
namespace {

using ::certfleet::testing::FakeClock;
using ::certfleet::testing::StatusIs;
using internal::CallKind;
using internal::ClassifyForRetry;
using internal::FromGrpcStatus;
using internal::RetryClass;
using ::testing::HasSubstr;

TEST(PrefixEndTest, IncrementsTheLastByteThatCanBe) {
  EXPECT_EQ(PrefixEnd("/a/"), "/a0");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
  EXPECT_EQ(KeyRange::Prefix("ab").range_end, "ac");
}

TEST(EtcdClientOptionsTest, BadEndpointsAndFilesAreInvalidArgument) {
  struct Case {
    EtcdClientOptions options;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "no endpoints"},
      {{.endpoints = {"localhost:2379"}}, "not an IP address"},
      {{.endpoints = {"127.0.0.1"}}, "no port"},
      {{.endpoints = {"127.0.0.1:99999"}}, "bad port"},
      {{.endpoints = {"127.0.0.1:2379", "[::1]:2379"}}, "mix IPv4 and IPv6"},
      {{.endpoints = {"https://127.0.0.1:2379"}}, "is https but no ca_file"},
      {{.endpoints = {"http://127.0.0.1:2379"}, .ca_file = "/etc/hostname"},
       "is http but ca_file asks for TLS"},
      {{.endpoints = {"127.0.0.1:2379"}, .ca_file = "/nonexistent/ca.pem"},
       "ca_file: cannot read /nonexistent/ca.pem"},
      {{.endpoints = {"127.0.0.1:2379"}, .ca_file = "/etc/hostname"},
       "/etc/hostname holds no PEM block"},
      {{.endpoints = {"127.0.0.1:2379"}, .cert_file = "/x.pem"},
       "need ca_file"},
      {{.endpoints = {"127.0.0.1:2379"}, .call_timeout = absl::ZeroDuration()},
       "call_timeout"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_THAT(
        EtcdClient::Create(c.options),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
  EXPECT_OK(EtcdClient::Create({.endpoints = {"http://127.0.0.1:2379/"}}));
  EXPECT_OK(EtcdClient::Create({.endpoints = {"[::1]:2379", "[::1]:2380"}}));
}

TEST(EtcdStatusTest, KeepsEtcdsCodesExceptWhereTheyMislead) {
  const std::string via = "[127.0.0.1:1]";
  auto map = [&](grpc::StatusCode code, const std::string& message) {
    return FromGrpcStatus(grpc::Status(code, message), "KV.Put \"/a\"", via);
  };
  EXPECT_THAT(
      map(grpc::StatusCode::NOT_FOUND, "etcdserver: requested lease not found"),
      StatusIs(absl::StatusCode::kNotFound,
               "etcd KV.Put \"/a\" via [127.0.0.1:1]: etcdserver: "
               "requested lease not found"));
  EXPECT_THAT(map(grpc::StatusCode::OUT_OF_RANGE,
                  "etcdserver: mvcc: required revision has been compacted"),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(map(grpc::StatusCode::UNKNOWN, "raft proposal dropped"),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(
      map(grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: not leader"),
      StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(
      map(grpc::StatusCode::OUT_OF_RANGE, "etcdserver: too large lease TTL"),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(map(grpc::StatusCode::RESOURCE_EXHAUSTED,
                  "etcdserver: mvcc: database space exceeded"),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(EtcdStatusTest, OnlyRequestsEtcdNeverTookAreSafeToRepeat) {
  auto classify = [](grpc::StatusCode code, const std::string& message) {
    return ClassifyForRetry(grpc::Status(code, message));
  };
  EXPECT_EQ(classify(grpc::StatusCode::UNAVAILABLE,
                     "failed to connect to all addresses; last error: ..."),
            RetryClass::kNotApplied);
  EXPECT_EQ(classify(grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader"),
            RetryClass::kNotApplied);
  EXPECT_EQ(classify(grpc::StatusCode::UNKNOWN, "raft proposal dropped"),
            RetryClass::kNotApplied);
  EXPECT_EQ(
      classify(grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out"),
      RetryClass::kMaybeApplied);
  EXPECT_EQ(classify(grpc::StatusCode::UNAVAILABLE, "Socket closed"),
            RetryClass::kMaybeApplied);
  EXPECT_EQ(classify(grpc::StatusCode::NOT_FOUND,
                     "etcdserver: requested lease not found"),
            RetryClass::kPermanent);
  EXPECT_EQ(classify(grpc::StatusCode::UNKNOWN, "something else"),
            RetryClass::kPermanent);
}

// RunCall on a fake clock, with each attempt's gRPC outcome scripted.
class RetryPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto connection = internal::Connect({.endpoints = {"127.0.0.1:1"},
                                         .call_timeout = absl::Seconds(5),
                                         .clock = &clock_});
    ASSERT_OK(connection);
    connection_ = *connection;
  }
  absl::Status Run(CallKind kind, std::deque<grpc::Status> script,
                   const Context& ctx = Context::Background()) {
    attempts_ = 0;
    return internal::RunCall(*connection_, kind, "KV.Test", ctx,
                             [&](grpc::ClientContext*) {
                               ++attempts_;
                               if (script.empty()) return grpc::Status::OK;
                               grpc::Status next = script.front();
                               script.pop_front();
                               return next;
                             });
  }
  FakeClock clock_;
  std::shared_ptr<internal::Connection> connection_;
  int attempts_ = 0;
};

const grpc::Status kTimedOut(grpc::StatusCode::UNAVAILABLE,
                             "etcdserver: request timed out");
const grpc::Status kDropped(grpc::StatusCode::UNKNOWN, "raft proposal dropped");

TEST_F(RetryPolicyTest, ReadsRepeatAnyTransientFailure) {
  EXPECT_OK(Run(CallKind::kRead, {kTimedOut, kDropped, kTimedOut}));
  EXPECT_EQ(attempts_, 4);
}

TEST_F(RetryPolicyTest, WritesRepeatOnlyWhatEtcdDidNotTake) {
  EXPECT_OK(Run(CallKind::kWrite, {kDropped, kDropped}));
  EXPECT_EQ(attempts_, 3);
  EXPECT_THAT(
      Run(CallKind::kWrite, {kDropped, kTimedOut}),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("request timed out (failed after 2 attempts)")));
  EXPECT_EQ(attempts_, 2);
}

TEST_F(RetryPolicyTest, PermanentErrorsAreReturnedAtOnce) {
  EXPECT_THAT(
      Run(CallKind::kRead,
          {grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: x")}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "etcd KV.Test via [127.0.0.1:1]: etcdserver: x"));
  EXPECT_EQ(attempts_, 1);
}

TEST_F(RetryPolicyTest, GivesUpWithTheLastErrorWhenTimeRunsOut) {
  std::deque<grpc::Status> forever(1000, kTimedOut);
  EXPECT_THAT(Run(CallKind::kRead, forever),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("(out of time after")));
  // Backoff capped at 0.5 s within a 5 s budget.
  EXPECT_GT(attempts_, 8);
  EXPECT_LT(attempts_, 40);
}

TEST_F(RetryPolicyTest, CancelledOrExpiredContextsMakeNoAttempt) {
  auto cancel = std::make_shared<Cancellation>();
  cancel->Cancel();
  EXPECT_THAT(
      Run(CallKind::kRead, {}, Context::Background().WithCancellation(cancel)),
      StatusIs(absl::StatusCode::kCancelled, "etcd KV.Test: cancelled"));
  EXPECT_THAT(
      Run(CallKind::kRead, {},
          Context::Background().WithDeadline(clock_.Now())),
      StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("no time left")));
  EXPECT_EQ(attempts_, 0);
}

}  // namespace
}  // namespace certfleet::etcd
