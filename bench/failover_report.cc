#include "bench/failover_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace certfleet::bench {
namespace {

std::string Seconds(absl::Duration d) {
  return absl::StrFormat("%.2fs", absl::ToDoubleSeconds(d));
}

struct Spread {
  absl::Duration min, median, p90, max;
};

// Median: the mean of the middle two of an even count; p90: nearest rank.
std::optional<Spread> SpreadOf(std::vector<absl::Duration> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const size_t rank90 = static_cast<size_t>(std::ceil(0.9 * n));
  return Spread{.min = v.front(),
                .median = (v[(n - 1) / 2] + v[n / 2]) / 2,
                .p90 = v[rank90 - 1],
                .max = v.back()};
}

std::string SpreadLine(const std::optional<Spread>& s) {
  if (!s.has_value()) return "n/a";
  return absl::StrCat("min ", Seconds(s->min), "  median ", Seconds(s->median),
                      "  p90 ", Seconds(s->p90), "  max ", Seconds(s->max));
}

std::string JsonSeconds(const std::optional<Spread>& s,
                        absl::Duration Spread::*field) {
  return s.has_value()
             ? absl::StrFormat("%.3f", absl::ToDoubleSeconds((*s).*field))
             : "null";
}

}  // namespace

const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kKill:
      return "kill";
    case Fault::kStop:
      return "stop";
    case Fault::kCut:
      return "cut";
  }
  return "?";
}

const char* FaultDone(Fault fault) {
  switch (fault) {
    case Fault::kKill:
      return "SIGKILLed";
    case Fault::kStop:
      return "SIGSTOPped";
    case Fault::kCut:
      return "cut off from etcd";
  }
  return "?";
}

void PrintRound(Fault fault, int n, const Round& round) {
  const std::string agents =
      round.moved.has_value()
          ? absl::StrCat("its ", round.agents,
                         round.agents == 1 ? " agent" : " agents",
                         " elsewhere after ", Seconds(*round.moved))
          : "it had no agents: n/a";
  printf("%-4s %2d: %s %s → %s leads after %s; %s\n", FaultName(fault), n,
         round.faulted.c_str(), FaultDone(fault), round.next.c_str(),
         Seconds(round.leader).c_str(), agents.c_str());
  fflush(stdout);
}

std::string Summarize(const RunSettings& settings, Fault fault,
                      const std::vector<Round>& rounds) {
  std::vector<absl::Duration> leader, moved;
  for (const Round& r : rounds) {
    leader.push_back(r.leader);
    if (r.moved.has_value()) moved.push_back(*r.moved);
  }
  const std::optional<Spread> a = SpreadOf(leader);
  const std::optional<Spread> b = SpreadOf(moved);
  printf(
      "\n%s: leader %s, %zu rounds, lease_ttl %s, cut_off_after %s, "
      "%d agents:\n",
      FaultName(fault), FaultDone(fault), rounds.size(),
      absl::FormatDuration(settings.lease_ttl).c_str(),
      absl::FormatDuration(settings.cut_off_after).c_str(), settings.agents);
  printf("  (a) new leader's first write:      %s\n", SpreadLine(a).c_str());
  printf("  (b) its agents on another replica: %s (%zu rounds with agents)\n",
         SpreadLine(b).c_str(), moved.size());
  if (fault == Fault::kKill && a.has_value()) {
    printf("  target: median (a) ≤ %s: %s\n",
           absl::FormatDuration(kKillTarget).c_str(),
           a->median <= kKillTarget ? "met" : "MISSED");
  }
  return absl::StrCat(
      "{\"bench\":\"failover\",\"fault\":\"", FaultName(fault),
      "\",\"rounds\":", rounds.size(),
      ",\"ttl_s\":", absl::ToDoubleSeconds(settings.lease_ttl),
      ",\"cut_off_after_s\":", absl::ToDoubleSeconds(settings.cut_off_after),
      ",\"agents\":", settings.agents,
      ",\"leader_median_s\":", JsonSeconds(a, &Spread::median),
      ",\"leader_p90_s\":", JsonSeconds(a, &Spread::p90),
      ",\"agents_median_s\":", JsonSeconds(b, &Spread::median),
      ",\"agents_p90_s\":", JsonSeconds(b, &Spread::p90), "}");
}

std::string LoadAverage() {
  char buf[128] = {};
  FILE* f = fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  const size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  std::vector<std::string> fields =
      absl::StrSplit(absl::string_view(buf, n), ' ');
  fields.resize(3);
  return absl::StrJoin(fields, " ");
}

}  // namespace certfleet::bench
