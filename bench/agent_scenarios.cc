#include "bench/agent_scenarios.h"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "bench/agent_fleet.h"
#include "bench/child_process.h"
#include "bench/fleet_coordinator.h"
#include "bench/measured_process.h"
#include "bench/proc_stats.h"
#include "bench/sim_agents.h"
#include "common/status_macros.h"
#include "tests/testing/temp_dir.h"

namespace certfleet::bench {
namespace {

// Sleeps `d`, a second at a time, stopping early on SIGINT/SIGTERM.
absl::Status SleepUnlessInterrupted(absl::Duration d) {
  const absl::Time end = absl::Now() + d;
  while (absl::Now() < end) {
    if (Interrupted()) return absl::CancelledError("interrupted");
    absl::SleepFor(std::min(absl::Seconds(1), end - absl::Now()));
  }
  return absl::OkStatus();
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("cannot create ", path));
  }
  return absl::OkStatus();
}

// This process's RSS as read, then after handing free heap back.
void SampleSelf(long* raw_kb, long* trimmed_kb) {
  absl::StatusOr<ProcSample> s = SampleProcess(0);
  *raw_kb = s.ok() ? s->rss_kb : 0;
  malloc_trim(0);
  s = SampleProcess(0);
  *trimmed_kb = s.ok() ? s->rss_kb : 0;
}

double SelfCpuMs() {
  absl::StatusOr<ProcSample> s = SampleProcess(0);
  return s.ok() ? s->cpu_ms : 0;
}

// Stops the load generator however the scenario ends.
struct ChildGuard {
  pid_t pid = 0;
  ~ChildGuard() {
    if (pid > 0) StopChildren({pid}, absl::Seconds(5));
  }
};

// Runs the timed rounds: a new version, then wait for `n` ok results.
absl::Status RunRounds(FleetCoordinator& coord, const ScenarioOptions& o,
                       size_t n, FanoutResult& r) {
  for (int round = 0; round < o.rounds; ++round) {
    const double cpu0 = SelfCpuMs();
    ASSIGN_OR_RETURN(FleetCoordinator::Published v, coord.PublishVersion());
    absl::StatusOr<absl::Time> last =
        coord.WaitForOk(v.version_id, n, absl::Seconds(120));
    if (!last.ok()) return last.status();
    const double cpu_ms = SelfCpuMs() - cpu0;
    const double s = absl::ToDoubleSeconds(*last - v.notified_at);
    r.round_s.push_back(s);
    r.round_cpu_ms.push_back(cpu_ms);
    r.failed += coord.Failed(v.version_id, nullptr);
    printf("  round %d: %s to %zu agents in %.3f s (coordinator CPU %.0f ms)\n",
           round + 1, v.version_id.c_str(), n, s, cpu_ms);
    fflush(stdout);
    // Let the inventories that follow each result drain.
    RETURN_IF_ERROR(SleepUnlessInterrupted(absl::Seconds(1)));
  }
  return absl::OkStatus();
}

void PrintMemory(const FanoutResult& r) {
  printf(
      "  coordinator RSS: %ld kB with 0 agents, %ld kB with %d connected "
      "→ %.1f kB per agent (after malloc_trim: %ld → %ld kB, %.1f kB per "
      "agent); %ld threads\n",
      r.rss0_kb, r.rssn_kb, r.agents, r.kb_per_agent, r.rss0_trim_kb,
      r.rssn_trim_kb, r.kb_per_agent_trim, r.coordinator_threads);
}

}  // namespace

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

