// The coordinator's side of the issuance benchmark: a scratch directory with
// a coordinator configuration (SQLite store, key-encryption key, the lab's
// trust bundle and TSIG secret, limits high enough not to throttle), and
// `certfleet-coordinator serve --once -o json` run as a child process whose
// wall time, CPU and peak RSS come from wait4.
//
// The ACME account is created in a warm-up pass (one certificate), so a
// measured pass times issuance only; the measured pass then adds the
// certificates to the same store and issues just those.
//
//   ASSIGN_OR_RETURN(auto lab, BenchLab::Start({}));
//   ASSIGN_OR_RETURN(PassResult r, MeasureSingleNames(options, *lab, 1000));
//   printf("%.0f certificates/s\n", r.certificates / r.pass_seconds);
#ifndef CERTFLEET_BENCH_COORDINATOR_BENCH_H_
#define CERTFLEET_BENCH_COORDINATOR_BENCH_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/bench_lab.h"
#include "bench/measured_process.h"

namespace certfleet::bench {

struct CoordinatorBenchOptions {
  std::string coordinator_path;  // the certfleet-coordinator binary
  // Scheduler and issuer cap on orders in flight. Pebble 2.4 deadlocks at
  // 16 and (less often) at 8 once it holds ~1,000 authorizations (see
  // docs/benchmarks.md).
  int max_concurrent_orders = 8;
  // Prefix for the measured pass only, e.g. {"perf", "record", "-g", "--"};
  // its rusage then includes the wrapper.
  std::vector<std::string> wrap;
  bool keep_dirs = false;  // leave the scratch directories for inspection
  // A measured pass is stopped (kAborted) when Pebble issues nothing for
  // this long: Pebble 2.4 can deadlock under concurrent orders, after which
  // every POST hangs (see docs/benchmarks.md).
  absl::Duration stall_limit = absl::Seconds(20);
};

// One certificate in the generated configuration.
struct BenchCertificate {
  std::string name;                // "cert-17"
  std::vector<std::string> names;  // {"cert-17.bench.test"}
  std::string key_type = "ec256";
};

// What one coordinator pass did and cost.
struct PassResult {
  int certificates = 0;         // certificates the pass had to issue
  int issued = 0;               // "issued" in the coordinator's JSON
  int failed = 0;               // "failed"
  int stored = 0;               // certificates with a stored version afterwards
  int configured = 0;           // certificates in the configuration
  double pass_seconds = 0;      // "seconds": the issuing pass itself
  uint64_t acme_exchanges = 0;  // "acme_exchanges": ACME HTTP exchanges sent
  MeasuredRun process;          // the child: wall, CPU, peak RSS
  double pebble_cpu_ms = 0;     // Pebble's CPU during the child's life
  double bind_cpu_ms = 0;       // BIND9's CPU during the child's life
  double machine_cpu_ms = 0;    // every process's CPU during the child's life
  // The requests Pebble saw during the pass, by "METHOD /path-prefix/".
  std::map<std::string, int> request_mix;
  std::string first_error;  // first failed certificate's error, if any
  bool ok() const {
    return process.exit_code == 0 && failed == 0 && issued == certificates &&
           stored == configured;
  }
};

// True when `s` says Pebble stopped issuing during a pass (its deadlock).
bool IsPebbleStall(const absl::Status& s);

// A scratch directory holding a coordinator's configuration and store,
// tied to one lab. Passes run against the same store, one after another.
class CoordinatorWorkspace {
 public:
  static absl::StatusOr<std::unique_ptr<CoordinatorWorkspace>> Create(
      const CoordinatorBenchOptions& options, const BenchLab& lab);
  ~CoordinatorWorkspace();

  // (Re)writes coordinator.yaml with exactly these certificates.
  absl::Status WriteConfig(const std::vector<BenchCertificate>& certificates);
  // Runs one `serve --once -o json` pass expected to issue `to_issue`
  // certificates. `measured` applies options.wrap. Errors when the child
  // cannot start or prints no JSON; failed certificates are in the result.
  absl::StatusOr<PassResult> RunPass(int to_issue, bool measured);

  const std::string& dir() const { return dir_; }

 private:
  CoordinatorWorkspace(const CoordinatorBenchOptions& options,
                       const BenchLab& lab)
      : options_(options), lab_(lab) {}
  CoordinatorBenchOptions options_;
  const BenchLab& lab_;
  std::string dir_;
  int pass_count_ = 0;
};

// N certificates cert-1..cert-N.bench.test (ec256) after a one-certificate
// warm-up pass, in a fresh workspace on `lab` (which must be fresh too).
absl::StatusOr<PassResult> MeasureSingleNames(
    const CoordinatorBenchOptions& options, const BenchLab& lab, int n);

// `repeats` passes each issuing one certificate *.bench.test + bench.test
// (ec384) under a fresh certificate name, after a warm-up pass.
absl::StatusOr<std::vector<PassResult>> MeasureWildcard(
    const CoordinatorBenchOptions& options, const BenchLab& lab, int repeats);

}  // namespace certfleet::bench

#endif  // CERTFLEET_BENCH_COORDINATOR_BENCH_H_
