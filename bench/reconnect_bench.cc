// certfleet-bench-reconnect: the reconnection storm after a coordinator
// restart. A real certfleet-coordinator on SQLite serves N simulated agents
// (certfleet-bench-agent-loadgen --reconnect: each reconnects by itself
// with certfleet-agent's backoff, jitter and welcome timeout); once all are
// connected and their inventories recorded, the coordinator is killed
// (SIGKILL, or SIGTERM with --restart term) and started again, and the
// bench times until every agent holds a welcomed stream again and until
// the store has recorded every agent's inventory since the restart
// (docs/benchmarks.md, "Reconnect storm").
//
//   certfleet-bench-reconnect --coordinator
//   build/coordinator/certfleet-coordinator
//       --loadgen build/bench/certfleet-bench-agent-loadgen
//       [--agents 10000] [--rounds 1] [--down 0s] [--restart kill|term]
//       [--perf DIR] [--timeout 10m] [--max-connecting 256] [--keep]
//
// --perf DIR records the restarted coordinator with `perf record -p` from
// its first instant until the round ends (DIR/perf-<round>.data). Prints
// each round's timeline (every 5 s), its figures, and one JSON line per
// round. Exit status 1 when a round does not complete within --timeout.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/child_process.h"
#include "bench/measured_process.h"
#include "bench/proc_stats.h"
#include "bench/reconnect_lab.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace certfleet::bench {
namespace {

constexpr char kUsage[] =
    "usage: certfleet-bench-reconnect --coordinator BIN --loadgen BIN\n"
    "         [--agents N] [--rounds N] [--down DURATION] [--restart "
    "kill|term]\n"
    "         [--perf DIR] [--timeout DURATION] [--max-connecting N] "
    "[--keep]\n";

struct Flags {
  ReconnectLabOptions lab;
  int rounds = 1;
  absl::Duration down = absl::ZeroDuration();
  bool sigkill = true;
  std::string perf_dir;
  absl::Duration timeout = absl::Minutes(10);
  bool keep = false;
};

double CpuSeconds(pid_t pid) {
  absl::StatusOr<ProcSample> s = SampleProcess(pid);
  return s.ok() ? s->cpu_ms / 1000.0 : 0;
}

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

struct RoundResult {
  double port_open_s = 0;     // restart → agent port accepts
  double all_open_s = 0;      // restart → every agent welcomed again
  double all_recorded_s = 0;  // restart → every inventory in the store
  double down_s = 0;          // kill → restart
  size_t attempts = 0, ended = 0, gave_up = 0;
  double coordinator_cpu_s = 0, loadgen_cpu_s = 0;
  std::string load_before, load_after;
};

absl::StatusOr<RoundResult> RunRound(ReconnectLab& lab, const Flags& f,
                                     int round) {
  const size_t n = static_cast<size_t>(f.lab.agents);
  RoundResult r;
  r.load_before = LoadAverage();
  ASSIGN_OR_RETURN(const LoadgenStatus before, lab.Status());
  const double loadgen_cpu_before = CpuSeconds(lab.loadgen_pid());
  const absl::Time killed = absl::Now();
  if (f.sigkill) {
    lab.KillCoordinator();
  } else {
    lab.StopCoordinator();
  }
  if (f.down > absl::ZeroDuration()) absl::SleepFor(f.down);
  const absl::Time restart = absl::Now();
  r.down_s = Seconds(restart - killed);
  RETURN_IF_ERROR(lab.StartCoordinator());
  r.port_open_s = Seconds(absl::Now() - restart);
  // Attached once it listens (a perf attached to the PID before exec lost
  // the process): the profile misses only the start-up.
  pid_t perf = 0;
  if (!f.perf_dir.empty()) {
    absl::StatusOr<pid_t> spawned =
        StartPerfRecord(lab.coordinator_pid(),
                        absl::StrCat(f.perf_dir, "/perf-", round, ".data"));
    if (spawned.ok()) {
      perf = *spawned;
    } else {
      fprintf(stderr, "no profile: %s\n", spawned.status().ToString().c_str());
    }
  }
  const pid_t coordinator = lab.coordinator_pid();
  printf(
      "round %d: %s, started again after %.2f s; agent port open %.2f s "
      "after the start\n",
      round, f.sigkill ? "SIGKILL" : "SIGTERM (exited)", r.down_s,
      r.port_open_s);
  printf("  %6s %10s %10s %9s %8s\n", "t", "connected", "recorded", "attempts",
         "gave up");
  absl::Time all_open = absl::InfinitePast();
  absl::Time all_recorded = absl::InfinitePast();
  absl::Time next_line = restart + absl::Seconds(5);
  LoadgenStatus last = before;
  int recorded = 0;
  while (true) {
    const absl::Time now = absl::Now();
    ASSIGN_OR_RETURN(last, lab.Status());
    if (all_open == absl::InfinitePast() && last.connected == n &&
        last.all_connected_at >= restart) {
      all_open = last.all_connected_at;
    }
    if (all_recorded == absl::InfinitePast()) {
      ASSIGN_OR_RETURN(recorded, lab.RecordedSince(restart));
      if (recorded == f.lab.agents) all_recorded = now;
    }
    const bool done = all_open != absl::InfinitePast() &&
                      all_recorded != absl::InfinitePast();
    if (now >= next_line || done) {
      printf("  %5.1fs %10zu %10d %9zu %8zu\n", Seconds(now - restart),
             last.connected, recorded, last.attempts - before.attempts,
             last.gave_up - before.gave_up);
      fflush(stdout);
      next_line += absl::Seconds(5);
    }
    if (done) break;
    if (Interrupted() || now - restart > f.timeout) {
      StopPerfRecord(perf);
      return absl::DeadlineExceededError(absl::StrCat(
          "round ", round, ": after ", absl::FormatDuration(f.timeout), " ",
          last.connected, " of ", n, " agents connected, ", recorded,
          " inventories recorded"));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  r.coordinator_cpu_s = CpuSeconds(coordinator);
  r.loadgen_cpu_s = CpuSeconds(lab.loadgen_pid()) - loadgen_cpu_before;
  StopPerfRecord(perf);
  r.all_open_s = Seconds(all_open - restart);
  r.all_recorded_s = Seconds(all_recorded - restart);
  r.attempts = last.attempts - before.attempts;
  r.ended = last.ended - before.ended;
  r.gave_up = last.gave_up - before.gave_up;
  r.load_after = LoadAverage();
  printf(
      "  all %zu streams open again %.2f s after the restart (%.2f s after "
      "the %s); all %d inventories recorded after %.2f s (polled every "
      "0.1 s)\n",
      n, r.all_open_s, Seconds(all_open - killed), f.sigkill ? "kill" : "stop",
      f.lab.agents, r.all_recorded_s);
  printf(
      "  stream attempts %zu (%.2f per agent), streams ended %zu, given up by "
      "agents %zu (no Welcome within 10 s, or silent)\n",
      r.attempts, static_cast<double>(r.attempts) / n, r.ended, r.gave_up);
  const double wall = std::max(r.all_open_s, r.all_recorded_s);
  printf(
      "  CPU until then: coordinator %.1f s, load generator %.1f s, over "
      "%.1f s on 2 cores\n",
      r.coordinator_cpu_s, r.loadgen_cpu_s, wall);
  printf("  load average before %s, after %s\n", r.load_before.c_str(),
         r.load_after.c_str());
  printf(
      "{\"round\":%d,\"agents\":%zu,\"restart\":\"%s\",\"down_s\":%.3f,"
      "\"port_open_s\":%.3f,\"all_open_s\":%.3f,\"all_recorded_s\":%.3f,"
      "\"attempts\":%zu,\"ended\":%zu,\"gave_up\":%zu,"
      "\"coordinator_cpu_s\":%.2f,\"loadgen_cpu_s\":%.2f,"
      "\"load_before\":\"%s\",\"load_after\":\"%s\"}\n",
      round, n, f.sigkill ? "kill" : "term", r.down_s, r.port_open_s,
      r.all_open_s, r.all_recorded_s, r.attempts, r.ended, r.gave_up,
      r.coordinator_cpu_s, r.loadgen_cpu_s, r.load_before.c_str(),
      r.load_after.c_str());
  fflush(stdout);
  return r;
}

absl::Status Run(const Flags& f) {
  printf("preparing %d enrolled agents, version 1 stored (load %s)\n",
         f.lab.agents, LoadAverage().c_str());
  fflush(stdout);
  ASSIGN_OR_RETURN(std::unique_ptr<ReconnectLab> lab,
                   ReconnectLab::Start(f.lab));
  if (f.keep) lab->KeepDir();
  printf("coordinator up; files in %s\n", lab->dir().c_str());
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(lab->StartAgents());
  const size_t n = static_cast<size_t>(f.lab.agents);
  // The first connections, paced by the load generator (--max-connecting).
  absl::Time all_open = absl::InfinitePast();
  absl::Time all_recorded = absl::InfinitePast();
  absl::Time next_line = start + absl::Seconds(10);
  while (all_open == absl::InfinitePast() ||
         all_recorded == absl::InfinitePast()) {
    if (Interrupted()) return absl::CancelledError("interrupted");
    if (absl::Now() - start > absl::Minutes(20)) {
      lab->KeepDir();
      return absl::DeadlineExceededError(
          absl::StrCat("the first connections took over 20 min (files in ",
                       lab->dir(), ")"));
    }
    absl::StatusOr<LoadgenStatus> s = lab->Status();
    if (absl::IsFailedPrecondition(s.status())) {
      lab->KeepDir();
      return s.status();
    }
    if (s.ok() && all_open == absl::InfinitePast() && s->connected == n) {
      all_open = s->all_connected_at;
    }
    ASSIGN_OR_RETURN(const int recorded, lab->RecordedSince(start));
    if (all_recorded == absl::InfinitePast() && recorded == f.lab.agents) {
      all_recorded = absl::Now();
    }
    if (absl::Now() >= next_line) {
      printf("  first connections: %zu connected, %d recorded after %.0f s\n",
             s.ok() ? s->connected : 0, recorded, Seconds(absl::Now() - start));
      fflush(stdout);
      next_line += absl::Seconds(10);
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  printf(
      "first connections (paced, at most %d waiting for their Welcome): all "
      "%zu open after %.2f s, all recorded after %.2f s (load %s)\n",
      f.lab.max_connecting, n, Seconds(all_open - start),
      Seconds(all_recorded - start), LoadAverage().c_str());
  fflush(stdout);
  for (int round = 1; round <= f.rounds; ++round) {
    // Let the first bundles' answers and the last reports be written.
    absl::SleepFor(absl::Seconds(5));
    absl::StatusOr<RoundResult> r = RunRound(*lab, f, round);
    if (!r.ok()) {
      lab->KeepDir();
      return absl::Status(
          r.status().code(),
          absl::StrCat(r.status().message(), " (files in ", lab->dir(), ")"));
    }
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--keep") {
      f.keep = true;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "%s needs a value\n%s", arg.c_str(), kUsage);
      return 2;
    }
    const std::string value = argv[++i];
    bool ok = true;
    if (arg == "--coordinator") {
      f.lab.coordinator = value;
    } else if (arg == "--loadgen") {
      f.lab.loadgen = value;
    } else if (arg == "--agents") {
      ok = absl::SimpleAtoi(value, &f.lab.agents) && f.lab.agents > 0;
    } else if (arg == "--max-connecting") {
      ok = absl::SimpleAtoi(value, &f.lab.max_connecting) &&
           f.lab.max_connecting > 0;
    } else if (arg == "--rounds") {
      ok = absl::SimpleAtoi(value, &f.rounds) && f.rounds > 0;
    } else if (arg == "--down") {
      ok = absl::ParseDuration(value, &f.down);
    } else if (arg == "--timeout") {
      ok = absl::ParseDuration(value, &f.timeout);
    } else if (arg == "--restart") {
      ok = value == "kill" || value == "term";
      f.sigkill = value == "kill";
    } else if (arg == "--perf") {
      f.perf_dir = value;
    } else {
      fprintf(stderr, "unknown argument \"%s\"\n%s", arg.c_str(), kUsage);
      return 2;
    }
    if (!ok) {
      fprintf(stderr, "%s: bad value \"%s\"\n%s", arg.c_str(), value.c_str(),
              kUsage);
      return 2;
    }
  }
  if (f.lab.coordinator.empty() || f.lab.loadgen.empty()) {
    fprintf(stderr, "%s", kUsage);
    return 2;
  }
  // N streams need N descriptors in the coordinator and the load generator;
  // both inherit this limit.
  RaiseFileLimit();
  // Children stopped by PID when the bench ends; a broken pipe is no reason
  // to die before that.
  signal(SIGPIPE, SIG_IGN);
  InstallInterruptHandler();
  // The store preparation's own lines (10,000 enrollments) say nothing.
  SetLogLevel(LogLevel::kWarning);
  if (absl::Status s = Run(f); !s.ok()) {
    fprintf(stderr, "certfleet-bench-reconnect: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace certfleet::bench

int main(int argc, char** argv) { return certfleet::bench::Main(argc, argv); }
