// Feeds: one DNS message in wire format to TsigVerifyResponse, the way
// Rfc2136Provider reads a name server's answer to a signed UPDATE (a fixed
// key, request MAC and clock; see fuzz_util.h). The reply comes from the
// network, so every length, count and compression pointer in it is hostile.
// Checks, beyond no crash and no sanitizer report:
//  - a verified reply carries a TSIG record with NOERROR and no problem;
//    a reply that is not verified says why;
//  - round trip: the input's first 12 bytes as a header with empty
//    sections, signed by TsigSign as a reply to the request MAC, verify.
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/dns/tsig.h"
#include "tests/fuzz/fuzz_util.h"

namespace certfleet::dns {
namespace {

const TsigKey& Key() {
  static const TsigKey* key = [] {
    absl::StatusOr<TsigKey> k = TsigKey::Create(
        fuzz::kTsigKeyName, fuzz::kTsigAlgorithm, fuzz::kTsigSecretBase64);
    FUZZ_CHECK(k.ok(), "the fuzz TSIG key is valid");
    return new TsigKey(*std::move(k));
  }();
  return *key;
}

}  // namespace
}  // namespace certfleet::dns

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::dns;
  namespace fuzz = certfleet::fuzz;
  const absl::string_view input = fuzz::AsView(data, size);

  const TsigResult r =
      TsigVerifyResponse(Key(), fuzz::kTsigRequestMac, input, fuzz::Now());
  if (r.verified) {
    FUZZ_CHECK(r.present && r.error == 0 && r.problem.empty(),
               "a verified reply has a TSIG record with NOERROR");
  } else {
    FUZZ_CHECK(!r.problem.empty(), "an unverified reply says why");
  }
  (void)TsigErrorName(r.error);

  if (input.size() >= 12) {
    std::string header(input.substr(0, 12));
    for (int i = 4; i < 12; ++i) header[i] = 0;  // no records yet
    absl::StatusOr<std::string> mac =
        TsigSign(Key(), fuzz::Now(), &header, fuzz::kTsigRequestMac);
    FUZZ_CHECK(mac.ok(), "signing a 12-byte header succeeds");
    const TsigResult back =
        TsigVerifyResponse(Key(), fuzz::kTsigRequestMac, header, fuzz::Now());
    FUZZ_CHECK(back.verified, "a reply signed by TsigSign verifies");
  }
  return 0;
}
