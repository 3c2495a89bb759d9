// Times and durations to and from protobuf's Timestamp and Duration: exact,
// normalized as the well-known types require, "unset" where asked.
#include "common/proto_time.h"

#include "gtest/gtest.h"

namespace certfleet {
namespace {

TEST(ProtoTimeTest, TimestampsRoundTripToTheNanosecond) {
  const absl::Time t = absl::FromUnixNanos(1700000000123456789);
  google::protobuf::Timestamp ts;
  TimeToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), 1700000000);
  EXPECT_EQ(ts.nanos(), 123456789);
  EXPECT_EQ(TimeFromProto(ts), t);
  EXPECT_EQ(TimeFromProtoOrPast(ts), t);
}

TEST(ProtoTimeTest, BeforeTheEpochNanosStayPositive) {
  google::protobuf::Timestamp ts;
  const absl::Time t = absl::UnixEpoch() - absl::Milliseconds(1500);
  TimeToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), -2);
  EXPECT_EQ(ts.nanos(), 500000000);
  EXPECT_EQ(TimeFromProto(ts), t);
}

TEST(ProtoTimeTest, FarFutureIsExact) {
  // RFC 5280's "no well-defined expiration", past int64 nanoseconds.
  const absl::Time t = absl::FromCivil(
      absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  google::protobuf::Timestamp ts;
  TimeToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), 253402300799);
  EXPECT_EQ(ts.nanos(), 0);
  EXPECT_EQ(TimeFromProto(ts), t);
}

TEST(ProtoTimeTest, InfiniteTimesClearTheField) {
  for (absl::Time t : {absl::InfinitePast(), absl::InfiniteFuture()}) {
    google::protobuf::Timestamp ts;
    ts.set_seconds(42);
    ts.set_nanos(7);
    TimeToProto(t, &ts);
    EXPECT_EQ(ts.seconds(), 0);
    EXPECT_EQ(ts.nanos(), 0);
    EXPECT_EQ(TimeFromProtoOrPast(ts), absl::InfinitePast());
    EXPECT_EQ(TimeFromProto(ts), absl::UnixEpoch());
  }
}

TEST(ProtoTimeTest, DurationsKeepOneSign) {
  google::protobuf::Duration d;
  DurationToProto(absl::Milliseconds(1500), &d);
  EXPECT_EQ(d.seconds(), 1);
  EXPECT_EQ(d.nanos(), 500000000);
  EXPECT_EQ(DurationFromProto(d), absl::Milliseconds(1500));

  DurationToProto(-absl::Milliseconds(1500), &d);
  EXPECT_EQ(d.seconds(), -1);
  EXPECT_EQ(d.nanos(), -500000000);
  EXPECT_EQ(DurationFromProto(d), -absl::Milliseconds(1500));

  DurationToProto(absl::Hours(2), &d);
  EXPECT_EQ(d.seconds(), 7200);
  EXPECT_EQ(d.nanos(), 0);
}

}  // namespace
}  // namespace certfleet
