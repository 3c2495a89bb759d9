// The store's records as bytes, for backends that keep one value per record
// (etcd): protobuf messages of proto/certfleet/v1/store.proto, field for
// field — each member of the record's table (record_fields.h) goes to the
// message field of the same name, through protobuf reflection. Encoding
// checks what the Store contract asks of every backend —
// the list and map fields (names, contacts, dns_records, labels) must be
// valid UTF-8 — and fails with kInvalidArgument naming the field; decoding
// fails with kDataLoss naming the record kind. Times keep nanoseconds and
// both infinities; byte strings round-trip exactly.
//
//   ASSIGN_OR_RETURN(std::string value, EncodeRecord(version));
//   VersionRecord back;
//   RETURN_IF_ERROR(DecodeRecord(value, &back));
#ifndef CERTFLEET_COORDINATOR_STORE_RECORD_CODEC_H_
#define CERTFLEET_COORDINATOR_STORE_RECORD_CODEC_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coordinator/store/store.h"

namespace certfleet::store {

// For every record type of store.h but DnsRecordRef (part of an order):
// AccountRecord, CertificateState, VersionRecord, OrderRecord, AgentRecord,
// TokenRecord, InternalCaRecord, TargetStateRecord, RolloutRecord and
// AuditRecord (instantiated in record_codec.cc).
template <typename Record>
absl::StatusOr<std::string> EncodeRecord(const Record& r);
template <typename Record>
absl::Status DecodeRecord(absl::string_view bytes, Record* out);

}  // namespace certfleet::store

#endif  // CERTFLEET_COORDINATOR_STORE_RECORD_CODEC_H_