absl::StatusOr<FootprintResult> RunFootprint(const ScenarioOptions& o) {
  certfleet::testing::TempDir tmp("bench-footprint");
  if (o.keep) tmp.Keep();
  RETURN_IF_ERROR(MakeDir(tmp.File("agents")));
  ASSIGN_OR_RETURN(std::unique_ptr<FleetCoordinator> coord,
                   FleetCoordinator::Start(tmp.path()));
  ASSIGN_OR_RETURN(FleetCoordinator::Published v1, coord->PublishVersion());
  ASSIGN_OR_RETURN(std::string token, coord->CreateToken());
  AgentFleet fleet({.agent_binary = o.agent_binary,
                    .dir = tmp.File("agents"),
                    .coordinator = coord->address(),
                    .ca_pem = coord->ca_pem(),
                    .health_check = o.health_check,
                    .env = o.agent_env});
  RETURN_IF_ERROR(fleet.Enroll({token}, 1));
  RETURN_IF_ERROR(fleet.StartAll());
  if (absl::StatusOr<absl::Time> ok =
          coord->WaitForOk(v1.version_id, 1, absl::Seconds(30));
      !ok.ok()) {
    return Annotate(ok.status(), absl::StrCat("agent log: ", fleet.LogTail(0)));
  }
  // Startup and the first install are over; measure the steady state.
  RETURN_IF_ERROR(SleepUnlessInterrupted(absl::Seconds(2)));
  const pid_t pid = fleet.pids()[0];
  ASSIGN_OR_RETURN(ProcSample before, SampleProcess(pid));
  printf("  agent pid %d connected and serving %s; idle for %s\n", pid,
         v1.version_id.c_str(), absl::FormatDuration(o.idle).c_str());
  fflush(stdout);
  RETURN_IF_ERROR(SleepUnlessInterrupted(o.idle));
  ASSIGN_OR_RETURN(ProcSample after, SampleProcess(pid));
  if (coord->connected() != 1) {
    return absl::InternalError(absl::StrCat(
        "the agent's stream did not stay open: ", fleet.LogTail(0)));
  }
  FootprintResult r{.idle_s = absl::ToDoubleSeconds(o.idle),
                    .rss_kb = after.rss_kb,
                    .hwm_kb = after.hwm_kb,
                    .anon_kb = after.rss_anon_kb,
                    .file_kb = after.rss_file_kb,
                    .pss_kb = after.pss_kb,
                    .threads = after.threads,
                    .cpu_ms = after.cpu_ms - before.cpu_ms,
                    .voluntary_switches =
                        after.voluntary_switches - before.voluntary_switches,
                    .involuntary_switches = after.involuntary_switches -
                                            before.involuntary_switches,
                    .wakeups_by_thread = WakeupsByThread(before, after)};
  printf(
      "  VmRSS %ld kB (anon %ld, file %ld), VmHWM %ld kB, PSS %ld kB, "
      "%ld threads\n"
      "  over %.0f s: CPU %.0f ms, %ld voluntary + %ld involuntary "
      "context switches\n"
      "  wake-ups by thread: %s\n",
      r.rss_kb, r.anon_kb, r.file_kb, r.hwm_kb, r.pss_kb, r.threads, r.idle_s,
      r.cpu_ms, r.voluntary_switches, r.involuntary_switches,
      r.wakeups_by_thread.c_str());
  fflush(stdout);
  return r;
}

