// Conversions between abseil's time types and protobuf's well-known
// google.protobuf.Timestamp and Duration, the one place every certfleet.v1
// message (agent stream, admin API) gets its times from.
//
// protobuf's own util::TimeUtil is not used: its nanosecond conversions
// overflow past 2262 (a certificate may say notAfter 9999-12-31, RFC 5280
// section 4.1.2.5) and its timeval ones drop nanoseconds; these are exact
// over a Timestamp's whole range.
//
//   TimeToProto(version.not_after, out.mutable_not_after());
//   absl::Time since = TimeFromProtoOrPast(request.since());
#ifndef CERTFLEET_COMMON_PROTO_TIME_H_
#define CERTFLEET_COMMON_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace certfleet {

// Sets `out` to `t`. An infinite time (a Timestamp cannot hold one: "never",
// "not decided") clears `out` to all zero, as a field never set reads.
void TimeToProto(absl::Time t, google::protobuf::Timestamp* out);

// The time in `ts`, exactly: an all-zero Timestamp is the Unix epoch.
absl::Time TimeFromProto(const google::protobuf::Timestamp& ts);

// Like TimeFromProto, but an all-zero Timestamp (never set, or set from an
// infinite or epoch time) is absl::InfinitePast(): for fields where "unset"
// means "never".
absl::Time TimeFromProtoOrPast(const google::protobuf::Timestamp& ts);

// Sets `out` to `d` (seconds and nanoseconds of the same sign, as
// google.protobuf.Duration requires).
void DurationToProto(absl::Duration d, google::protobuf::Duration* out);

// The duration in `d`.
absl::Duration DurationFromProto(const google::protobuf::Duration& d);

}  // namespace certfleet

#endif  // CERTFLEET_COMMON_PROTO_TIME_H_
