// Feeds: arbitrary text as a version record
// (.versions/<id>/.certfleet-version.json) to DecodeVersionInfo — a file the
// agent, running as root, reads back from a target directory that other
// users of the host may have written into.
// Checks, beyond no crash and no sanitizer report: a refused record is
// kDataLoss; a decoded record survives EncodeVersionInfo → DecodeVersionInfo
// with every field equal.
#include <cstdint>
#include <string>

#include "agent/install/state_files.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::agent;
  absl::StatusOr<VersionInfo> info =
      DecodeVersionInfo(certfleet::fuzz::AsView(data, size));
  if (!info.ok()) {
    FUZZ_CHECK(info.status().code() == absl::StatusCode::kDataLoss,
               "a malformed version record is kDataLoss");
    return 0;
  }
  absl::StatusOr<VersionInfo> back =
      DecodeVersionInfo(EncodeVersionInfo(*info));
  FUZZ_CHECK(back.ok(), "what EncodeVersionInfo wrote decodes");
  FUZZ_CHECK(back->version_id == info->version_id &&
                 back->certificate == info->certificate &&
                 back->serial == info->serial &&
                 back->not_after == info->not_after &&
                 back->written_at == info->written_at &&
                 back->leaf_pem == info->leaf_pem,
             "decode(encode(v)) == v");
  return 0;
}
