// certfleet-bench-fanout: a new version reaching a whole fleet — issue 12's
// HA fan-out. Three certfleet-coordinator replicas on a 3-member etcd (or,
// with --store sqlite, one coordinator on SQLite) serve N simulated agents
// (certfleet-bench-agent-loadgen, one per coordinator, agent i on
// coordinator i mod 3), all enrolled and serving version 1, issued for real
// by Pebble + BIND9 (bench/fanout_lab.h). Each round asks the leader for a
// renewal (`certfleetctl renew`) and times, from the moment the new version
// is in the store, until every agent has installed it and reported it:
// recorded in the store (HA: a watch of the target states; SQLite: a query
// every 0.1 s) and as the load generators saw it (their last ok result).
// Also: each coordinator's RSS before the agents connect and with all of
// them connected (memory per connected agent), and, on etcd, the writes
// the round cost (the cluster's revision and etcd's own counters, before
// and after).
//
//   certfleet-bench-fanout --coordinator
//   build/coordinator/certfleet-coordinator
//       --ctl build/ctl/certfleetctl
//       --loadgen build/bench/certfleet-bench-agent-loadgen
//       [--store etcd|sqlite] [--agents 10000] [--rounds 1] [--loadgens 3]
//       [--perf DIR]
//       [--timeout 5m] [--max-connecting 64] [--etcd-max-request-bytes N]
//       [--keep]
//
// --perf DIR records the leader with `perf record` from the renewal until
// every agent reported (DIR/perf-<round>.data). --max-connecting paces
// each load generator's first connections (at most N waiting for their
// Welcome): 256 per replica left agents waiting on etcd-backed attaches
// for over 10 s, and they gave up and dialled again. Prints a timeline every
// 2 s, each round's figures, and one JSON line per round. Exit status 1
// when something cannot be measured within its time.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/child_process.h"
#include "bench/failover_lab.h"
#include "bench/fanout_lab.h"
#include "bench/fleet_coordinator.h"
#include "bench/proc_stats.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "coordinator/store/version_id.h"

