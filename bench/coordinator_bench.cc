#include "bench/coordinator_bench.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace certfleet::bench {
namespace {

// Limits far above what Pebble on two cores can take, so the coordinator's
// rate limiter never decides the result; concurrency stays at the cap that
// Pebble 2.4 survives (it deadlocks at 32+ concurrent orders).
constexpr char kIssuerLimits[] =
    "    limits:\n"
    "      max_concurrent_orders: {MAX}\n"
    "      requests_per_second: 100000\n"
    "      new_nonce_per_second: 100000\n"
    "      new_orders_per_window: 0\n";

constexpr char kStallMessage[] = "Pebble issued no certificate";

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// Fills `result` from the coordinator's `-o json` output.
absl::Status ParsePassJson(const std::string& text, PassResult& result) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    result.issued = j.at("issued").get<int>();
    result.failed = j.at("failed").get<int>();
    result.pass_seconds = j.at("seconds").get<double>();
    result.acme_exchanges = j.at("acme_exchanges").get<uint64_t>();
    for (const nlohmann::json& c : j.at("certificates")) {
      ++result.configured;
      if (c.at("version").get<int64_t>() > 0) ++result.stored;
    }
    for (const nlohmann::json& a : j.at("attempted")) {
      if (!a.at("ok").get<bool>() && result.first_error.empty()) {
        result.first_error =
            absl::StrCat(a.at("certificate").get<std::string>(), ": ",
                         a.at("error").get<std::string>());
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(
        absl::StrCat("coordinator JSON output unreadable: ", e.what()));
  }
  return absl::OkStatus();
}

std::vector<BenchCertificate> SingleNames(int first, int count) {
  std::vector<BenchCertificate> certs;
  for (int i = first; i < first + count; ++i) {
    certs.push_back({.name = absl::StrCat("cert-", i),
                     .names = {absl::StrCat("cert-", i, ".", kBenchZone)}});
  }
  return certs;
}

absl::Status CheckWarmUp(const PassResult& r, const CoordinatorWorkspace& ws) {
  if (r.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(
      "warm-up pass failed (exit ", r.process.exit_code, "): ", r.first_error,
      "\n", FileTail(ws.dir() + "/pass-1.log")));
}

}  // namespace

bool IsPebbleStall(const absl::Status& s) {
  return absl::IsAborted(s) && absl::StrContains(s.message(), kStallMessage);
}

absl::StatusOr<std::unique_ptr<CoordinatorWorkspace>>
CoordinatorWorkspace::Create(const CoordinatorBenchOptions& options,
                             const BenchLab& lab) {
  std::unique_ptr<CoordinatorWorkspace> ws(
      new CoordinatorWorkspace(options, lab));
  char tmpl[] = "/tmp/certfleet-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  ws->dir_ = tmpl;
  return ws;
}

