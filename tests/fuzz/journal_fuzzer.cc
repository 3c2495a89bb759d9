// Feeds: arbitrary text as a target's journal (<directory>/.certfleet-state)
// to DecodeJournal — the file that tells the agent, running as root, what to
// complete or revert at start-up, in a directory other users of the host may
// have written into.
// Checks, beyond no crash and no sanitizer report: a refused journal is
// kDataLoss; every version name in an accepted journal follows the grammar
// the agent writes (no '/', no leading dot so no "." or "..", no NUL, at
// most 255 bytes), so nothing named in it can point outside .versions/.
//
// Not built yet: DecodeJournal(absl::string_view) arrives with the journal
// validation change (see the commented entry in tests/fuzz/CMakeLists.txt).
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "agent/install/state_files.h"
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
  FUZZ_CHECK(SafeName(journal->serving) && SafeName(journal->previous) &&
                 SafeName(journal->candidate),
             "version names in a journal follow the agent's grammar");
  (void)PhaseName(journal->phase);
  return 0;
}
