// The reload log of the rollout lab: every agent's reload command runs
// through a script that appends "begin <unix ns>" and "end <unix ns>
// <exit code>" to a log of its own, and holds the reload open for 300 ms
// after the real command, so that two hosts changed together are seen
// overlapping. Tests judge the rollout's limits from these spans.
//
//   WriteFileOrDie(dir + "/reload.sh", ReloadScript(), 0755);
//   argv = {dir + "/reload.sh", log, "nginx", "-s", "reload"};
//   std::vector<ReloadSpan> spans = ParseReloadLog(text, slot, pool);
//   int most = MaxConcurrent(spans);
#ifndef CERTFLEET_TESTS_FLEET_ROLLOUT_RELOAD_LOG_H_
#define CERTFLEET_TESTS_FLEET_ROLLOUT_RELOAD_LOG_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace certfleet::fleet_rollout {

// One reload command as the script saw it.
struct ReloadSpan {
  int slot = 0;
  std::string pool;
  absl::Time begin;
  absl::Time end = absl::InfiniteFuture();  // still running
  int exit_code = -1;                       // -1 while running
};

// The script: `reload.sh LOG COMMAND [ARGS...]`.
std::string ReloadScript();

// The spans in one log (of `slot` in `pool`), in order; lines that do not
// parse are skipped (a reload killed half-way leaves a begin alone).
std::vector<ReloadSpan> ParseReloadLog(absl::string_view text, int slot,
                                       const std::string& pool);

// The most spans open at one instant.
int MaxConcurrent(const std::vector<ReloadSpan>& spans);

// Spans that began at or after `since`.
std::vector<ReloadSpan> Since(const std::vector<ReloadSpan>& spans,
                              absl::Time since);
// Spans of `pool`.
std::vector<ReloadSpan> OfPool(const std::vector<ReloadSpan>& spans,
                               const std::string& pool);

// "slot 3 (p0) 12:00:01.120–12:00:01.450 exit 0" lines, for messages.
std::string Describe(const std::vector<ReloadSpan>& spans);

}  // namespace certfleet::fleet_rollout

#endif  // CERTFLEET_TESTS_FLEET_ROLLOUT_RELOAD_LOG_H_