CoordinatorWorkspace::~CoordinatorWorkspace() {
  if (!dir_.empty() && !options_.keep_dirs) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

absl::Status CoordinatorWorkspace::WriteConfig(
    const std::vector<BenchCertificate>& certificates) {
  std::string limits = kIssuerLimits;
  limits.replace(limits.find("{MAX}"), 5,
                 absl::StrCat(options_.max_concurrent_orders));
  std::string yaml = absl::StrCat(
      "store:\n  type: sqlite\n  path: ", dir_, "/coordinator.db\n",
      "key_encryption_key_file: ", dir_, "/kek\n",
      "scheduler:\n  max_concurrent_orders: ", options_.max_concurrent_orders,
      "\n", lab_.IssuanceConfig(limits), "certificates:\n");
  for (const BenchCertificate& c : certificates) {
    std::vector<std::string> names;
    for (const std::string& n : c.names) names.push_back(Quoted(n));
    absl::StrAppend(&yaml, "  - name: ", c.name, "\n    names: [",
                    absl::StrJoin(names, ", "), "]\n    key_type: ", c.key_type,
                    "\n    issuer: pebble\n");
  }
  return WriteText(dir_ + "/coordinator.yaml", yaml);
}

absl::StatusOr<PassResult> CoordinatorWorkspace::RunPass(int to_issue,
                                                         bool measured) {
  ++pass_count_;
  const std::string base = absl::StrCat(dir_, "/pass-", pass_count_);
  MeasuredSpec spec{
      .stdout_path = base + ".json",
      .stderr_path = base + ".log",
      .working_dir = dir_,
      .timeout = absl::Seconds(60) + to_issue * absl::Milliseconds(100)};
  size_t watched = lab_.PebbleLogSize();
  absl::Time last_issue = absl::Now();
  int issued_seen = 0;
  spec.stalled = [&] {
    const int issued = lab_.CountIssued(&watched);
    issued_seen += issued;
    if (issued > 0) last_issue = absl::Now();
    return absl::Now() - last_issue > options_.stall_limit;
  };
  if (measured) spec.argv = options_.wrap;
  spec.argv.insert(spec.argv.end(),
                   {options_.coordinator_path, "serve", "--config",
                    dir_ + "/coordinator.yaml", "--once", "-o", "json"});

  PassResult result;
  result.certificates = to_issue;
  const double pebble_before = lab_.PebbleCpuMs();
  const double bind_before = lab_.BindCpuMs();
  const size_t log_before = lab_.PebbleLogSize();
  const double machine_before = MachineBusyMs();
  absl::StatusOr<MeasuredRun> run = RunMeasured(spec);
  if (!run.ok()) return run.status();
  result.process = *run;
  result.pebble_cpu_ms = lab_.PebbleCpuMs() - pebble_before;
  result.bind_cpu_ms = lab_.BindCpuMs() - bind_before;
  result.machine_cpu_ms = MachineBusyMs() - machine_before;
  result.request_mix = lab_.RequestMix(log_before);
  if (run->stalled) {
    return absl::AbortedError(absl::StrCat(
        kStallMessage, " for ", absl::FormatDuration(options_.stall_limit),
        " after issuing ", issued_seen, " of ", to_issue,
        " (Pebble 2.4's lock-order deadlock: every POST hangs); pass stopped"));
  }
  if (run->timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("coordinator pass did not finish in ",
                     absl::FormatDuration(spec.timeout), "; log tail:\n",
                     FileTail(spec.stderr_path), "\n", lab_.LogTails()));
  }
  absl::StatusOr<std::string> out = ReadWholeFile(spec.stdout_path);
  if (!out.ok()) return out.status();
  if (absl::Status s = ParsePassJson(*out, result); !s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat(s.message(), " (exit ", run->exit_code,
                               "); log tail:\n", FileTail(spec.stderr_path)));
  }
  return result;
}

absl::StatusOr<PassResult> MeasureSingleNames(
    const CoordinatorBenchOptions& options, const BenchLab& lab, int n) {
  absl::StatusOr<std::unique_ptr<CoordinatorWorkspace>> ws =
      CoordinatorWorkspace::Create(options, lab);
  if (!ws.ok()) return ws.status();
  // Warm-up: registers the ACME account and fills the store's schema.
  const BenchCertificate warm{.name = "warm-up",
                              .names = {absl::StrCat("warm-up.", kBenchZone)}};
  if (absl::Status s = (*ws)->WriteConfig({warm}); !s.ok()) return s;
  absl::StatusOr<PassResult> warm_result = (*ws)->RunPass(1, false);
  if (!warm_result.ok()) return warm_result.status();
  if (absl::Status s = CheckWarmUp(*warm_result, **ws); !s.ok()) return s;

  std::vector<BenchCertificate> certs = SingleNames(1, n);
  certs.insert(certs.begin(), warm);
  if (absl::Status s = (*ws)->WriteConfig(certs); !s.ok()) return s;
  return (*ws)->RunPass(n, true);
}

absl::StatusOr<std::vector<PassResult>> MeasureWildcard(
    const CoordinatorBenchOptions& options, const BenchLab& lab, int repeats) {
  absl::StatusOr<std::unique_ptr<CoordinatorWorkspace>> ws =
      CoordinatorWorkspace::Create(options, lab);
  if (!ws.ok()) return ws.status();
  std::vector<BenchCertificate> certs = {
      {.name = "warm-up", .names = {absl::StrCat("warm-up.", kBenchZone)}}};
  if (absl::Status s = (*ws)->WriteConfig(certs); !s.ok()) return s;
  absl::StatusOr<PassResult> warm_result = (*ws)->RunPass(1, false);
  if (!warm_result.ok()) return warm_result.status();
  if (absl::Status s = CheckWarmUp(*warm_result, **ws); !s.ok()) return s;

  std::vector<PassResult> results;
  for (int i = 1; i <= repeats; ++i) {
    certs.push_back({.name = absl::StrCat("wildcard-", i),
                     .names = {absl::StrCat("*.", kBenchZone), kBenchZone},
                     .key_type = "ec384"});
    if (absl::Status s = (*ws)->WriteConfig(certs); !s.ok()) return s;
    absl::StatusOr<PassResult> r = (*ws)->RunPass(1, true);
    if (!r.ok()) return r.status();
    results.push_back(*r);
  }
  return results;
}

}  // namespace certfleet::bench