namespace certfleet::bench {
namespace {

constexpr char kUsage[] =
    "usage: certfleet-bench-fanout --coordinator BIN --ctl BIN --loadgen BIN\n"
    "         [--store etcd|sqlite] [--agents N] [--rounds N] [--perf DIR]\n"
    "         [--timeout DURATION] [--loadgens N] [--max-connecting N]\n"
    "         [--etcd-max-request-bytes N] [--keep]\n";

// Issue 12's target: new version stored → every agent installed, reported.
constexpr absl::Duration kTarget = absl::Seconds(20);

// etcd's counters read before and after a round (one member's: each
// applies every write).
const std::vector<std::string>& EtcdCounters() {
  static const std::vector<std::string>* const names =
      new std::vector<std::string>{
          "etcd_mvcc_put_total",
          "etcd_mvcc_txn_total",
          "etcd_mvcc_delete_total",
          "etcd_mvcc_range_total",
          "etcd_debugging_mvcc_keys_total",
          "etcd_disk_wal_fsync_duration_seconds_count",
          "etcd_disk_backend_commit_duration_seconds_count",
          "etcd_server_proposals_committed_total",
          // What clients sent etcd (writes' values) and read from it.
          "etcd_network_client_grpc_received_bytes_total",
          "etcd_network_client_grpc_sent_bytes_total",
      };
  return *names;
}

struct Flags {
  FanoutLabOptions lab;
  int rounds = 1;
  std::string perf_dir;
  absl::Duration timeout = absl::Minutes(5);
  bool keep = false;
};

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

double CpuSeconds(pid_t pid) {
  absl::StatusOr<ProcSample> s = SampleProcess(pid);
  return s.ok() ? s->cpu_ms / 1000.0 : 0;
}

long RssKb(pid_t pid) {
  absl::StatusOr<ProcSample> s = SampleProcess(pid);
  return s.ok() ? s->rss_kb : 0;
}

// Sum of the load generators' status fields.
struct FleetStatus {
  size_t connected = 0;
  std::vector<size_t> results;  // per load generator
  absl::Time last_result = absl::InfinitePast();
  size_t gave_up = 0;
};

absl::StatusOr<FleetStatus> ReadFleet(FanoutLab& lab) {
  FleetStatus out;
  for (Loadgen& lg : lab.loadgens()) {
    absl::StatusOr<LoadgenStatus> s = lg.Status();
    if (absl::IsFailedPrecondition(s.status())) return s.status();
    if (!s.ok()) {
      out.results.push_back(0);
      continue;
    }
    out.connected += s->connected;
    out.gave_up += s->gave_up;
    out.results.push_back(s->results);
    out.last_result = std::max(out.last_result, s->last_result_at);
  }
  return out;
}

// Until every agent is connected and the store has every one with
// version 1 installed: the fleet's steady state before the rounds.
absl::Status ConnectFleet(FanoutLab& lab, const Flags& f) {
  const absl::Time start = absl::Now();
  RETURN_IF_ERROR(lab.StartAgents());
  const std::string v1 = store::VersionId(kBenchCertificate, 1);
  const size_t n = static_cast<size_t>(f.lab.agents);
  absl::Time next_line = start + absl::Seconds(10);
  absl::Time all_connected = absl::InfinitePast();
  while (true) {
    RETURN_IF_ERROR(lab.CheckRunning());
    ASSIGN_OR_RETURN(const FleetStatus fleet, ReadFleet(lab));
    ASSIGN_OR_RETURN(const FanoutLab::Installed installed,
                     lab.InstalledCount(v1));
    const absl::Time now = absl::Now();
    if (all_connected == absl::InfinitePast() && fleet.connected == n) {
      all_connected = now;
    }
    const bool done = fleet.connected == n && installed.count == f.lab.agents;
    if (now >= next_line || done) {
      printf(
          "  first connections: %zu connected, %d with %s recorded after "
          "%.0f s (load %s)\n",
          fleet.connected, installed.count, v1.c_str(), Seconds(now - start),
          LoadAverage().c_str());
      fflush(stdout);
      next_line += absl::Seconds(10);
    }
    if (done) {
      printf(
          "all %zu agents connected after %.1f s and serving %s after "
          "%.1f s\n",
          n, Seconds(all_connected - start), v1.c_str(), Seconds(now - start));
      return absl::OkStatus();
    }
    if (Interrupted()) return absl::CancelledError("interrupted");
    if (now - start > absl::Minutes(20)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "after 20 min ", fleet.connected, " of ", n, " agents connected, ",
          installed.count, " with ", v1, " recorded"));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

struct RoundResult {
  std::string version_id;
  double issue_s = 0;        // renew → version stored
  double store_all_s = 0;    // stored → every agent's report in the store
  double loadgen_all_s = 0;  // stored → the last agent's ok result
  double all_s = 0;          // the later of the two
  int64_t revisions = -1;    // etcd revision delta, stored → all reported
  int64_t revisions_settled = -1;            // … and 5 s later
  std::map<std::string, double> etcd_delta;  // counters, until all reported
  std::map<std::string, double> coordinator_cpu_s;
  size_t gave_up = 0;
  std::string load_before, load_after;
};

absl::StatusOr<RoundResult> RunRound(FanoutLab& lab, const Flags& f,
                                     int round) {
  const int64_t version = round + 1;
  const size_t n = static_cast<size_t>(f.lab.agents);
  RoundResult r;
  r.version_id = store::VersionId(kBenchCertificate, version);
  r.load_before = LoadAverage();
  const std::string leader = lab.Leader();
  const bool ha = f.lab.ha;
  ASSIGN_OR_RETURN(const FleetStatus before, ReadFleet(lab));
  std::map<std::string, double> cpu_before;
  for (const std::string& c : lab.Coordinators()) {
    cpu_before[c] = CpuSeconds(lab.pid(c));
  }
  int64_t rev_before = 0;
  std::map<std::string, double> etcd_before;
  if (ha) {
    ASSIGN_OR_RETURN(rev_before, lab.EtcdRevision());
    etcd_before = lab.EtcdMetrics(EtcdCounters());
  }
  pid_t perf = 0;
  if (!f.perf_dir.empty()) {
    absl::StatusOr<pid_t> spawned = StartPerfRecord(
        lab.pid(leader), absl::StrCat(f.perf_dir, "/perf-", round, ".data"));
    if (spawned.ok()) {
      perf = *spawned;
    } else {
      fprintf(stderr, "no profile: %s\n", spawned.status().ToString().c_str());
    }
  }
  printf("round %d: certfleetctl renew %s on the leader %s (load %s)\n", round,
         kBenchCertificate, leader.c_str(), r.load_before.c_str());
  fflush(stdout);
  const absl::Time renew = absl::Now();
  if (absl::Status s = lab.Renew(); !s.ok()) {
    StopPerfRecord(perf);
    return s;
  }
  if (absl::Status s = lab.WaitForVersion(version, absl::Minutes(2)); !s.ok()) {
    StopPerfRecord(perf);
    return s;
  }
  const absl::Time stored = absl::Now();
  r.issue_s = Seconds(stored - renew);
  printf(
      "  %s stored %.2f s after the renewal was asked for (issued by "
      "Pebble)\n",
      r.version_id.c_str(), r.issue_s);
  printf("  %6s %10s %10s %10s\n", "t", "recorded", "results", "connected");
  absl::Time next_line = stored + absl::Seconds(2);
  absl::Time store_all = absl::InfinitePast();
  absl::Time loadgen_all = absl::InfinitePast();
  FleetStatus last = before;
  int recorded = 0;
  while (true) {
    const absl::Time now = absl::Now();
    ASSIGN_OR_RETURN(last, ReadFleet(lab));
    size_t results = 0;
    bool every_loadgen = true;
    for (size_t k = 0; k < last.results.size(); ++k) {
      const size_t delta = last.results[k] - before.results[k];
      results += delta;
      if (delta < static_cast<size_t>(lab.agents_of(k))) every_loadgen = false;
    }
    if (loadgen_all == absl::InfinitePast() && every_loadgen) {
      loadgen_all = last.last_result;
    }
    if (store_all == absl::InfinitePast()) {
      ASSIGN_OR_RETURN(const FanoutLab::Installed installed,
                       lab.InstalledCount(r.version_id));
      recorded = installed.count;
      // HA: when the watch saw the last; SQLite: this poll.
      if (recorded == f.lab.agents) store_all = ha ? installed.last : now;
    }
    const bool done = store_all != absl::InfinitePast() &&
                      loadgen_all != absl::InfinitePast();
    if (now >= next_line || done) {
      printf("  %5.1fs %10d %10zu %10zu\n", Seconds(now - stored), recorded,
             results, last.connected);
      fflush(stdout);
      next_line += absl::Seconds(2);
    }
    if (done) break;
    if (Interrupted() || now - stored > f.timeout) {
      StopPerfRecord(perf);
      return absl::DeadlineExceededError(absl::StrCat(
          "round ", round, ": after ", absl::FormatDuration(f.timeout), " ",
          recorded, " of ", n, " agents recorded with ", r.version_id, ", ",
          results, " results sent"));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (ha) {
    ASSIGN_OR_RETURN(const int64_t rev_done, lab.EtcdRevision());
    r.revisions = rev_done - rev_before;
    const std::map<std::string, double> etcd_after =
        lab.EtcdMetrics(EtcdCounters());
    for (const auto& [name, v] : etcd_after) {
      r.etcd_delta[name] = v < 0 ? -1 : v - etcd_before[name];
    }
  }
  for (const std::string& c : lab.Coordinators()) {
    r.coordinator_cpu_s[c] = CpuSeconds(lab.pid(c)) - cpu_before[c];
  }
  StopPerfRecord(perf);
  r.store_all_s = Seconds(store_all - stored);
  r.loadgen_all_s = Seconds(loadgen_all - stored);
  r.all_s = std::max(r.store_all_s, r.loadgen_all_s);
  r.gave_up = last.gave_up - before.gave_up;
  r.load_after = LoadAverage();
  if (ha) {
    // What the round still writes once every agent reported (the
    // rollout's last steps, late reports).
    absl::SleepFor(absl::Seconds(5));
    ASSIGN_OR_RETURN(const int64_t rev_settled, lab.EtcdRevision());
    r.revisions_settled = rev_settled - rev_before;
  }
  printf(
      "  %s: every agent installed and reported it %.2f s after it was "
      "stored (store %.2f s, load generators %.2f s); target %.0f s: %s\n",
      r.version_id.c_str(), r.all_s, r.store_all_s, r.loadgen_all_s,
      Seconds(kTarget), r.all_s <= Seconds(kTarget) ? "met" : "MISSED");
  std::string cpu;
  for (const auto& [c, s] : r.coordinator_cpu_s) {
    absl::StrAppend(&cpu, cpu.empty() ? "" : ", ", c, " ",
                    absl::StrFormat("%.1f", s), " s");
  }
  printf(
      "  coordinator CPU over the round: %s; agents that gave a stream up: "
      "%zu\n",
      cpu.c_str(), r.gave_up);
  if (ha) {
    printf(
        "  etcd: %lld write revisions until all reported (%.2f per agent), "
        "%lld 5 s later (%.2f per agent)\n",
        static_cast<long long>(r.revisions),
        static_cast<double>(r.revisions) / n,
        static_cast<long long>(r.revisions_settled),
        static_cast<double>(r.revisions_settled) / n);
    for (const auto& [name, d] : r.etcd_delta) {
      printf("    %-50s %10.0f  (%.2f per agent)\n", name.c_str(), d,
             d < 0 ? -1.0 : d / n);
    }
  }
  printf("  load average before %s, after %s\n", r.load_before.c_str(),
         r.load_after.c_str());
  std::string etcd_json;
  for (const auto& [name, d] : r.etcd_delta) {
    absl::StrAppend(&etcd_json, etcd_json.empty() ? "" : ",", "\"", name,
                    "\":", absl::StrFormat("%.0f", d));
  }
  std::string cpu_json;
  for (const auto& [c, s] : r.coordinator_cpu_s) {
    absl::StrAppend(&cpu_json, cpu_json.empty() ? "" : ",", "\"", c,
                    "\":", absl::StrFormat("%.2f", s));
  }
  printf(
      "{\"round\":%d,\"store\":\"%s\",\"agents\":%zu,\"version\":\"%s\","
      "\"issue_s\":%.3f,\"all_s\":%.3f,\"store_all_s\":%.3f,"
      "\"loadgen_all_s\":%.3f,\"target_s\":%.0f,\"etcd_revisions\":%lld,"
      "\"etcd_revisions_settled\":%lld,\"etcd\":{%s},\"coordinator_cpu_s\":{%s}"
      ","
      "\"gave_up\":%zu,\"load_before\":\"%s\",\"load_after\":\"%s\"}\n",
      round, ha ? "etcd" : "sqlite", n, r.version_id.c_str(), r.issue_s,
      r.all_s, r.store_all_s, r.loadgen_all_s, Seconds(kTarget),
      static_cast<long long>(r.revisions),
      static_cast<long long>(r.revisions_settled), etcd_json.c_str(),
      cpu_json.c_str(), r.gave_up, r.load_before.c_str(), r.load_after.c_str());
  fflush(stdout);
  return r;
}

absl::Status Run(const Flags& f) {
  printf(
      "preparing: %s, %d agents enrolled into the store (load %s)\n",
      f.lab.ha ? "3 replicas on a 3-member etcd" : "one coordinator on SQLite",
      f.lab.agents, LoadAverage().c_str());
  fflush(stdout);
  const absl::Time prepare = absl::Now();
  ASSIGN_OR_RETURN(std::unique_ptr<FanoutLab> lab, FanoutLab::Start(f.lab));
  if (f.keep) lab->KeepDir();
  printf("coordinators up after %.1f s; files in %s\n",
         Seconds(absl::Now() - prepare), lab->dir().c_str());
  fflush(stdout);
  auto fail = [&](const absl::Status& s) {
    lab->KeepDir();
    return absl::Status(
        s.code(), absl::StrCat(s.message(), " (files in ", lab->dir(), ")"));
  };
  const absl::Time started = absl::Now();
  if (absl::Status s = lab->WaitForVersion(1, absl::Minutes(3)); !s.ok()) {
    return fail(s);
  }
  printf(
      "%s issued by the leader %s (Pebble) %.1f s after the "
      "coordinators were up\n",
      store::VersionId(kBenchCertificate, 1).c_str(), lab->Leader().c_str(),
      Seconds(absl::Now() - started));
  std::map<std::string, long> rss_idle;
  for (const std::string& c : lab->Coordinators()) {
    rss_idle[c] = RssKb(lab->pid(c));
  }
  if (absl::Status s = lab->WatchInstalls(); !s.ok()) return fail(s);
  if (absl::Status s = ConnectFleet(*lab, f); !s.ok()) return fail(s);
  // The first bundles' answers written, RSS settled.
  absl::SleepFor(absl::Seconds(5));
  printf(
      "coordinator memory (RSS), before the agents connected → with all "
      "connected:\n");
  std::string memory_json;
  const std::vector<std::string> names = lab->Coordinators();
  for (size_t k = 0; k < names.size(); ++k) {
    const long now = RssKb(lab->pid(names[k]));
    const int agents = lab->agents_on(names[k]);
    const double per_agent =
        static_cast<double>(now - rss_idle[names[k]]) / agents;
    printf("  %-12s %8.1f MB → %8.1f MB for %d agents: %.1f KB per agent\n",
           names[k].c_str(), rss_idle[names[k]] / 1024.0, now / 1024.0, agents,
           per_agent);
    absl::StrAppend(&memory_json, memory_json.empty() ? "" : ",", "\"",
                    names[k], "\":{\"idle_kb\":", rss_idle[names[k]],
                    ",\"connected_kb\":", now, ",\"agents\":", agents,
                    ",\"kb_per_agent\":", absl::StrFormat("%.1f", per_agent),
                    "}");
  }
  for (size_t k = 0; k < lab->loadgens().size(); ++k) {
    printf("  load generator %zu: %.0f MB\n", k,
           RssKb(lab->loadgens()[k].pid()) / 1024.0);
  }
  printf("{\"memory\":{%s}}\n", memory_json.c_str());
  fflush(stdout);
  if (f.lab.ha) {
    // What the cluster writes with nothing happening (presence, replicas):
    // the background under each round's count.
    ASSIGN_OR_RETURN(const int64_t a, lab->EtcdRevision());
    absl::SleepFor(absl::Seconds(5));
    ASSIGN_OR_RETURN(const int64_t b, lab->EtcdRevision());
    printf("etcd idle: %lld write revisions in 5 s\n",
           static_cast<long long>(b - a));
  }
  for (int round = 1; round <= f.rounds; ++round) {
    absl::StatusOr<RoundResult> r = RunRound(*lab, f, round);
    if (!r.ok()) return fail(r.status());
    absl::SleepFor(absl::Seconds(5));
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
    } else if (arg == "--ctl") {
      f.lab.ctl = value;
    } else if (arg == "--loadgen") {
      f.lab.loadgen = value;
    } else if (arg == "--store") {
      ok = value == "etcd" || value == "sqlite";
      f.lab.ha = value == "etcd";
    } else if (arg == "--agents") {
      ok = absl::SimpleAtoi(value, &f.lab.agents) && f.lab.agents > 0;
    } else if (arg == "--loadgens") {
      ok = absl::SimpleAtoi(value, &f.lab.loadgens) && f.lab.loadgens > 0;
    } else if (arg == "--max-connecting") {
      ok = absl::SimpleAtoi(value, &f.lab.max_connecting) &&
           f.lab.max_connecting > 0;
    } else if (arg == "--rounds") {
      ok = absl::SimpleAtoi(value, &f.rounds) && f.rounds > 0;
    } else if (arg == "--timeout") {
      ok = absl::ParseDuration(value, &f.timeout);
    } else if (arg == "--etcd-max-request-bytes") {
      ok = absl::SimpleAtoi(value, &f.lab.etcd_max_request_bytes) &&
           f.lab.etcd_max_request_bytes > 0;
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
  if (f.lab.coordinator.empty() || f.lab.ctl.empty() || f.lab.loadgen.empty()) {
    fprintf(stderr, "%s", kUsage);
    return 2;
  }
  // N streams need N descriptors in the coordinators and the load
  // generators; they inherit this limit.
  RaiseFileLimit();
  signal(SIGPIPE, SIG_IGN);
  InstallInterruptHandler();
  // The enrollment's own lines (10,000 of them) say nothing.
  SetLogLevel(LogLevel::kWarning);
  if (absl::Status s = Run(f); !s.ok()) {
    fprintf(stderr, "certfleet-bench-fanout: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace certfleet::bench

int main(int argc, char** argv) { return certfleet::bench::Main(argc, argv); }