absl::StatusOr<FanoutResult> RunFanout(const ScenarioOptions& o,
                                       bool simulated) {
  const size_t n = static_cast<size_t>(o.agents);
  FanoutResult r{.simulated = simulated, .agents = o.agents};
  certfleet::testing::TempDir tmp(simulated ? "bench-fanout-sim"
                                            : "bench-fanout");
  if (o.keep) tmp.Keep();
  RETURN_IF_ERROR(MakeDir(tmp.File("agents")));
  ASSIGN_OR_RETURN(std::unique_ptr<FleetCoordinator> coord,
                   FleetCoordinator::Start(tmp.path()));
  ASSIGN_OR_RETURN(FleetCoordinator::Published v1, coord->PublishVersion());

  // Enroll every agent first: the 0-agent baseline includes enrollment.
  const absl::Time enroll_start = absl::Now();
  AgentFleet fleet({.agent_binary = o.agent_binary,
                    .dir = tmp.File("agents"),
                    .coordinator = coord->address(),
                    .ca_pem = coord->ca_pem(),
                    .health_check = o.health_check,
                    .env = o.agent_env});
  const std::string ids_path = tmp.File("identities.pem");
  if (simulated) {
    std::vector<SimIdentity> ids;
    for (size_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(FleetCoordinator::Identity id,
                       coord->EnrollDirect(absl::StrCat("sim-", i)));
      ids.push_back({id.key_pem, id.cert_pem});
    }
    std::ofstream(ids_path) << FormatIdentities(ids);
    std::ofstream(tmp.File("ca.pem")) << coord->ca_pem();
  } else {
    std::vector<std::string> tokens;
    for (size_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(std::string t, coord->CreateToken());
      tokens.push_back(std::move(t));
    }
    RETURN_IF_ERROR(fleet.Enroll(tokens, 4));
  }
  printf("  %zu agents enrolled in %.1f s\n", n,
         absl::ToDoubleSeconds(absl::Now() - enroll_start));
  fflush(stdout);
  RETURN_IF_ERROR(SleepUnlessInterrupted(absl::Milliseconds(500)));
  SampleSelf(&r.rss0_kb, &r.rss0_trim_kb);

  const absl::Time connect_start = absl::Now();
  ChildGuard loadgen;
  if (simulated) {
    ASSIGN_OR_RETURN(
        loadgen.pid,
        SpawnChild(
            {.argv = {o.loadgen_binary, "--address", coord->address(), "--ca",
                      tmp.File("ca.pem"), "--identities", ids_path},
             .output_path = tmp.File("loadgen.log")}));
  } else {
    RETURN_IF_ERROR(fleet.StartAll());
  }
  // Connected, and the first version installed everywhere.
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (true) {
    absl::StatusOr<absl::Time> ok =
        coord->WaitForOk(v1.version_id, n, absl::Seconds(1));
    if (ok.ok()) break;
    if (Interrupted()) return absl::CancelledError("interrupted");
    if (simulated && WaitChild(loadgen.pid, absl::ZeroDuration()).ok()) {
      loadgen.pid = 0;  // exited and reaped
      return absl::InternalError(
          absl::StrCat("the load generator exited: ",
                       FileTail(tmp.File("loadgen.log"), 1500)));
    }
    if (absl::Now() > deadline) {
      return Annotate(
          ok.status(),
          absl::StrCat(coord->connected(), " connected; ",
                       simulated ? FileTail(tmp.File("loadgen.log"), 800)
                                 : "agent 0: " + fleet.LogTail(0)));
    }
  }
  r.connect_s = absl::ToDoubleSeconds(absl::Now() - connect_start);
  printf("  %zu agents connected and serving %s after %.1f s\n",
         coord->connected(), v1.version_id.c_str(), r.connect_s);
  fflush(stdout);
  RETURN_IF_ERROR(SleepUnlessInterrupted(absl::Seconds(2)));
  SampleSelf(&r.rssn_kb, &r.rssn_trim_kb);
  r.kb_per_agent = static_cast<double>(r.rssn_kb - r.rss0_kb) / o.agents;
  r.kb_per_agent_trim =
      static_cast<double>(r.rssn_trim_kb - r.rss0_trim_kb) / o.agents;
  if (absl::StatusOr<ProcSample> self = SampleProcess(0); self.ok()) {
    r.coordinator_threads = self->threads;
  }
  PrintMemory(r);
  RETURN_IF_ERROR(RunRounds(*coord, o, n, r));
  if (simulated) {
    if (absl::StatusOr<ProcSample> s = SampleProcess(loadgen.pid); s.ok()) {
      r.agents_rss_kb = s->rss_kb;
    }
  } else {
    for (pid_t pid : fleet.pids()) {
      if (absl::StatusOr<ProcSample> s = SampleProcess(pid); s.ok()) {
        r.agents_rss_kb += s->rss_kb;
      }
    }
  }
  printf("  %s RSS: %.1f MB in total (%.1f MB per agent)\n",
         simulated ? "load generator" : "agents", r.agents_rss_kb / 1024.0,
         r.agents_rss_kb / 1024.0 / o.agents);
  fflush(stdout);
  return r;
}

}  // namespace certfleet::bench
