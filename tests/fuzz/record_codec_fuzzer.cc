// Feeds: arbitrary bytes as an etcd value to DecodeRecord for each of the
// ten record kinds of coordinator/store/record_codec.h — what every replica
// reads back from etcd, which another (perhaps older, perhaps compromised)
// coordinator wrote.
// Checks, beyond no crash, leak or sanitizer report:
//  - a refused value is kDataLoss;
//  - a decoded record that encodes (encoding refuses invalid UTF-8 in list
//    fields) decodes back to an equal record, and encoding that is stable:
//    encode(decode(encode(decode(x)))) == encode(decode(x)).
#include <cstdint>
#include <string>

#include "coordinator/store/record_codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

template <typename Record>
void RoundTrip(absl::string_view bytes) {
  using namespace certfleet::store;
  Record record;
  const absl::Status decoded = DecodeRecord(bytes, &record);
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.code() == absl::StatusCode::kDataLoss,
               "an undecodable value is kDataLoss");
    return;
  }
  absl::StatusOr<std::string> encoded = EncodeRecord(record);
  if (!encoded.ok()) {
    FUZZ_CHECK(encoded.status().code() == absl::StatusCode::kInvalidArgument,
               "a record that cannot be encoded is kInvalidArgument");
    return;
  }
  Record again;
  FUZZ_CHECK(DecodeRecord(*encoded, &again).ok(),
             "what EncodeRecord wrote decodes");
  FUZZ_CHECK(again == record, "decode(encode(r)) == r");
  absl::StatusOr<std::string> twice = EncodeRecord(again);
  FUZZ_CHECK(twice.ok() && *twice == *encoded, "encoding is stable");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::store;
  const absl::string_view bytes = certfleet::fuzz::AsView(data, size);
  RoundTrip<AccountRecord>(bytes);
  RoundTrip<CertificateState>(bytes);
  RoundTrip<VersionRecord>(bytes);
  RoundTrip<OrderRecord>(bytes);
  RoundTrip<AgentRecord>(bytes);
  RoundTrip<TokenRecord>(bytes);
  RoundTrip<InternalCaRecord>(bytes);
  RoundTrip<TargetStateRecord>(bytes);
  RoundTrip<RolloutRecord>(bytes);
  RoundTrip<AuditRecord>(bytes);
  return 0;
}
