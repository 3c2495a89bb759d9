#include "bench/bench_report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace certfleet::bench {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

double WallMs(const MeasuredRun& r) {
  return absl::ToDoubleMilliseconds(r.wall);
}

// The single-name run at the largest N (the N = 1,000 target), the median
// by certificates/s when repeated; nullptr when there are none.
const PassResult* TargetRun(const Report& report) {
  int largest = 0;
  for (const PassResult& r : report.single)
    largest = std::max(largest, r.certificates);
  std::vector<const PassResult*> runs;
  for (const PassResult& r : report.single) {
    if (r.certificates == largest) runs.push_back(&r);
  }
  if (runs.empty()) return nullptr;
  std::sort(runs.begin(), runs.end(),
            [](const PassResult* a, const PassResult* b) {
              return a->certificates / a->pass_seconds <
                     b->certificates / b->pass_seconds;
            });
  return runs[(runs.size() - 1) / 2];  // an even count: the lower middle
}

const char* Verdict(bool met) { return met ? "MET" : "MISSED"; }

}  // namespace

MachineInfo ReadMachineInfo() {
  MachineInfo m;
  m.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "model name")) {
      m.cpu_model = std::string(
          absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
      break;
    }
  }
  return m;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

PassFigures Figures(const PassResult& r, int concurrency, int cpus) {
  PassFigures f;
  const double n = r.certificates;
  if (n <= 0) return f;
  const double pass_ms = r.pass_seconds * 1e3;
  const double wall_ms = WallMs(r.process);
  f.certs_per_s_pass = r.pass_seconds > 0 ? n / r.pass_seconds : 0;
  f.certs_per_s_wall = wall_ms > 0 ? n * 1e3 / wall_ms : 0;
  f.requests_per_cert = static_cast<double>(r.acme_exchanges) / n;
  f.cpu_ms_per_cert = r.process.cpu_ms / n;
  f.peak_rss_mb = static_cast<double>(r.process.max_rss_kb) / 1024;
  f.pebble_cpu_ms_per_cert = r.pebble_cpu_ms / n;
  f.bind_cpu_ms_per_cert = r.bind_cpu_ms / n;
  f.order_ms = pass_ms / n * std::min<double>(concurrency, n);
  f.wait_ms = f.order_ms - f.cpu_ms_per_cert;
  f.machine_busy = wall_ms > 0 && cpus > 0
                       ? (r.process.cpu_ms + r.pebble_cpu_ms + r.bind_cpu_ms) /
                             (wall_ms * cpus)
                       : 0;
  f.other_load = wall_ms > 0 && cpus > 0
                     ? std::max(0.0, r.machine_cpu_ms - r.process.cpu_ms -
                                         r.pebble_cpu_ms - r.bind_cpu_ms) /
                           (wall_ms * cpus)
                     : 0;
  return f;
}

void PrintProgress(const std::string& what) {
  fprintf(stderr, "[bench] %s\n", what.c_str());
}

namespace {

// "order-plz 1.04, authZ/ 1.06, ...": requests per certificate by kind, in
// the order a client sends them.
std::string MixPerCert(const std::map<std::string, int>& mix, int n) {
  static const char* const kOrder[] = {
      "GET /dir",        "HEAD /nonce-plz",       "POST /sign-me-up",
      "POST /order-plz", "POST /authZ/",          "POST /chalZ/",
      "POST /my-order/", "POST /finalize-order/", "POST /certZ/"};
  std::string out;
  std::map<std::string, int> rest = mix;
  for (const char* k : kOrder) {
    auto it = rest.find(k);
    if (it == rest.end()) continue;
    absl::StrAppend(
        &out, out.empty() ? "" : ", ", k, " ",
        absl::StrFormat("%.2f", it->second / static_cast<double>(n)));
    rest.erase(it);
  }
  for (const auto& [k, v] : rest) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", k, " ",
                    absl::StrFormat("%.2f", v / static_cast<double>(n)));
  }
  return out;
}

