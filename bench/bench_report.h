// Turns the issuance benchmark's raw measurements into the figures the issue
// asks for (certificates/s, ACME requests per certificate, coordinator CPU
// per certificate, peak RSS, the wildcard end-to-end median), prints them as
// tables, checks them against the targets, and renders one JSON line.
//
//   Report report;
//   report.single.push_back(pass);
//   PrintSingleHeader();
//   PrintSingleRow(pass, 16);
//   PrintTargets(report);
//   printf("%s\n", ReportJson(report).c_str());
#ifndef CERTFLEET_BENCH_BENCH_REPORT_H_
#define CERTFLEET_BENCH_BENCH_REPORT_H_

#include <string>
#include <vector>

#include "bench/coordinator_bench.h"
#include "bench/lego_bench.h"

namespace certfleet::bench {

// The targets from the issue.
inline constexpr double kTargetCertsPerSecond = 300;  // at N = 1,000
inline constexpr double kTargetRequestsPerCert = 7.5;
inline constexpr double kTargetCpuMsPerCert = 1.0;
inline constexpr double kTargetWildcardMs = 100;

struct MachineInfo {
  int cpus = 0;           // online CPUs
  std::string cpu_model;  // "model name" from /proc/cpuinfo
};

MachineInfo ReadMachineInfo();
// "/proc/loadavg"'s first three fields: "1.23 0.98 0.75".
std::string LoadAverage();

// Everything one benchmark run measured.
struct Report {
  MachineInfo machine;
  std::string load_before, load_after;
  int concurrency = 16;
  int nonce_reject = 5;
  std::vector<PassResult> single;    // one per (N, repeat)
  std::vector<PassResult> wildcard;  // one per repeat
  std::vector<std::string> stalls;   // runs stopped because Pebble hung
  std::string lego_version;
  std::vector<PeerResult> peers;
};

// Figures derived from one single-name pass.
struct PassFigures {
  double certs_per_s_pass = 0;   // N / the pass's own seconds
  double certs_per_s_wall = 0;   // N / the child's wall time
  double requests_per_cert = 0;  // ACME exchanges / N
  double cpu_ms_per_cert = 0;    // child CPU / N (whole process)
  double peak_rss_mb = 0;
  double pebble_cpu_ms_per_cert = 0;
  double bind_cpu_ms_per_cert = 0;
  // Little's law: pass ms per certificate × orders in flight ≈ how long
  // one order is open; minus its CPU = time spent waiting.
  double order_ms = 0;
  double wait_ms = 0;
  // (coordinator + Pebble + BIND9 CPU) / (wall × CPUs): how busy the
  // machine was with this benchmark (other load not counted).
  double machine_busy = 0;
  // CPU used by everything else on the machine during the pass, as a share
  // of all CPUs: above ~10 % the run was disturbed and should be repeated.
  double other_load = 0;
};
PassFigures Figures(const PassResult& r, int concurrency, int cpus);

// One line of progress on stderr while the benchmark runs.
void PrintProgress(const std::string& what);
// Every table: single-name runs, where their time went, the request mix,
// the wildcard runs, the peers.
void PrintTables(const Report& report);
// Each target, the measured value and MET/MISSED.
void PrintTargets(const Report& report);
// The whole report as one line of JSON.
std::string ReportJson(const Report& report);

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_BENCH_REPORT_H_
