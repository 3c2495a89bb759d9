// Feeds: arbitrary text as a target's journal (<directory>/.certfleet-state)
// to DecodeJournal — the file that tells the agent, running as root, what to
// complete or revert at start-up, in a directory other users of the host may
// have written into.
// Checks, beyond no crash and no sanitizer report: a refused journal is
// kDataLoss; every version name in an accepted journal follows the grammar
// the agent writes — checked here independently of the decoder (no '/', no
// leading dot so no "." or "..", no NUL, at most 255 bytes) and by the
// agent's own IsValidVersionName — so nothing named in it can point outside
// .versions/; and an accepted journal encodes and decodes to itself.
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "agent/install/state_files.h"
#include "agent/install/version_name.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool SafeName(const std::string& name) {
  if (name.empty()) return true;  // "" = none
  return name.size() <= 255 && name.front() != '.' &&
         !absl::StrContains(name, '/') &&
         !absl::StrContains(name, absl::string_view("\0", 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::agent;
  absl::StatusOr<Journal> journal =
      DecodeJournal(certfleet::fuzz::AsView(data, size));
  if (!journal.ok()) {
    FUZZ_CHECK(journal.status().code() == absl::StatusCode::kDataLoss,
               "a malformed journal is kDataLoss");
    return 0;
  }
  for (const std::string* name :
       {&journal->serving, &journal->previous, &journal->candidate}) {
    FUZZ_CHECK(SafeName(*name) && (name->empty() || IsValidVersionName(*name)),
               "version names in a journal follow the agent's grammar");
  }
  absl::StatusOr<Journal> again = DecodeJournal(EncodeJournal(*journal));
  FUZZ_CHECK(again.ok() && *again == *journal,
             "an accepted journal encodes and decodes to itself");
  (void)PhaseName(journal->phase);
  return 0;
}
