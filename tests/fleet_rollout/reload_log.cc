#include "tests/fleet_rollout/reload_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace certfleet::fleet_rollout {

std::string ReloadScript() {
  return R"sh(#!/bin/sh
# reload.sh LOG COMMAND [ARGS...]: runs COMMAND, logging when it began and
# ended; holds the reload open 300 ms so overlapping changes are visible.
log="$1"
shift
echo "begin $(date +%s%N)" >> "$log"
"$@"
rc=$?
sleep 0.3
echo "end $(date +%s%N) $rc" >> "$log"
exit $rc
)sh";
}

std::vector<ReloadSpan> ParseReloadLog(absl::string_view text, int slot,
                                       const std::string& pool) {
  std::vector<ReloadSpan> spans;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t ns = 0;
    if (f.size() < 2 || !absl::SimpleAtoi(f[1], &ns)) continue;
    if (f[0] == "begin") {
      spans.push_back(
          {.slot = slot, .pool = pool, .begin = absl::FromUnixNanos(ns)});
    } else if (f[0] == "end" && f.size() == 3 && !spans.empty() &&
               spans.back().exit_code == -1) {
      spans.back().end = absl::FromUnixNanos(ns);
      if (!absl::SimpleAtoi(f[2], &spans.back().exit_code)) {
        spans.back().exit_code = -2;
      }
    }
  }
  return spans;
}

int MaxConcurrent(const std::vector<ReloadSpan>& spans) {
  // Sweep: +1 at a begin, -1 at an end; at equal instants ends first, so
  // touching spans do not count as overlapping.
  std::vector<std::pair<absl::Time, int>> edges;
  for (const ReloadSpan& s : spans) {
    edges.emplace_back(s.begin, +1);
    edges.emplace_back(s.end, -1);
  }
  std::sort(edges.begin(), edges.end());
  int open = 0, most = 0;
  for (const auto& [at, delta] : edges) {
    open += delta;
    most = std::max(most, open);
  }
  return most;
}

std::vector<ReloadSpan> Since(const std::vector<ReloadSpan>& spans,
                              absl::Time since) {
  std::vector<ReloadSpan> out;
  for (const ReloadSpan& s : spans) {
    if (s.begin >= since) out.push_back(s);
  }
  return out;
}

std::vector<ReloadSpan> OfPool(const std::vector<ReloadSpan>& spans,
                               const std::string& pool) {
  std::vector<ReloadSpan> out;
  for (const ReloadSpan& s : spans) {
    if (s.pool == pool) out.push_back(s);
  }
  return out;
}

std::string Describe(const std::vector<ReloadSpan>& spans) {
  std::string out;
  for (const ReloadSpan& s : spans) {
    absl::StrAppend(
        &out, "  slot ", s.slot, " (", s.pool, ") ",
        absl::FormatTime("%H:%M:%E3S", s.begin, absl::UTCTimeZone()), "–",
        s.end == absl::InfiniteFuture()
            ? std::string("running")
            : absl::FormatTime("%H:%M:%E3S", s.end, absl::UTCTimeZone()),
        " exit ", s.exit_code, "\n");
  }
  return out;
}

}  // namespace certfleet::fleet_rollout