void PrintSingle(const Report& report) {
  const int cpus = report.machine.cpus;
  printf(
      "coordinator: N distinct single-name certificates (ec256), all stored "
      "(SQLite), %d orders in flight\n",
      report.concurrency);
  printf("%6s %8s %9s %9s %9s %9s %8s %7s\n", "N", "pass s", "cert/s", "cert/s",
         "ACME req", "CPU ms", "peak", "failed");
  printf("%6s %8s %9s %9s %9s %9s %8s %7s\n", "", "", "(pass)", "(wall)",
         "/cert", "/cert", "RSS MB", "");
  for (const PassResult& r : report.single) {
    const PassFigures f = Figures(r, report.concurrency, cpus);
    printf("%6d %8.3f %9.1f %9.1f %9.2f %9.3f %8.1f %7d\n", r.certificates,
           r.pass_seconds, f.certs_per_s_pass, f.certs_per_s_wall,
           f.requests_per_cert, f.cpu_ms_per_cert, f.peak_rss_mb,
           r.failed + (r.certificates - r.issued));
  }
  printf(
      "\nwhere the time goes (per certificate; order ms = pass ms/cert x "
      "orders in flight)\n");
  printf("%6s %9s %10s %9s %11s %9s %8s %7s\n", "N", "order ms", "coord CPU",
         "waiting", "Pebble CPU", "BIND CPU", "machine", "other");
  printf("%6s %9s %10s %9s %11s %9s %8s %7s\n", "", "", "ms", "ms", "ms", "ms",
         "busy", "load");
  for (const PassResult& r : report.single) {
    const PassFigures f = Figures(r, report.concurrency, cpus);
    printf("%6d %9.1f %10.3f %9.1f %11.2f %9.2f %7.0f%% %6.0f%%\n",
           r.certificates, f.order_ms, f.cpu_ms_per_cert, f.wait_ms,
           f.pebble_cpu_ms_per_cert, f.bind_cpu_ms_per_cert,
           f.machine_busy * 100, f.other_load * 100);
  }
  printf("\nrequests Pebble saw, per certificate:\n");
  for (const PassResult& r : report.single) {
    printf("  N=%d: %s\n", r.certificates,
           MixPerCert(r.request_mix, r.certificates).c_str());
  }
}

void PrintWildcard(const std::vector<PassResult>& runs) {
  printf(
      "\nwildcard + apex (*.bench.test + bench.test, ec384), account "
      "exists:\n");
  std::vector<double> pass, wall;
  for (const PassResult& r : runs) {
    printf(
        "  pass %6.1f ms   process wall %6.1f ms   CPU %6.1f ms   %llu ACME "
        "requests\n",
        r.pass_seconds * 1e3, WallMs(r.process), r.process.cpu_ms,
        static_cast<unsigned long long>(r.acme_exchanges));
    pass.push_back(r.pass_seconds * 1e3);
    wall.push_back(WallMs(r.process));
  }
  printf("  median of %zu: pass %.1f ms, process start to exit %.1f ms\n",
         runs.size(), Median(pass), Median(wall));
}

void PrintPeers(const Report& report) {
  printf("\npeer: %s, one process per single-name certificate (ec256)\n",
         report.lego_version.c_str());
  printf("%6s %9s %8s %9s %9s %10s %10s %10s %7s\n", "N", "parallel", "wall s",
         "cert/s", "ACME req", "CPU ms", "RSS MB", "RSS MB", "failed");
  printf("%6s %9s %8s %9s %9s %10s %10s %10s %7s\n", "", "", "", "", "/cert",
         "/cert", "median", "max", "");
  for (const PeerResult& r : report.peers) {
    const double wall_s = absl::ToDoubleSeconds(r.wall);
    const double n = r.certificates;
    printf("%6d %9d %8.2f %9.2f %9.2f %10.1f %10.1f %10.1f %7d\n",
           r.certificates, r.parallel, wall_s, n / wall_s, r.acme_requests / n,
           r.cpu_ms / n, r.median_rss_kb / 1024.0, r.max_rss_kb / 1024.0,
           r.failed);
  }
  for (const PeerResult& r : report.peers) {
    printf("  %d in parallel, requests per certificate: %s\n", r.parallel,
           MixPerCert(r.request_mix, r.certificates).c_str());
  }
}

}  // namespace

void PrintTables(const Report& report) {
  if (!report.single.empty()) PrintSingle(report);
  if (!report.wildcard.empty()) PrintWildcard(report.wildcard);
  if (!report.peers.empty()) PrintPeers(report);
  for (const std::string& stall : report.stalls) {
    printf("\nstopped and repeated on a fresh lab: %s\n", stall.c_str());
  }
  printf("\n");
  fflush(stdout);
}

