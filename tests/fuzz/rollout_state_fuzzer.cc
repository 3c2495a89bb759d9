// Feeds: arbitrary text as a rollout's persisted state (the state_json of a
// rollout record) to RolloutStateFromJson — what a new leader resumes every
// unfinished rollout from, read back from the store (SQLite, or etcd that
// other replicas write).
// Checks, beyond no crash and no sanitizer report: a refused state is
// kDataLoss; an accepted one survives RolloutStateToJson →
// RolloutStateFromJson equal, and writing it again gives the same text.
#include <cstdint>
#include <string>

#include "coordinator/rollout/rollout_state.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certfleet::rollout;
  absl::StatusOr<RolloutState> state =
      RolloutStateFromJson(certfleet::fuzz::AsView(data, size));
  if (!state.ok()) {
    FUZZ_CHECK(state.status().code() == absl::StatusCode::kDataLoss,
               "a malformed rollout state is kDataLoss");
    return 0;
  }
  const std::string json = RolloutStateToJson(*state);
  absl::StatusOr<RolloutState> back = RolloutStateFromJson(json);
  FUZZ_CHECK(back.ok(), "what RolloutStateToJson wrote decodes");
  FUZZ_CHECK(*back == *state, "decode(encode(s)) == s");
  FUZZ_CHECK(RolloutStateToJson(*back) == json, "encoding is stable");
  return 0;
}
