// The peer beside the coordinator: lego (go-acme/lego, the CLI) issuing
// single-name certificates against the same kind of lab, through its
// rfc2136 DNS provider, one lego process per certificate. Sequential, or
// `parallel` workers each running their share one after another. The ACME
// account is registered by an untimed warm-up run first, as for the
// coordinator. Each process's wall time, CPU and peak RSS come from wait4.
//
//   if (LegoPath().ok()) {
//     ASSIGN_OR_RETURN(auto lab, BenchLab::Start({}));
//     ASSIGN_OR_RETURN(PeerResult r, MeasureLego(*lab, {.n = 20, .parallel =
//     4}));
//   }
#ifndef CERTFLEET_BENCH_LEGO_BENCH_H_
#define CERTFLEET_BENCH_LEGO_BENCH_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/bench_lab.h"

namespace certfleet::bench {

struct PeerOptions {
  int n = 20;        // certificates to issue (one lego process each)
  int parallel = 1;  // lego processes running at once
  bool keep_dirs = false;
};

// How a peer client did on n certificates.
struct PeerResult {
  std::string client;  // "lego"
  int certificates = 0;
  int parallel = 1;
  int failed = 0;            // processes that exited non-zero
  absl::Duration wall;       // first start → last exit
  double cpu_ms = 0;         // all processes together (user + system)
  long max_rss_kb = 0;       // the largest peak RSS of one process
  long median_rss_kb = 0;    // the median process's peak RSS
  double pebble_cpu_ms = 0;  // Pebble's CPU during the timed runs
  double bind_cpu_ms = 0;    // BIND9's CPU during the timed runs
  int acme_requests = 0;     // requests Pebble saw during the timed runs
  std::map<std::string, int> request_mix;  // those, by "METHOD /path/"
  std::string first_error;                 // the first failure's log tail
};

// lego's path on PATH, or kNotFound.
absl::StatusOr<std::string> LegoPath();

// `lego --version`'s first line ("lego version dev linux/amd64").
std::string LegoVersion();

// Issues options.n certificates peer-<i>.bench.test with lego on `lab`
// (fresh), after one warm-up run that registers the account.
absl::StatusOr<PeerResult> MeasureLego(const BenchLab& lab,
                                       const PeerOptions& options);

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_LEGO_BENCH_H_