void PrintTargets(const Report& report) {
  printf("targets:\n");
  const PassResult* t = TargetRun(report);
  if (t != nullptr) {
    const PassFigures f = Figures(*t, report.concurrency, report.machine.cpus);
    if (f.other_load > 0.10) {
      printf(
          "  WARNING: other processes used %.0f%% of the machine during the "
          "N = %d pass; repeat the run on a quiet machine\n",
          f.other_load * 100, t->certificates);
    }
    printf("  >= %.0f certificates/s at N = %d: %.1f/s  %s\n",
           kTargetCertsPerSecond, t->certificates, f.certs_per_s_pass,
           Verdict(f.certs_per_s_pass >= kTargetCertsPerSecond));
    double worst_requests = 0;
    for (const PassResult& r : report.single) {
      worst_requests = std::max(
          worst_requests, Figures(r, report.concurrency, report.machine.cpus)
                              .requests_per_cert);
    }
    printf("  <= %.1f ACME requests per certificate (worst run): %.2f  %s\n",
           kTargetRequestsPerCert, worst_requests,
           Verdict(worst_requests <= kTargetRequestsPerCert));
    printf(
        "  <= %.1f ms coordinator CPU per certificate at N = %d: %.3f ms  %s\n",
        kTargetCpuMsPerCert, t->certificates, f.cpu_ms_per_cert,
        Verdict(f.cpu_ms_per_cert <= kTargetCpuMsPerCert));
  }
  if (!report.wildcard.empty()) {
    std::vector<double> pass;
    for (const PassResult& r : report.wildcard)
      pass.push_back(r.pass_seconds * 1e3);
    const double median = Median(pass);
    printf(
        "  <= %.0f ms wildcard + apex end to end (median pass): %.1f ms  %s\n",
        kTargetWildcardMs, median, Verdict(median <= kTargetWildcardMs));
  }
  fflush(stdout);
}

std::string ReportJson(const Report& report) {
  nlohmann::json j;
  j["machine"] = {{"cpus", report.machine.cpus},
                  {"model", report.machine.cpu_model}};
  j["load_before"] = report.load_before;
  j["load_after"] = report.load_after;
  j["concurrency"] = report.concurrency;
  j["nonce_reject_percent"] = report.nonce_reject;
  nlohmann::json single = nlohmann::json::array();
  for (const PassResult& r : report.single) {
    const PassFigures f = Figures(r, report.concurrency, report.machine.cpus);
    single.push_back({{"n", r.certificates},
                      {"issued", r.issued},
                      {"failed", r.failed},
                      {"pass_seconds", r.pass_seconds},
                      {"wall_seconds", WallMs(r.process) / 1e3},
                      {"certs_per_second_pass", f.certs_per_s_pass},
                      {"certs_per_second_wall", f.certs_per_s_wall},
                      {"acme_requests", r.acme_exchanges},
                      {"acme_requests_per_cert", f.requests_per_cert},
                      {"cpu_ms", r.process.cpu_ms},
                      {"user_ms", r.process.user_ms},
                      {"system_ms", r.process.system_ms},
                      {"cpu_ms_per_cert", f.cpu_ms_per_cert},
                      {"peak_rss_mb", f.peak_rss_mb},
                      {"pebble_cpu_ms_per_cert", f.pebble_cpu_ms_per_cert},
                      {"bind_cpu_ms_per_cert", f.bind_cpu_ms_per_cert},
                      {"request_mix", r.request_mix},
                      {"order_ms", f.order_ms},
                      {"wait_ms_per_order", f.wait_ms},
                      {"machine_busy", f.machine_busy},
                      {"other_load", f.other_load}});
  }
  j["single_name"] = single;
  nlohmann::json wildcard = nlohmann::json::array();
  std::vector<double> pass, wall;
  for (const PassResult& r : report.wildcard) {
    wildcard.push_back({{"pass_ms", r.pass_seconds * 1e3},
                        {"wall_ms", WallMs(r.process)},
                        {"cpu_ms", r.process.cpu_ms},
                        {"acme_requests", r.acme_exchanges},
                        {"ok", r.ok()}});
    pass.push_back(r.pass_seconds * 1e3);
    wall.push_back(WallMs(r.process));
  }
  j["wildcard"] = {{"runs", wildcard},
                   {"median_pass_ms", Median(pass)},
                   {"median_wall_ms", Median(wall)}};
  nlohmann::json peers = nlohmann::json::array();
  for (const PeerResult& r : report.peers) {
    const double wall_s = absl::ToDoubleSeconds(r.wall);
    peers.push_back(
        {{"client", r.client},
         {"version", report.lego_version},
         {"n", r.certificates},
         {"parallel", r.parallel},
         {"failed", r.failed},
         {"wall_seconds", wall_s},
         {"certs_per_second", r.certificates / wall_s},
         {"cpu_ms_per_cert", r.cpu_ms / r.certificates},
         {"median_rss_mb", r.median_rss_kb / 1024.0},
         {"max_rss_mb", r.max_rss_kb / 1024.0},
         {"acme_requests_per_cert",
          static_cast<double>(r.acme_requests) / r.certificates},
         {"request_mix", r.request_mix},
         {"pebble_cpu_ms_per_cert", r.pebble_cpu_ms / r.certificates},
         {"bind_cpu_ms_per_cert", r.bind_cpu_ms / r.certificates}});
  }
  j["peers"] = peers;
  j["pebble_stalls"] = report.stalls;
  return j.dump();
}

}  // namespace certfleet::bench
