#include "bench/lego_bench.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/measured_process.h"
#include "tests/harness/server_process.h"

namespace certfleet::bench {
namespace {

// One lego run issuing `domain` into `path` against `lab`.
MeasuredSpec LegoSpec(const std::string& lego, const BenchLab& lab,
                      const std::string& path, const std::string& domain,
                      const std::string& log_base) {
  MeasuredSpec spec{
      .argv = {lego, "--server", lab.directory_url(), "--accept-tos", "--email",
               "bench@bench.test", "--dns", "rfc2136", "--dns.resolvers",
               lab.dns_address(), "--dns.disable-cp", "--path", path,
               "--domains", domain, "run"},
      .env = {{"LEGO_CA_CERTIFICATES", lab.ca_bundle_path()},
              {"RFC2136_NAMESERVER", lab.dns_address()},
              {"RFC2136_TSIG_KEY", lab.tsig_key_name() + "."},
              {"RFC2136_TSIG_SECRET", lab.tsig_secret()},
              {"RFC2136_TSIG_ALGORITHM", "hmac-sha256."},
              // Seconds (lego's smallest unit): poll the record every
              // second, give up after 30 s.
              {"RFC2136_PROPAGATION_TIMEOUT", "30"},
              {"RFC2136_POLLING_INTERVAL", "1"},
              {"RFC2136_TTL", "60"}},
      .stdout_path = log_base + ".out",
      .stderr_path = log_base + ".log",
      .timeout = absl::Seconds(120)};
  return spec;
}

}  // namespace

absl::StatusOr<std::string> LegoPath() { return harness::FindProgram("lego"); }

std::string LegoVersion() {
  absl::StatusOr<std::string> lego = LegoPath();
  if (!lego.ok()) return "not installed";
  absl::StatusOr<std::string> out = harness::RunTool({*lego, "--version"});
  if (!out.ok()) return "unknown";
  std::vector<std::string> lines = absl::StrSplit(*out, '\n');
  return lines.empty() ? "unknown" : lines[0];
}

absl::StatusOr<PeerResult> MeasureLego(const BenchLab& lab,
                                       const PeerOptions& options) {
  absl::StatusOr<std::string> lego = LegoPath();
  if (!lego.ok()) return lego.status();
  char tmpl[] = "/tmp/certfleet-bench-lego-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  const std::string dir = tmpl;
  const std::string path = dir + "/lego";

  // Warm-up: registers the account under `path`; later runs reuse it.
  absl::StatusOr<MeasuredRun> warm = RunMeasured(
      LegoSpec(*lego, lab, path, absl::StrCat("peer-warm-up.", kBenchZone),
               dir + "/warm-up"));
  if (!warm.ok()) return warm.status();
  if (warm->exit_code != 0) {
    return absl::InternalError(absl::StrCat("lego warm-up run failed (exit ",
                                            warm->exit_code, "):\n",
                                            FileTail(dir + "/warm-up.log")));
  }

  PeerResult result{.client = "lego",
                    .certificates = options.n,
                    .parallel = std::max(1, options.parallel)};
  std::mutex mu;
  std::vector<long> rss;
  absl::Status spawn_error;
  auto worker = [&](int w) {
    for (int i = w; i < options.n; i += result.parallel) {
      const std::string domain = absl::StrCat("peer-", i + 1, ".", kBenchZone);
      absl::StatusOr<MeasuredRun> run = RunMeasured(LegoSpec(
          *lego, lab, path, domain, absl::StrCat(dir, "/run-", i + 1)));
      std::lock_guard<std::mutex> lock(mu);
      if (!run.ok()) {
        if (spawn_error.ok()) spawn_error = run.status();
        return;
      }
      rss.push_back(run->max_rss_kb);
      result.cpu_ms += run->cpu_ms;
      if (run->exit_code != 0) {
        ++result.failed;
        if (result.first_error.empty()) {
          result.first_error = absl::StrCat(
              domain, " (exit ", run->exit_code,
              "): ", FileTail(absl::StrCat(dir, "/run-", i + 1, ".log"), 600));
        }
      }
    }
  };
  const double pebble_before = lab.PebbleCpuMs();
  const double bind_before = lab.BindCpuMs();
  const size_t log_before = lab.PebbleLogSize();
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int w = 0; w < result.parallel; ++w) workers.emplace_back(worker, w);
  for (std::thread& t : workers) t.join();
  result.wall = absl::Now() - start;
  result.pebble_cpu_ms = lab.PebbleCpuMs() - pebble_before;
  result.bind_cpu_ms = lab.BindCpuMs() - bind_before;
  result.request_mix = lab.RequestMix(log_before);
  for (const auto& [request, count] : result.request_mix) {
    result.acme_requests += count;
  }
  if (!options.keep_dirs) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  if (!spawn_error.ok()) return spawn_error;
  if (!rss.empty()) {
    std::sort(rss.begin(), rss.end());
    result.max_rss_kb = rss.back();
    result.median_rss_kb = rss[rss.size() / 2];
  }
  return result;
}

}  // namespace certfleet::bench
